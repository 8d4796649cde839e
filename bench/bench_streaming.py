"""Streaming: how soon a customer sees the first words of an answer, and what streaming costs.

Same run, same model, same FAQ prompts (bench_inference.draft_set), runs alternating prompt by
prompt: each question is drafted once without streaming (baseline: the customer sees the answer
when it is complete) and once with streaming (`LLMDrafter.draft(on_text=...)`, as the workers run
it). Printed per mode: median time to the first visible words and to the complete draft, the
ratio of the two (how much sooner text appears), and streamed / unstreamed total time (the
streaming overhead; 1.00 = none).

    python bench/bench_streaming.py --n 6 --backend ctranslate2
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

import platformdirs
from bench_inference import draft_set

from nlp.drafting import LLMDrafter
from nlp.inference import InferenceOptions, MicroBatcher
from nlp.inference.select import build_backend
from nlp.loading import load_causal_lm


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="builtin:qwen2.5-coder-0.5b-instruct")
    parser.add_argument("--backend", default="auto", help="inference backend (settings name)")
    parser.add_argument("--n", type=int, default=6, help="FAQ questions")
    parser.add_argument("--max-new", type=int, default=120, help="max answer tokens")
    parser.add_argument("--cache-dir", type=Path, default=platformdirs.user_cache_path("parley"))
    args = parser.parse_args()
    loaded = load_causal_lm(args.model, cache_dir=args.cache_dir, device="cpu")
    options = InferenceOptions(backend=args.backend)
    backend = MicroBatcher(build_backend(loaded, options, cache_dir=args.cache_dir))
    drafter = LLMDrafter(backend, max_new_tokens=args.max_new)
    drafts = draft_set(args.n)
    drafter.draft(*drafts[0])  # warm-up
    plain: list[float] = []
    first: list[float] = []
    streamed: list[float] = []
    for question, hits in drafts:
        started = time.perf_counter()
        drafter.draft(question, hits)
        plain.append(time.perf_counter() - started)
        seen: list[float] = []
        started = time.perf_counter()

        def on_text(text: str, start: float = started, seen: list[float] = seen) -> None:
            if text and not seen:
                seen.append(time.perf_counter() - start)

        drafter.draft(question, hits, on_text=on_text)
        streamed.append(time.perf_counter() - started)
        first.append(seen[0] if seen else streamed[-1])  # a refusal shows nothing
    med = statistics.median
    print(f"model {args.model}, backend {backend.name}, ", end="")
    print(f"{len(drafts)} FAQ drafts, max {args.max_new} tokens, load {os.getloadavg()[0]:.1f}")
    print(f"baseline (no streaming): answer visible after {med(plain):.2f} s (median)")
    print(f"streaming: first words after {med(first):.2f} s, complete after {med(streamed):.2f} s")
    print(f"first words {med(plain) / med(first):.1f}x sooner than the complete answer")
    print(f"streaming overhead: streamed/unstreamed total {med(streamed) / med(plain):.2f}")


if __name__ == "__main__":
    main()
