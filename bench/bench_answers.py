"""Answer quality of the offline default on the packaged sample knowledge base.

The eval set is small and hand-written for this benchmark: `bench/data/answers_eval.jsonl` (21
questions over the sample KB in English, Spanish, German and Swedish, each with the key facts an
answer must state (any spelling in a group counts) and the doc_id it should cite, plus 7
off-topic or unanswerable questions that must escalate) and `answers_eval_extra.jsonl` (64 more
answerable, 16 each in the four languages, and 16 more that must escalate). It is not a public
benchmark. `answers_eval_howto.jsonl` (18 "how do I ..." questions, run with `--eval`) checks
how answers read: besides the metrics, each run prints how many answers copy a Markdown heading,
break a line mid-sentence or end mid-sentence, and their length (`shape`).

Every question is drafted (gates off) so each variant's confidences and top retrieval scores are
recorded; the gates (`min_retrieval_score`, `confidence_threshold`) are then applied as the
answerer applies them. Variants, all on the same model, retriever and questions in one run:
- current: the prompt, passage count (5), confidence formula and gates (none; threshold 0.5)
  before this benchmark existed (`answers_legacy.py`), on the same (rewritten) sample KB;
- improved: `nlp.answering.build_answerer(settings)` as shipped, with the settings' defaults;
- plain: plain transformers `generate`, minimal prompt (top 3 passages + question), no gates.

Run: python bench/bench_answers.py [--limit N] [--only ID,...] [--variant improved,current,plain]
     [--eval answers_eval.jsonl] [--save verdicts.jsonl]
(the inference backend comes from the settings, as in the runtime: e.g. PARLEY_INFERENCE_BACKEND;
two saved runs on different backends are compared question by question by compare_answers.py)
"""

from __future__ import annotations

import argparse
import json
import re
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from answers_legacy import LegacyDrafter, legacy_scoring

from bot.settings import Settings
from nlp.answering import RetrievalAnswerer, build_answerer
from nlp.inference import InferenceOptions, configure_inference
from nlp.langid import LinguaDetector
from nlp.loading import load_causal_lm
from nlp.prompts import is_refusal, passage_support
from retrieval.factory import build_retriever, ensure_sample_knowledge_base

DATA = Path(__file__).parent / "data"
EVAL_FILES = "answers_eval.jsonl,answers_eval_extra.jsonl"


@dataclass
class Outcome:
    """One variant's result for one question, before the gates."""

    text: str
    cited: list[str]
    confidence: float
    top_score: float
    seconds: float
    search_seconds: float
    support: float = 0.0


def report(variant: str, item: dict[str, Any], o: Outcome) -> Outcome:
    """Print one result as it arrives (runs take minutes on a CPU)."""
    print(f"{variant:8} {item['id']:18} top={o.top_score:.3f} conf={o.confidence:.3f}"
          f" sup={o.support:.2f} {o.seconds:5.1f}s cites={o.cited} {o.text[:150]!r}",
          flush=True)  # fmt: skip
    return o


def run_answerer(answerer: Any, item: dict[str, Any], retriever: Any) -> Outcome:
    started = time.monotonic()
    hits = retriever.search(item["q"], k=5, language=item["lang"])
    search_seconds = time.monotonic() - started
    started = time.monotonic()
    draft = answerer.answer(item["q"], language=item["lang"])
    seconds = time.monotonic() - started
    # What the customer reads when answered; the model's draft when escalated (for agents).
    text = draft.text if draft.action == "answer" else (draft.draft_text or draft.text)
    return Outcome(
        text,
        [c.doc_id for c in draft.citations],
        draft.confidence,
        hits[0].score if hits else 0.0,
        seconds,
        search_seconds,
        max(passage_support(text, [p["text"] for p in draft.passages[:3]]), default=0.0),
    )


def run_plain(loaded: Any, item: dict[str, Any], retriever: Any) -> Outcome:
    """Plain transformers: top 3 passages and the question, minimal prompt, greedy."""
    import torch

    started = time.monotonic()
    hits = retriever.search(item["q"], k=3, language=item["lang"])
    context = "\n\n".join(h.text for h in hits)
    messages = [{"role": "user", "content": f"Context:\n{context}\n\nQuestion: {item['q']}"}]
    tok = loaded.tokenizer
    inputs = tok.apply_chat_template(
        messages, add_generation_prompt=True, return_tensors="pt", return_dict=True
    )
    with torch.inference_mode():
        out = loaded.model.generate(**inputs, max_new_tokens=200, do_sample=False)
    text = tok.decode(out[0, inputs["input_ids"].shape[1] :], skip_special_tokens=True)
    seconds = time.monotonic() - started
    return Outcome(text.strip(), [], 1.0, hits[0].score if hits else 0.0, seconds, 0.0)


def has_fact(text: str, alternatives: list[str]) -> bool:
    low = text.casefold()
    for alt in alternatives:
        if alt.isdigit():
            if re.search(rf"(?<!\d){alt}(?!\d)", low):
                return True
        elif alt.casefold() in low:
            return True
    return False


def verdicts(
    items: list[dict[str, Any]], outs: list[Outcome], min_score: float, threshold: float
) -> list[dict[str, Any]]:
    """Per question, with the gates applied: answered or not, and for answers whether the facts,
    the citation and the language are right (`correct`: all three)."""
    detector = LinguaDetector()
    rows = []
    for item, out in zip(items, outs, strict=True):
        gated = out.top_score < min_score
        answers = not gated and out.confidence >= threshold and not is_refusal(out.text)
        row: dict[str, Any] = {"id": item["id"], "answerable": bool(item["facts"]),
                               "answers": answers, "gated": gated}  # fmt: skip
        if item["facts"] and answers:
            guess = detector.detect(re.sub(r"\[\d+\]", "", out.text))
            row["facts"] = all(has_fact(out.text, group) for group in item["facts"])
            row["cite"] = item["doc"] in out.cited
            row["lang"] = guess is not None and guess.code == item["lang"]
            row["correct"] = row["facts"] and row["cite"] and row["lang"]
        row["seconds"] = out.search_seconds if gated else out.seconds
        rows.append(row)
    return rows


def score(
    items: list[dict[str, Any]], outs: list[Outcome], min_score: float, threshold: float
) -> dict[str, float]:
    """The metrics with the gates applied."""
    rows = verdicts(items, outs, min_score, threshold)
    n_ans = sum(1 for r in rows if r["answerable"])
    answered = [r for r in rows if r["answerable"] and r["answers"]]
    false_answers = sum(1 for r in rows if not r["answerable"] and r["answers"])
    pct = max(len(answered), 1)
    return {
        "answer_rate": len(answered) / max(n_ans, 1),
        "fact_acc": sum(r["facts"] for r in answered) / pct,
        "cite_ok": sum(r["cite"] for r in answered) / pct,
        "lang_ok": sum(r["lang"] for r in answered) / pct,
        "all_ok/answerable": sum(r["correct"] for r in answered) / max(n_ans, 1),
        "false_answer": false_answers / max(len(rows) - n_ans, 1),
        "escalation": 1 - (len(answered) + false_answers) / len(rows),
        "latency_s": sum(r["seconds"] for r in rows) / len(rows),
    }


_HEADING_LINE = re.compile(r"^[ \t]*#{1,6}[ \t]+\S", re.M)
_STOPS = ".!?\u3002\uff01\uff1f"
_MID_SENTENCE_BREAK = re.compile(rf"[^\s{_STOPS}:;]\n(?![ \t]*(?:[-*+•][ \t]|\d+[.)][ \t]|\n))")
_FINISHED = re.compile(rf"[{_STOPS})\"'\u201d*`…](?:[ \t]*\[[\d,\s]+\])*[{_STOPS}]?$")


def shape(texts: list[str]) -> dict[str, float]:
    """How answers read, which the fact checks do not see: copied Markdown headings, lines
    broken mid-sentence (a source's hard wrapping), answers ending mid-sentence, length."""
    lengths = sorted(len(t) for t in texts) or [0]
    return {
        "answers": len(texts),
        "headings": sum(bool(_HEADING_LINE.search(t)) for t in texts),
        "broken_lines": sum(bool(_MID_SENTENCE_BREAK.search(t)) for t in texts),
        "unfinished": sum(not _FINISHED.search(t.strip()) for t in texts),
        "chars_median": lengths[len(lengths) // 2],
        "chars_max": lengths[-1],
    }


def save(
    path: Path,
    items: list[dict[str, Any]],
    results: dict[str, list[Outcome]],
    gates: dict[str, tuple[float, float]],
) -> None:
    """Per-question verdicts and texts, one JSON line each, tagged with variant and backend."""
    options = InferenceOptions.from_settings(Settings())
    backend = f"{options.backend}/{options.compute_type}"
    with path.open("w", encoding="utf-8") as out:
        for variant, outs in results.items():
            for row, o in zip(verdicts(items, outs, *gates[variant]), outs, strict=True):
                row.update(variant=variant, backend=backend, text=o.text, confidence=o.confidence)
                out.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"per-question verdicts: {path} (backend setting {backend})")


def gate_report(items: list[dict[str, Any]], retriever: Any) -> None:
    """Top-hit cosine scores of answerable vs off-topic questions, sample KB and zaragoza FAQ."""
    import statistics

    from bench_retrieval import build_kb, load_faq

    def show(name: str, scores: list[float]) -> None:
        q = statistics.quantiles(scores, n=20) if len(scores) > 1 else scores * 19
        print(f"  {name:34} n={len(scores):3} min={min(scores):.3f} p5={q[0]:.3f} "
              f"median={statistics.median(scores):.3f} max={max(scores):.3f}")  # fmt: skip

    def top(kb: Any, texts: list[str]) -> list[float]:
        return [h[0].score if h else 0.0 for h in (kb.search(t, k=1) for t in texts)]

    off = [i["q"] for i in items if i["id"].startswith("off-")]
    print("top-hit scores (multilingual e5 cosine):")
    show("sample KB, answerable", top(retriever, [i["q"] for i in items if i["facts"]]))
    show("sample KB, unanswerable on-topic", top(retriever, [i["q"] for i in items
         if i["id"].startswith("un-")]))  # fmt: skip
    show("sample KB, off-topic", top(retriever, off))
    en, sv = load_faq("en"), load_faq("sv")
    with tempfile.TemporaryDirectory() as tmp:
        kb = build_kb(Path(tmp), retriever.embedder, en, "qa")
        show("zaragoza Q+A, EN questions (60)", top(kb, [r["q"] for r in en[:60]]))
        show("zaragoza Q+A, SV questions (60)", top(kb, [r["q"] for r in sv[:60]]))
        show("zaragoza Q+A, off-topic", top(kb, off))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--limit", type=int, default=0)
    parser.add_argument("--only", default="", help="Comma-separated question id prefixes.")
    parser.add_argument("--variant", default="improved,current,plain")
    parser.add_argument("--gate-scores", action="store_true", help="Only the retrieval scores.")
    parser.add_argument("--eval", default=EVAL_FILES, help="Comma-separated files in bench/data.")
    parser.add_argument(
        "--save", type=Path, help="Write per-question verdicts (JSONL) for compare_answers.py."
    )
    args = parser.parse_args()
    items = [
        json.loads(x)
        for name in args.eval.split(",")
        for x in (DATA / name).read_text("utf-8").splitlines()
        if x.strip()
    ]
    if args.only:
        items = [i for i in items if i["id"].startswith(tuple(args.only.split(",")))]
    items = items[: args.limit] if args.limit else items
    defaults = Settings()
    configure_inference(InferenceOptions.from_settings(defaults))  # as the runtime does
    with tempfile.TemporaryDirectory() as tmp:
        base = Settings(data_dir=Path(tmp), confidence_threshold=0.0, min_retrieval_score=-1.0)
        ensure_sample_knowledge_base(base)
        retriever = build_retriever(base)
        if args.gate_scores:
            gate_report(items, retriever)
            return
        loaded = load_causal_lm(base.dialogue_model, cache_dir=base.cache_dir, device="cpu")
        results: dict[str, list[Outcome]] = {}
        gates: dict[str, tuple[float, float]] = {}
        for variant in args.variant.split(","):
            outs: list[Outcome] = []
            if variant == "plain":
                outs = [report(variant, i, run_plain(loaded, i, retriever)) for i in items]
                gates[variant] = (-1.0, 0.0)
            elif variant == "current":
                legacy = base.model_copy(update={"draft_passages": 5})
                drafter = LegacyDrafter(loaded, max_new_tokens=200)
                answerer = RetrievalAnswerer(legacy, retriever, drafter, LinguaDetector())
                with legacy_scoring():
                    outs = [report(variant, i, run_answerer(answerer, i, retriever)) for i in items]
                gates[variant] = (0.0, 0.5)
            else:
                answerer = build_answerer(base, retriever=retriever)
                outs = [report(variant, i, run_answerer(answerer, i, retriever)) for i in items]
                gates[variant] = (defaults.min_retrieval_score, defaults.confidence_threshold)
            results[variant] = outs
    print(f"\n{len(items)} questions ({sum(1 for i in items if i['facts'])} answerable); "
          f"hand-written eval set, bench/data/{{{args.eval}}}")  # fmt: skip
    if args.save:
        save(args.save, items, results, gates)
    for variant, outs in results.items():
        gate, thr = gates[variant]
        m = score(items, outs, gate, thr)
        print(f"{variant:8} gate={gate:+.2f} thr={thr:.2f} "
              + " ".join(f"{k}={v:.2f}" for k, v in m.items()))  # fmt: skip
    print("\nhow the answers read (answered questions, as the customer sees them):")
    for variant, outs in results.items():
        rows = verdicts(items, outs, *gates[variant])
        texts = [o.text for o, r in zip(outs, rows, strict=True) if r["answers"]]
        print(f"{variant:8} " + " ".join(f"{k}={v:g}" for k, v in shape(texts).items()))
    if "improved" in results:
        print("\nimproved, confidence threshold sweep (retrieval gate as configured):")
        for thr in (0.0, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7):
            m = score(items, results["improved"], gates["improved"][0], thr)
            print(f"  thr={thr:.1f} " + " ".join(f"{k}={v:.2f}" for k, v in m.items()))


if __name__ == "__main__":
    main()
