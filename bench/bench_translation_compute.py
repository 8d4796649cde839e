"""Which compute type Parley's translator should use on CPU: CTranslate2 float32 against int8.

Same model (the offline default instruct model), same prompts, same batching (k concurrent
callers through the micro-batcher), same run. For each compute type: throughput, chrF/BLEU against
the references, and chrF of int8's output against float32's output (how much int8 changes what is
said). Data: zaragoza-construction-faq (CC BY 4.0) SV->EN and EN->SV questions (stride over the
categories) and bench/data/support_phrases.jsonl (EN<->ES/DE/ZH, references by the Parley team).
Run: HF_HUB_OFFLINE=1 python bench/bench_translation_compute.py [--n 64] [--batch 32]
"""

from __future__ import annotations

import argparse
import json
import time
from concurrent.futures import ThreadPoolExecutor
from importlib import resources
from pathlib import Path

import sacrebleu

from bot.settings import Settings
from nlp.translation import build_translator

DATA = Path(__file__).parent / "data"
Case = tuple[str, str, list[str], list[str]]  # source, target, texts, references


def faq_cases(n: int) -> list[Case]:
    faq = resources.files("zaragoza_construction_faq")
    read = faq.joinpath
    sv = [json.loads(x) for x in read("data/faq.jsonl").read_text("utf-8").splitlines()]
    en = {
        r["id"]: r["q"]
        for r in map(json.loads, read("data/faq-en.jsonl").read_text("utf-8").splitlines())
    }
    rows = [r for r in sv if r["id"] in en]
    rows = rows[:: max(1, len(rows) // n)][:n]
    svq, enq = [r["q"] for r in rows], [en[r["id"]] for r in rows]
    return [("sv", "en", svq, enq), ("en", "sv", enq, svq)]


def phrase_cases() -> list[Case]:
    rows = [json.loads(x) for x in (DATA / "support_phrases.jsonl").read_text().splitlines()]
    cases: list[Case] = []
    for lang in ("es", "de", "zh"):
        for source, target in (("en", lang), (lang, "en")):
            cases.append((source, target, [p[source] for p in rows], [p[target] for p in rows]))
    return cases


def run(compute: str, cases: list[Case], batch: int) -> tuple[list[list[str]], float, int]:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        inference_max_batch=batch,
        translation_compute_type=compute,  # type: ignore[arg-type]
    )
    translator = build_translator(settings)
    translator.translate(["warm up"], target="en", source="sv")
    outputs, seconds, count = [], 0.0, 0
    for source, target, texts, _ in cases:
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=batch) as pool:
            out = list(
                pool.map(
                    lambda t, tgt=target, src=source: translator.translate(
                        [t], target=tgt, source=src
                    )[0],
                    texts,
                )
            )
        seconds += time.perf_counter() - started
        count += len(texts)
        outputs.append(out)
    return outputs, seconds, count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=64, help="FAQ questions per direction")
    parser.add_argument("--batch", type=int, default=32, help="concurrent callers")
    args = parser.parse_args()
    cases = faq_cases(args.n) + phrase_cases()
    results = {c: run(c, cases, args.batch) for c in ("float32", "int8")}
    print(f"{sum(len(c[2]) for c in cases)} messages, {args.batch} concurrent callers")
    print("| direction | n | float32 chrF | int8 chrF | int8 - float32 | int8 vs float32 output |")
    print("|---|---|---|---|---|---|")
    all_refs: list[str] = []
    pooled: dict[str, list[str]] = {"float32": [], "int8": []}
    for i, (source, target, texts, refs) in enumerate(cases):
        f32, i8 = results["float32"][0][i], results["int8"][0][i]
        a = sacrebleu.corpus_chrf(f32, [refs]).score
        b = sacrebleu.corpus_chrf(i8, [refs]).score
        agree = sacrebleu.corpus_chrf(i8, [f32]).score
        row = f"{a:.1f} | {b:.1f} | {b - a:+.1f} | {agree:.1f}"
        print(f"| {source}->{target} | {len(texts)} | {row} |")
        all_refs += refs
        pooled["float32"] += f32
        pooled["int8"] += i8
    a = sacrebleu.corpus_chrf(pooled["float32"], [all_refs]).score
    b = sacrebleu.corpus_chrf(pooled["int8"], [all_refs]).score
    agree = sacrebleu.corpus_chrf(pooled["int8"], [pooled["float32"]]).score
    print(f"| all | {len(all_refs)} | {a:.1f} | {b:.1f} | {b - a:+.1f} | {agree:.1f} |")
    rates = {c: r[2] / r[1] for c, r in results.items()}
    print(
        f"throughput: float32 {rates['float32']:.2f} msg/s, int8 {rates['int8']:.2f} msg/s, "
        f"int8/float32 {rates['int8'] / rates['float32']:.2f}x"
    )


if __name__ == "__main__":
    main()
