"""Short questions in a conversation: is the right passage found first?

A short question after an earlier one is either a follow-up ("And how much does it cost?", which
needs the earlier question to mean anything) or a new topic ("How much is the Business plan?",
which the earlier question only muddies). The data set is hand-written for this benchmark,
`bench/data/followups.jsonl`: 12 follow-ups and 12 topic switches of at most 8 words, in English,
Spanish, German and Swedish, each after one earlier question, with the document that answers it.
No model runs: retrieval only, over the packaged sample knowledge base, with the real retriever.

Queries compared, in one run on the same retriever:
- alone: the question as asked;
- joined: the earlier question and the question together (Parley before session 8, for every
  question of at most 8 words);
- Parley: `nlp.history.retrieve` as shipped (both searches; the one whose best passage scores
  higher wins).

Prints, per kind, how often the first passage is from the right document, and the mean search
time. `--answers` also runs each conversation through the shipped answerer (the earlier
question answered first, then the short one with that history; the offline model, minutes on a
CPU) and counts answers citing the right document, and escalations; `--save FILE` writes them.

Run: python bench/bench_followups.py [--answers [--save answers.jsonl]]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

from bot.settings import Settings
from bot.types import Turn
from nlp.history import retrieve, search_query
from retrieval.factory import build_retriever, ensure_sample_knowledge_base

DATA = Path(__file__).parent / "data" / "followups.jsonl"


def conversations(
    settings: Settings, retriever: Any, items: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Each conversation through the shipped answerer: the earlier question, then the short one."""
    from nlp.answering import build_answerer
    from nlp.inference import InferenceOptions, configure_inference

    configure_inference(InferenceOptions.from_settings(settings))
    answerer = build_answerer(settings, retriever=retriever)
    rows = []
    for item in items:
        first = answerer.answer(item["prev"], language=item["lang"])
        history = [Turn("user", item["prev"]), Turn("assistant", first.text)]
        draft = answerer.answer(item["q"], history=history, language=item["lang"])
        cited = [c.doc_id for c in draft.citations]
        row = {"id": item["id"], "kind": item["kind"], "action": draft.action,
               "right_doc": draft.action == "answer" and item["doc"] in cited,
               "confidence": draft.confidence, "text": draft.text}  # fmt: skip
        print(f"{item['id']:24} {draft.action:8} {draft.confidence:.2f} cites={cited} "
              f"{draft.text[:110]!r}", flush=True)  # fmt: skip
        rows.append(row)
    print("| kind | answered citing the right document | answered citing another | escalated |")
    print("|---|---|---|---|")
    for kind in ("follow-up", "new topic"):
        mine = [r for r in rows if r["kind"] == kind]
        right = sum(r["right_doc"] for r in mine)
        escalated = sum(r["action"] != "answer" for r in mine)
        print(f"| {kind} | {right}/{len(mine)} | {len(mine) - right - escalated} | {escalated} |")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--answers", action="store_true", help="Also answer each conversation.")
    parser.add_argument("--save", type=Path, help="With --answers: write the answers (JSONL).")
    args = parser.parse_args()
    items = [json.loads(x) for x in DATA.read_text("utf-8").splitlines() if x.strip()]
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp))
        ensure_sample_knowledge_base(settings)
        retriever = build_retriever(settings)
        k = settings.search_k

        def alone(item: dict[str, Any], history: list[Turn]) -> list[Any]:
            return retriever.search(item["q"], k=k, language=item["lang"])

        def joined(item: dict[str, Any], history: list[Turn]) -> list[Any]:
            query = search_query(item["q"], history)
            return retriever.search(query, k=k, language=item["lang"])

        def parley(item: dict[str, Any], history: list[Turn]) -> list[Any]:
            return retrieve(retriever, item["q"], history, k=k, language=item["lang"])[0]

        strategies = {"alone": alone, "joined": joined, "Parley": parley}
        alone(items[0], [])  # warm the embedder
        rows: dict[str, dict[str, list[bool]]] = {name: {} for name in strategies}
        seconds: dict[str, float] = dict.fromkeys(strategies, 0.0)
        for item in items:
            history = [Turn("user", item["prev"]), Turn("assistant", "...")]
            verdicts = []
            for name, strategy in strategies.items():
                started = time.perf_counter()
                hits = strategy(item, history)
                seconds[name] += time.perf_counter() - started
                right = bool(hits) and hits[0].doc_id == item["doc"]
                rows[name].setdefault(item["kind"], []).append(right)
                verdicts.append(f"{name}={'ok' if right else hits[0].doc_id if hits else '-'}")
            print(f"{item['id']:24} " + " ".join(verdicts), flush=True)
        print(f"\n{len(items)} short questions after an earlier one (bench/data/followups.jsonl)")
        print("| query | follow-ups right first | topic switches right first | all | ms/question |")
        print("|---|---|---|---|---|")
        for name, kinds in rows.items():
            cells = [f"{sum(v)}/{len(v)}" for v in (kinds["follow-up"], kinds["new topic"])]
            total = sum(sum(v) for v in kinds.values())
            ms = 1000 * seconds[name] / len(items)
            print(f"| {name} | {cells[0]} | {cells[1]} | {total}/{len(items)} | {ms:.0f} |")
        if args.answers:
            print()
            answered = conversations(settings, retriever, items)
            if args.save:
                args.save.write_text(
                    "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in answered)
                )


if __name__ == "__main__":
    main()
