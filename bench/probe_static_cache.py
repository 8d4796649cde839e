"""Probe: transformers `generate` with a static KV cache (auto `torch.compile`) against the
dynamic cache Parley's transformers backend uses, on CUDA, at a few batch sizes.

A question before building anything: on a GPU a 0.5B model's decode step is bound by Python and
kernel launches, not by the chip, and a compiled step with a static cache removes most of that.
This prints the first call (compilation included) and the best of the next calls for each.

    python bench/probe_static_cache.py --model /tmp/twin --batches 1,8 --max-new 48
"""

from __future__ import annotations

import argparse
import time
from typing import Any


def run(model: Any, ids: Any, n: int, pad: int, static: bool) -> float:
    import torch

    kwargs = {"cache_implementation": "static"} if static else {}
    torch.cuda.synchronize()
    started = time.perf_counter()
    with torch.inference_mode():
        model.generate(
            input_ids=ids, attention_mask=torch.ones_like(ids), max_new_tokens=n,
            min_new_tokens=n, do_sample=False, pad_token_id=pad, **kwargs,
        )  # fmt: skip
    torch.cuda.synchronize()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True)
    parser.add_argument("--batches", default="1,8")
    parser.add_argument("--prompt", type=int, default=400, help="prompt tokens")
    parser.add_argument("--max-new", type=int, default=48)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    import torch
    from transformers import AutoModelForCausalLM

    model: Any = AutoModelForCausalLM.from_pretrained(args.model, dtype=torch.bfloat16)
    model = model.to("cuda")
    model.eval()
    n = args.max_new
    print("| cache | batch | first call s | best s | tok/s (all rows) | ms per step |")
    print("|---|---|---|---|---|---|")
    for batch in (int(b) for b in args.batches.split(",")):
        ids = torch.randint(100, 20000, (batch, args.prompt), device="cuda")
        for static in (False, True):
            first = run(model, ids, n, 0, static)
            best = min(run(model, ids, n, 0, static) for _ in range(args.repeats))
            label = "static, compiled" if static else "dynamic"
            print(f"| {label} | {batch} | {first:.2f} | {best:.3f} | {batch * n / best:.0f} | "
                  f"{1000 * best / n:.1f} |", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
