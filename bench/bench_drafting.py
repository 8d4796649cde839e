"""Drafting speed: Parley's drafter against plain `transformers` `generate`, same model and prompts.

Both sides decode greedily from the same chat prompts (the retrieval-augmented prompt Parley
builds) for exactly --max-new-tokens tokens (60: a typical support answer; --free-length lets them
stop at end-of-turn); Parley's side is the full `LLMDrafter.draft` call
(prompt building, generation with token probabilities, citation parsing). Runs alternate per
prompt so machine noise hits both alike.

    python bench/bench_drafting.py                      # Qwen builtin, 5 prompts, 60 tokens
    python bench/bench_drafting.py --model builtin:smollm2-135m-instruct --prompts 3
    python bench/bench_drafting.py --backend transformers     # Parley on plain transformers too

Parley's side runs on the inference backend `--backend` selects (default auto: CTranslate2 int8
on CPU, see docs/models.md), through the micro-batcher, like a worker.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import platformdirs

from nlp.drafting import LLMDrafter
from nlp.inference import InferenceOptions, backend_for
from nlp.loading import LoadedModel, load_causal_lm
from nlp.prompts import build_messages
from retrieval.types import Hit

PASSAGES = [
    Hit("plans", "plans#0", "plans.md", "Pricing plans", 0.8,
        "Parley Premium costs 49 euros per month and includes priority support, SSO and "
        "unlimited seats. The Basic plan is free for up to three seats with email support."),
    Hit("passwords", "passwords#0", "passwords.md", "Resetting your password", 0.6,
        "To reset your password, open Settings > Account and click 'Reset password'. A reset "
        "link is emailed to you and stays valid for 30 minutes."),
    Hit("refunds", "refunds#0", "billing.md", "Refunds", 0.5,
        "Annual plans can be refunded within 14 days of purchase. Monthly plans are not "
        "refunded, but you can cancel at any time and keep access until the period ends."),
]  # fmt: skip
QUESTIONS = [
    "What does the Premium plan cost and what does it include? Explain in detail.",
    "How do I reset my password, and how long is the reset link valid?",
    "Can I get a refund on a monthly plan? What happens when I cancel?",
    "What is the difference between the Basic and the Premium plan?",
    "¿Cuánto cuesta el plan Premium y qué incluye?",
    "How many seats does the free plan allow, and what support does it have?",
]


def baseline_draft(
    loaded: LoadedModel, messages: list[dict[str, str]], max_new: int, min_new: int = 0
) -> tuple[int, float]:
    """Plain transformers: template, greedy generate, decode. Returns (new tokens, seconds)."""
    import torch

    model, tokenizer = loaded.model, loaded.tokenizer
    started = time.monotonic()
    inputs = tokenizer.apply_chat_template(
        messages, add_generation_prompt=True, return_tensors="pt", return_dict=True
    ).to(model.device)
    with torch.inference_mode():
        out = model.generate(
            **inputs, max_new_tokens=max_new, min_new_tokens=min_new, do_sample=False
        )
    new = out[0, inputs["input_ids"].shape[1] :]
    tokenizer.decode(new, skip_special_tokens=True)
    return int(new.shape[0]), time.monotonic() - started


def main() -> None:
    """Run the benchmark and print a table and the Parley/baseline ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="builtin:qwen2.5-coder-0.5b-instruct")
    parser.add_argument("--prompts", type=int, default=5)
    parser.add_argument("--max-new-tokens", type=int, default=60)
    parser.add_argument(
        "--free-length",
        action="store_true",
        help="let answers stop at end-of-turn (default: exactly --max-new-tokens tokens)",
    )
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    parser.add_argument(
        "--backend", default="auto", choices=["auto", "transformers", "int8", "ctranslate2"]
    )
    parser.add_argument("--cache-dir", type=Path, default=platformdirs.user_cache_path("parley"))
    args = parser.parse_args()

    started = time.monotonic()
    loaded = load_causal_lm(args.model, cache_dir=args.cache_dir, device=args.device)
    print(f"model {args.model} on {loaded.device}, loaded in {time.monotonic() - started:.1f} s")
    exact = 0 if args.free_length else args.max_new_tokens
    backend = backend_for(loaded, InferenceOptions(backend=args.backend), cache_dir=args.cache_dir)
    print(f"Parley drafts on {backend.name}")
    drafter = LLMDrafter(backend, max_new_tokens=args.max_new_tokens, min_new_tokens=exact)
    prompts = [QUESTIONS[i % len(QUESTIONS)] for i in range(args.prompts)]
    warm = build_messages(prompts[0], PASSAGES, language="en")
    drafter.generate(warm, max_new_tokens=4)
    baseline_draft(loaded, warm, 4)

    rows: dict[str, list[tuple[int, float]]] = {"parley": [], "transformers": []}  # plain fp32
    for question in prompts:
        messages = build_messages(question, PASSAGES, language=None)
        t0 = time.monotonic()
        result = drafter.draft(question, PASSAGES)
        rows["parley"].append((result.new_tokens, time.monotonic() - t0))
        rows["transformers"].append(baseline_draft(loaded, messages, args.max_new_tokens, exact))

    print(f"{'':14}{'tok/s (median)':>16}{'draft s (median)':>18}{'tokens (mean)':>15}")
    summary = {}
    for name, values in rows.items():
        rate = statistics.median(n / s for n, s in values)
        seconds = statistics.median(s for _, s in values)
        tokens = statistics.mean(n for n, _ in values)
        summary[name] = (rate, seconds)
        print(f"{name:14}{rate:16.2f}{seconds:18.2f}{tokens:15.1f}")
    ratio = summary["parley"][0] / summary["transformers"][0]
    time_ratio = summary["parley"][1] / summary["transformers"][1]
    print(f"ratio parley/transformers: tok/s {ratio:.2f}x, draft time {time_ratio:.2f}x")


if __name__ == "__main__":
    main()
