"""Two `bench_answers.py --save` runs (a reference backend and a candidate) compared question by
question, and the answer-quality tolerance a candidate must meet to become a default.

The tolerance (docs/models.md, "Tolerance and the default"), on the whole eval set, for the
"improved" variant (the shipped answerer):
- fully right answers (facts, citation and language): at most 2 fewer than the reference;
- wrong answers (answered with a fact missing): at most 1 more than the reference;
- answers to questions that must escalate: no more than the reference.
The per-question lists show which way each changed answer went (a precision change moves
borderline answers both ways; the tolerance judges the net).

Run: python bench/compare_answers.py REFERENCE.jsonl CANDIDATE.jsonl [--variant improved]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

MAX_FEWER_RIGHT = 2
MAX_MORE_WRONG = 1


def load(path: Path, variant: str) -> dict[str, dict[str, Any]]:
    if not path.is_file():
        raise SystemExit(f"{path}: no such file (write it with bench_answers.py --save {path})")
    rows = [json.loads(x) for x in path.read_text("utf-8").splitlines() if x.strip()]
    return {r["id"]: r for r in rows if r["variant"] == variant}


def outcome(row: dict[str, Any]) -> str:
    """right / wrong (a fact missing) / flawed (facts right, citation or language not) /
    escalated, for answerable questions; answered / escalated for the others."""
    if not row["answers"]:
        return "escalated"
    if not row["answerable"]:
        return "answered"
    if row["correct"]:
        return "right"
    return "flawed" if row["facts"] else "wrong"


def tally(rows: dict[str, dict[str, Any]]) -> dict[str, int]:
    counts = {"right": 0, "wrong": 0, "flawed": 0, "escalated": 0, "false answers": 0}
    for row in rows.values():
        kind = outcome(row)
        if kind == "answered":
            counts["false answers"] += 1
        elif row["answerable"]:
            counts[kind] += 1
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("reference", type=Path)
    parser.add_argument("candidate", type=Path)
    parser.add_argument("--variant", default="improved")
    args = parser.parse_args()
    ref, cand = load(args.reference, args.variant), load(args.candidate, args.variant)
    ids = [i for i in ref if i in cand]
    if not ids:
        raise SystemExit("no question is in both files (same --eval and --variant?)")
    ref = {i: ref[i] for i in ids}
    cand = {i: cand[i] for i in ids}
    name_r = next(iter(ref.values()))["backend"]
    name_c = next(iter(cand.values()))["backend"]
    answerable = sum(1 for i in ids if ref[i]["answerable"])
    print(f"{len(ids)} questions ({answerable} answerable), variant {args.variant}")
    t_r, t_c = tally(ref), tally(cand)
    print(f"| outcome | {name_r} (reference) | {name_c} | change |\n|---|---|---|---|")
    for key in t_r:
        print(f"| {key} | {t_r[key]} | {t_c[key]} | {t_c[key] - t_r[key]:+d} |")
    changed = [(i, outcome(ref[i]), outcome(cand[i])) for i in ids]
    changed = [c for c in changed if c[1] != c[2]]
    print(f"\n{len(changed)} questions changed outcome:")
    for qid, before, after in changed:
        print(f"  {qid:24} {before:9} -> {after}")
        if after in ("wrong", "answered") or before in ("wrong", "answered"):
            print(f"    reference: {ref[qid]['text'][:160]!r}")
            print(f"    candidate: {cand[qid]['text'][:160]!r}")
    checks = [
        (t_c["right"] >= t_r["right"] - MAX_FEWER_RIGHT,
         f"fully right: {t_c['right']} vs {t_r['right']} (at most {MAX_FEWER_RIGHT} fewer)"),
        (t_c["wrong"] <= t_r["wrong"] + MAX_MORE_WRONG,
         f"wrong answers: {t_c['wrong']} vs {t_r['wrong']} (at most {MAX_MORE_WRONG} more)"),
        (t_c["false answers"] <= t_r["false answers"],
         f"answers that should escalate: {t_c['false answers']} vs {t_r['false answers']}"
         " (no more)"),
    ]  # fmt: skip
    print()
    for ok, text in checks:
        print(f"{'PASS' if ok else 'FAIL'}  {text}")
    verdict = "within" if all(ok for ok, _ in checks) else "outside"
    print(f"\n{name_c} is {verdict} the answer-quality tolerance against {name_r}.")


if __name__ == "__main__":
    main()
