"""Summaries and content drafting: quality and speed of Parley against a plain prompt.

Same model (PARLEY_DIALOGUE_MODEL, the offline Qwen2.5-Coder-0.5B-Instruct by default), same run:
- summary quality: ROUGE-L (0-100) against reference summaries of Parley's summary and of a
  plain "Summarize this conversation" prompt of the same model. The references are prose then
  "Decisions: ... Open questions: ...", so two scores: *full* (Parley's rendered summary with its
  lists, and the plain answer, against the whole reference) and *body* (Parley's prose alone, and
  the plain answer, against the reference prose before "Decisions:"). "copy the thread" scores the
  thread itself, the ROUGE-L a verbatim echo gets. Data: bench/data/summaries.jsonl, 8 threads:
  4 written by the Parley team, 4 written by a helper after the decision cues of
  nlp/content/points.py (the field `written_by`); scores are shown per set and for all;
- time to summary of a 200-message thread (the team's threads repeated, other names), Parley
  (chunked, every message read) against the plain prompt (which must cut the thread to fit);
- content drafts per minute in 3 languages (en, es, de: one draft + 2 translations).
Run: HF_HUB_OFFLINE=1 python bench/bench_content.py [--skip-long] [--skip-write] [--skip-quality]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

from bot.settings import load_settings
from nlp.content import ChatModel, Summarizer, ThreadMessage, Writer
from nlp.content.chat_model import load_chat_model
from nlp.learning.evaluation import rouge_l
from nlp.translation import build_translator

DATA = Path(__file__).parent / "data" / "summaries.jsonl"
BRIEFS = [
    "Announce that single sign-on (SSO) is now available on the Premium plan.",
    "Tell customers that scheduled maintenance on Sunday 02:00-03:00 UTC may interrupt exports.",
    "Reply to a customer asking whether the Basic plan includes phone support (it does not).",
]


def plain_summary(model: ChatModel, lines: list[str], budget: int) -> str:
    """The baseline: one plain prompt; the thread is cut to the newest lines that fit."""
    kept: list[str] = []
    used = 0
    for line in reversed(lines):
        used += model.count_tokens(line) + 1
        if used > budget:
            break
        kept.insert(0, line)
    prompt = "Summarize this conversation:\n" + "\n".join(kept)
    chat = [{"role": "user", "content": prompt}]
    return model.complete([chat], max_new_tokens=220)[0]


def body_of(reference: str) -> str:
    """The prose of a reference summary, before its "Decisions:" list."""
    return reference.split("Decisions:", 1)[0].strip()


def mean(values: list[float]) -> float:
    return sum(values) / max(len(values), 1)


def score_summaries(model: ChatModel, summarizer: Summarizer, rows: list[dict[str, Any]]) -> None:
    """Print ROUGE-L (body and full) of Parley, the plain prompt and a verbatim copy, per set."""
    scores: dict[str, list[tuple[str, float]]] = {}
    for row in rows:
        messages = [ThreadMessage.from_dict(m) for m in row["thread"]]
        lines = [f"{m.author}: {m.text}" for m in messages]
        summary = summarizer.summarize(messages)
        plain = plain_summary(model, lines, 1200)
        full, body = row["reference"], body_of(row["reference"])
        for name, value in (
            ("parley body", rouge_l(summary.text, body)),
            ("plain body", rouge_l(plain, body)),
            ("parley full", rouge_l(summary.render(), full)),
            ("plain full", rouge_l(plain, full)),
            ("copy the thread, full", rouge_l("\n".join(lines), full)),
        ):
            scores.setdefault(name, []).append((row.get("written_by", "team"), value))
    sets = sorted({w for values in scores.values() for w, _ in values})
    print(f"summary ROUGE-L ({len(rows)} threads; sets: " + ", ".join(sets) + ", all)")
    for name, values in scores.items():
        per_set = [mean([v for w, v in values if w == s]) for s in sets]
        cells = " ".join(f"{v:5.1f}" for v in [*per_set, mean([v for _, v in values])])
        print(f"  {name:<22} {cells}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-quality", action="store_true", help="skip ROUGE-L")
    parser.add_argument("--skip-long", action="store_true", help="skip the 200-message thread")
    parser.add_argument("--skip-write", action="store_true", help="skip content drafting")
    args = parser.parse_args()
    settings = load_settings()
    model = load_chat_model(settings)
    summarizer = Summarizer(model)
    rows = [json.loads(x) for x in DATA.read_text("utf-8").splitlines() if x.strip()]
    if not args.skip_quality:
        score_summaries(model, summarizer, rows)
    if not args.skip_long:
        names = ["Ana", "Bo", "Cy", "Dana", "Eli", "Finn", "Gus", "Hana", "Ivo", "Jo"]
        team = [row for row in rows if row.get("written_by", "team") == "team"]
        base = [m for row in team for m in row["thread"]]  # the thread measured since issue 9
        long_thread = [
            ThreadMessage(names[i % len(names)], base[i % len(base)]["text"]) for i in range(200)
        ]
        start = time.perf_counter()
        summary = summarizer.summarize(long_thread)
        ours_s = time.perf_counter() - start
        start = time.perf_counter()
        plain_summary(model, [f"{m.author}: {m.text}" for m in long_thread], 1200)
        plain_s = time.perf_counter() - start
        print(f"200-message thread: parley {ours_s:.1f} s ({summary.chunks} chunks, all "
              f"{summary.messages} messages read); plain prompt {plain_s:.1f} s (newest lines "
              f"that fit 1200 tokens only); ratio {ours_s / plain_s:.2f}x")  # fmt: skip
    if not args.skip_write:
        translator = build_translator(settings)
        writer = Writer(model, translate=lambda t, target: translator.translate(t, target=target))
        start = time.perf_counter()
        for brief in BRIEFS:
            writer.write(brief, languages=["en", "es", "de"], tone="friendly")
        minutes = (time.perf_counter() - start) / 60
        print(f"content drafts in en+es+de: {len(BRIEFS) / minutes:.2f} briefs/min "
              f"({3 * len(BRIEFS) / minutes:.2f} drafts/min)")  # fmt: skip


if __name__ == "__main__":
    main()
