"""Inference backends: speed at batch 1, quality against fp32, throughput under load via Celery.

Same run, same machine, same prompts (the machine is shared and noisy: the baseline is always
measured in the same run, and runs alternate between backends prompt by prompt).

- speed: batch-1 tokens/s (exactly --max-new tokens per answer) and time to first token for each
  backend against plain transformers fp32, with the memory-bandwidth ceiling (bytes of Linear
  weights read per token vs a large numpy copy).
- quality: drafts for FAQ questions (zaragoza-construction-faq, CC BY 4.0; every third one shown
  passages that do not answer it, so escalations are exercised) and translations (FAQ SV->EN,
  support phrases EN->ES). chrF of each backend's outputs against the fp32 outputs, and how many
  answer/escalate decisions (the drafter's confidence vs the 0.5 threshold) differ. Backends run
  batched through the micro-batcher, as in production; fp32 runs one at a time.
  Then the same backends with answers at their own length (up to --draft-tokens), where the
  forced length's tail does not flatter prompt lookup.
- load: 1, 8 and 32 concurrent drafting requests through a real Celery worker (threads pool,
  embedded Redis) on the selected backend, against plain transformers fp32 one at a time
  (exactly --max-new tokens per draft, or with --own-length where the model ends them).

Prompts: --prompts faq (default; FAQ rows as passages, answers copy one: the best case for
prompt lookup) or --prompts kb (bench_answers' English questions over the sample KB with the
passages the answerer retrieves: answers paraphrase, the realistic case).

  python bench/bench_inference.py --sections speed,quality --n 6
  python bench/bench_inference.py --sections speed --prompts kb --backends "transformers fp32,auto"
  python bench/bench_inference.py --sections load --levels 1,8,32 --backend auto --own-length
"""

from __future__ import annotations

import argparse
import copy
import json
import statistics
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import platformdirs
import sacrebleu

from nlp.confidence import draft_confidence
from nlp.drafting import LLMDrafter, encode_chat, fixed_prefix
from nlp.inference import GenerationRequest, InferenceOptions, MicroBatcher
from nlp.inference.select import build_backend
from nlp.loading import load_causal_lm
from nlp.prompts import build_messages
from nlp.translation.instruct import InstructTranslator
from retrieval.types import Hit

DATA = Path(__file__).parent / "data"
BACKENDS = {
    "transformers fp32": InferenceOptions(backend="transformers"),
    "transformers bf16": InferenceOptions(backend="transformers", compute_type="bfloat16"),
    "transformers bf16 matmuls": InferenceOptions(
        backend="transformers", compute_type="bfloat16_float32"
    ),
    "transformers bf16 matmuls without lookup": InferenceOptions(
        backend="transformers", compute_type="bfloat16_float32", prompt_lookup=0
    ),
    "transformers fp32 + lookup": InferenceOptions(backend="transformers", compute_type="float32"),
    "auto": InferenceOptions(),  # Parley's default on this device
    "torch int8 dynamic": InferenceOptions(backend="int8"),
    "ct2 float32": InferenceOptions(backend="ctranslate2", compute_type="float32"),
    "ct2 int8": InferenceOptions(backend="ctranslate2", compute_type="int8_float32"),
}
BASELINE = "transformers fp32"
SETTINGS_BACKENDS = ("transformers", "int8", "ctranslate2")
THRESHOLD = 0.5


def faq_rows() -> tuple[list[dict[str, Any]], dict[str, str]]:
    faq = resources.files("zaragoza_construction_faq")
    en = [json.loads(x) for x in faq.joinpath("data/faq-en.jsonl").read_text().splitlines()]
    sv = {
        r["id"]: r["q"]
        for r in map(json.loads, faq.joinpath("data/faq.jsonl").read_text().splitlines())
    }
    return en, sv


def hit(row: dict[str, Any]) -> Hit:
    return Hit(row["id"], row["id"], "faq", row["q"], 0.9, row["a"])


def draft_set(n: int) -> list[tuple[str, list[Hit]]]:
    """(question, passages): own answer + two others; every third without its own answer."""
    rows, _ = faq_rows()
    picked = rows[::17][:n]
    out = []
    for i, row in enumerate(picked):
        others = [rows[(rows.index(row) + k * 101) % len(rows)] for k in (1, 2, 3)]
        passages = others if i % 3 == 2 else [row, *others[:2]]
        out.append((row["q"], [hit(p) for p in passages]))
    return out


def kb_draft_set(n: int, cache_dir: Path) -> list[tuple[str, list[Hit]]]:
    """(question, passages) for the English answerable questions of bench_answers' eval set,
    with the passages the answerer shows (Parley's sample KB, its retriever and settings).
    Answers there put the passages in their own words, where the FAQ set's copy an answer."""
    from bot.settings import Settings
    from retrieval.factory import build_retriever, ensure_sample_knowledge_base

    items = [
        json.loads(line)
        for name in ("answers_eval.jsonl", "answers_eval_extra.jsonl")
        for line in (DATA / name).read_text("utf-8").splitlines()
        if line.strip()
    ]
    questions = [i["q"] for i in items if i["lang"] == "en" and i.get("doc")][:n]
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, data_dir=Path(tempfile.mkdtemp(prefix="parley-bench-kb-")),
        cache_dir=cache_dir,
    )  # fmt: skip
    ensure_sample_knowledge_base(settings)
    retriever = build_retriever(settings)
    return [
        (q, retriever.search(q, k=settings.search_k, language="en")[: settings.draft_passages])
        for q in questions
    ]


def translation_set(n: int) -> list[tuple[str, str, str]]:
    """(text, source, target): FAQ Swedish questions -> English, support phrases EN -> ES."""
    rows, sv = faq_rows()
    out = [(sv[r["id"]], "sv", "en") for r in rows[5::23][:n] if r["id"] in sv]
    phrases = [json.loads(x) for x in (DATA / "support_phrases.jsonl").read_text().splitlines()]
    return out + [(p["en"], "en", "es") for p in phrases[:n]]


def make_backend(loaded: Any, name: str, cache_dir: Path) -> Any:
    """The backend `name` means here. "transformers fp32"/"bf16" run a copy of the model in
    that dtype (on CUDA the loaded model is bf16, on CPU fp32), so baselines mean the same
    thing on every device."""
    import torch

    from nlp.inference.hf import TransformersBackend

    dtype = {"transformers fp32": torch.float32, "transformers bf16": torch.bfloat16}.get(name)
    if dtype is None:
        options = BACKENDS[name]
        if name == "auto":  # Parley's default, with the PARLEY_INFERENCE_* environment applied
            from bot.settings import Settings

            options = InferenceOptions.from_settings(Settings(_env_file=None))  # type: ignore[call-arg]
        return build_backend(loaded, options, cache_dir=cache_dir)
    model = loaded.model
    if model.dtype != dtype:
        model = copy.deepcopy(model).to(dtype)
    label = f"transformers {str(dtype).removeprefix('torch.')} ({loaded.device})"
    return TransformersBackend(model, loaded.tokenizer, loaded.device, label=label)


def linear_weights(model: Any) -> int:
    import torch

    return sum(m.weight.numel() for m in model.modules() if isinstance(m, torch.nn.Linear))


def bandwidth_gbs(device: str = "cpu") -> float:
    """Sustained memory bandwidth: bytes read + written by a 512 MB copy, best of 3."""
    if device == "cuda":
        import torch

        a = torch.ones(128 << 20, device="cuda")
        b = torch.empty_like(a)
        best = float("inf")
        for _ in range(3):
            torch.cuda.synchronize()
            started = time.perf_counter()
            b.copy_(a)
            torch.cuda.synchronize()
            best = min(best, time.perf_counter() - started)
        return 2 * a.numel() * 4 / best / 1e9
    src = np.ones(64 << 20, dtype=np.float64)
    dst = np.empty_like(src)
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        np.copyto(dst, src)
        best = min(best, time.perf_counter() - started)
    return 2 * src.nbytes / best / 1e9


def gemm_gflops() -> float:
    """Sustained fp32 matmul rate of a prompt-sized product (256 tokens x a 896x4864 MLP
    weight, the 0.5B model's shape), best of 5, with torch's threads."""
    import torch

    x, w = torch.randn(256, 896), torch.randn(896, 4864)
    best = float("inf")
    for _ in range(5):
        started = time.perf_counter()
        for _ in range(10):
            torch.matmul(x, w)
        best = min(best, (time.perf_counter() - started) / 10)
    return 2 * 256 * 896 * 4864 / best / 1e9


def speed(backends: dict[str, Any], drafts: list[Any], args: Any, loaded: Any) -> None:
    """Batch 1. Every backend but the fp32 baseline reuses the fixed prompt prefix (rules and
    worked example) as drafting does; "(whole prompt)" rows read the whole prompt each time."""
    n = args.max_new
    prompts = [
        encode_chat(loaded.tokenizer, build_messages(q, h, language="en"))
        for q, h in drafts[: args.speed_prompts]
    ]
    fixed = len(fixed_prefix(loaded.tokenizer, "en"))
    runs = {name: (backend, 0 if name == BASELINE else fixed) for name, backend in backends.items()}
    for name in args.whole_prompt.split(","):
        if name in backends and name != BASELINE:
            runs[f"{name} (whole prompt)"] = (backends[name], 0)
    runs[f"{BASELINE}, prefix reused"] = (backends[BASELINE], fixed)
    for backend, prefix in runs.values():  # warm up: the first run computes the prefix state
        backend.generate([GenerationRequest(prompts[0], 1, 1, prefix_len=prefix)])
    rows: dict[str, list[tuple[float, float, float]]] = {name: [] for name in runs}
    for ids in prompts:  # alternate backends prompt by prompt: noise hits all alike
        for name, (backend, prefix) in runs.items():
            started = time.perf_counter()
            backend.generate([GenerationRequest(ids, 1, 1, prefix_len=prefix)])
            ttft = time.perf_counter() - started
            started = time.perf_counter()
            out = backend.generate([GenerationRequest(ids, n, n, prefix_len=prefix)])[0]
            total = time.perf_counter() - started
            rows[name].append((out.new_tokens / total, ttft, (out.new_tokens - 1) / (total - ttft)))
    device = loaded.device
    bw = bandwidth_gbs(device)
    weights = linear_weights(loaded.model)
    print(f"\n## Batch 1 on {device} ({len(prompts)} prompts of ~{len(prompts[0])} tokens, {fixed} "
          f"of them the fixed prefix, {n} new tokens)")  # fmt: skip
    print(f"memory bandwidth ({'torch' if device == 'cuda' else 'numpy'} copy): {bw:.1f} GB/s; "
          f"Linear weights: {weights / 1e6:.0f} M")  # fmt: skip
    if device == "cpu":
        flops = gemm_gflops()
        length = statistics.mean(len(p) for p in prompts)
        for label, read in (("whole prompt", length), ("after the fixed prefix", length - fixed)):
            seconds = read * 2 * weights / (flops * 1e9) + (n - 1) * 4 * weights / (bw * 1e9)
            print(f"fp32 ceiling, {label}: {read:.0f} prompt tokens at {flops:.0f} GFLOP/s (fp32 "
                  f"matmul) + {n - 1} decode steps at {bw:.1f} GB/s = {seconds:.1f} s, "
                  f"{n / seconds:.2f} tok/s")  # fmt: skip
    print("tok/s: new tokens / (prompt + generation) time; decode: after the first token")
    print("| backend | tok/s | vs fp32 | TTFT s | TTFT ratio | decode tok/s | decode ceiling |")
    print("|---|---|---|---|---|---|---|")
    base = statistics.median(r[0] for r in rows[BASELINE])
    base_ttft = statistics.median(r[1] for r in rows[BASELINE])
    for name, values in rows.items():
        rate = statistics.median(r[0] for r in values)
        ttft = statistics.median(r[1] for r in values)
        decode = statistics.median(r[2] for r in values)
        kind = runs[name][0].name
        width = 1 if "int8" in kind else 2 if ("bfloat16" in kind or "float16" in kind) else 4
        ceiling = bw * 1e9 / (weights * width)
        label = f"{name}: {kind}" if name.startswith("auto") else name
        print(f"| {label} | {rate:.2f} | {rate / base:.2f}x | {ttft:.2f} | "
              f"{base_ttft / ttft:.2f}x faster | {decode:.2f} | {ceiling:.0f} |")  # fmt: skip
    print(f"3.5x the baseline would be {3.5 * base:.2f} tok/s")
    if any(getattr(b, "prompt_lookup", 0) for b, _ in runs.values()):
        print("decode ceiling: bytes of weights per one-token step; prompt lookup checks several "
              "tokens per step, so its decode rate is not bounded by it")  # fmt: skip
    natural(runs, drafts, args, loaded)


def natural(runs: dict[str, Any], drafts: list[Any], args: Any, loaded: Any) -> None:
    """Batch 1, answers at the length the model chooses (up to --draft-tokens): the forced
    length of the table above continues past the answer's end, where a model often repeats
    itself, which flatters prompt lookup. Greedy answers are the same on every backend, so
    each backend makes the same tokens; tok/s is all of them over all the time."""
    prompts = [
        encode_chat(loaded.tokenizer, build_messages(q, h, language="en"))
        for q, h in drafts[: args.n]
    ]
    totals: dict[str, list[float]] = {name: [0.0, 0.0] for name in runs}
    same: dict[str, int] = dict.fromkeys(runs, 0)
    for ids in prompts:
        reference = None
        for name, (backend, prefix) in runs.items():
            started = time.perf_counter()
            out = backend.generate(
                [GenerationRequest(ids, args.draft_tokens, 0, prefix_len=prefix)]
            )[0]
            totals[name][0] += out.new_tokens
            totals[name][1] += time.perf_counter() - started
            reference = out.token_ids if reference is None else reference
            same[name] += out.token_ids == reference
    print(f"\n## Batch 1, answers at their own length ({len(prompts)} prompts, at most "
          f"{args.draft_tokens} new tokens; prompt included)")  # fmt: skip
    print("| backend | new tokens | seconds | tok/s | vs fp32 | same tokens as fp32 |")
    print("|---|---|---|---|---|---|")
    base = totals[BASELINE][0] / totals[BASELINE][1]
    for name, (tokens, seconds) in totals.items():
        rate = tokens / seconds
        print(f"| {name} | {tokens:.0f} | {seconds:.1f} | {rate:.2f} | {rate / base:.2f}x | "
              f"{same[name]} of {len(prompts)} |")  # fmt: skip


def drafts_with(
    backend: Any, drafts: list[Any], max_new: int, batched: bool, reuse: bool = True
) -> list[Any]:
    drafter = LLMDrafter(backend, max_new_tokens=max_new, reuse_prefix=reuse)

    def one(item: tuple[str, list[Hit]]) -> tuple[str, str]:
        result = drafter.draft(item[0], item[1], language="en")
        confidence, _ = draft_confidence(result, [h.text for h in item[1]])
        return result.text, "answer" if confidence >= THRESHOLD else "escalate"

    if not batched:
        return [one(item) for item in drafts]
    with ThreadPoolExecutor(max_workers=len(drafts)) as pool:
        return list(pool.map(one, drafts))


def translations_with(backend: Any, items: list[tuple[str, str, str]], batched: bool) -> list[str]:
    translator = InstructTranslator(backend, batch_size=1, max_new_tokens=128)

    def one(item: tuple[str, str, str]) -> str:
        return translator.translate([item[0]], target=item[2], source=item[1])[0]

    if not batched:
        return [one(item) for item in items]
    with ThreadPoolExecutor(max_workers=len(items)) as pool:
        return list(pool.map(one, items))


def quality(backends: dict[str, Any], drafts: list[Any], args: Any) -> None:
    items = translation_set(args.n)
    ref_backend = backends["transformers fp32"]
    started = time.perf_counter()
    ref_drafts = drafts_with(ref_backend, drafts, args.draft_tokens, batched=False, reuse=False)
    ref_tr = translations_with(ref_backend, items, batched=False)
    ref_s = time.perf_counter() - started
    print(f"\n## Quality vs fp32 ({len(drafts)} drafts, {len(items)} translations)")
    print("| backend | drafts chrF | decisions differing | translations chrF | seconds |")
    print("|---|---|---|---|---|")
    print(f"| transformers fp32 (reference, 1 at a time, whole prompt) | 100.0 | 0 | 100.0 | "
          f"{ref_s:.0f} |")  # fmt: skip
    for name, backend in backends.items():
        batcher = MicroBatcher(backend, max_batch=16, max_wait=0.03)
        started = time.perf_counter()
        got = drafts_with(batcher, drafts, args.draft_tokens, batched=True)
        tr = translations_with(batcher, items, batched=True)
        seconds = time.perf_counter() - started
        chrf_d = sacrebleu.corpus_chrf([g[0] for g in got], [[r[0] for r in ref_drafts]]).score
        chrf_t = sacrebleu.corpus_chrf(tr, [ref_tr]).score
        differ = sum(g[1] != r[1] for g, r in zip(got, ref_drafts, strict=True))
        label = f"{name} (batched, prefix reused)"
        print(f"| {label} | {chrf_d:.1f} | {differ} | {chrf_t:.1f} | {seconds:.0f} |", flush=True)
    decisions = [r[1] for r in ref_drafts]
    print(f"fp32 decisions: {decisions.count('answer')} answer, {decisions.count('escalate')} "
          f"escalate; e.g. {ref_drafts[0][0][:120]!r}")  # fmt: skip


# --- load: concurrent requests through a real Celery worker ----------------------------------

_bench: dict[str, Any] = {}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def load(loaded: Any, drafts: list[Any], args: Any, data_dir: Path) -> None:
    """1/8/32 concurrent drafts through Celery (threads pool) vs fp32 one at a time."""
    import redis

    from bot.settings import Settings
    from nlp.inference import backend_for
    from workers.app import MODELS_QUEUE, create_celery_app
    from workers.embedded import EmbeddedRedis, InProcessWorker

    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        inference_backend=args.backend if args.backend in ("auto", *SETTINGS_BACKENDS) else "auto",
        inference_max_batch=args.max_batch,
    )
    options = InferenceOptions.from_settings(settings)
    if (
        args.backend in BACKENDS and args.backend != "auto"
    ):  # a benchmark name, batched as in Parley
        backend = make_backend(loaded, args.backend, args.cache_dir)
        batcher = MicroBatcher(
            backend, max_batch=options.max_batch, max_wait=options.batch_wait_ms / 1000
        )
    else:
        batcher = backend_for(loaded, options, cache_dir=args.cache_dir)
    n = args.draft_tokens if args.own_length else args.max_new
    least = 0 if args.own_length else n
    _bench["drafter"] = LLMDrafter(batcher, max_new_tokens=n, min_new_tokens=least)
    _bench["drafts"] = drafts
    levels = [int(x) for x in args.levels.split(",")]
    length = (
        f"drafts at their own length (at most {n} tokens)"
        if least == 0
        else f"{n} new tokens per draft"
    )
    print(f"\n## Under load on {loaded.device}: {batcher.name}, max batch {options.max_batch}, "
          f"wait {options.batch_wait_ms:.0f} ms, {length}")  # fmt: skip
    print("| setup | concurrent | drafts/s | tok/s | p50 s | p95 s | vs baseline |")
    print("|---|---|---|---|---|---|---|")
    names = ["transformers fp32"] + (["transformers bf16"] if loaded.device == "cuda" else [])
    base_rate = 0.0
    for name in names:  # one at a time, whole prompt: what plain transformers does
        plain = LLMDrafter(
            make_backend(loaded, name, args.cache_dir),
            max_new_tokens=n, min_new_tokens=least, reuse_prefix=False,
        )  # fmt: skip
        plain.draft(*drafts[0], language="en")  # warm up (CUDA kernels, allocator)
        started = time.perf_counter()
        base_lat, tokens = [], 0
        for i in range(args.baseline_n):
            t0 = time.perf_counter()
            tokens += plain.draft(*drafts[i % len(drafts)], language="en").new_tokens
            base_lat.append(time.perf_counter() - t0)
        elapsed = time.perf_counter() - started
        rate = args.baseline_n / elapsed
        base_rate = base_rate or rate
        p50, p95 = percentile(base_lat, 0.5), percentile(base_lat, 0.95)
        print(f"| plain {name}, one at a time | 1 | {rate:.3f} | {tokens / elapsed:.1f} | "
              f"{p50:.2f} | {p95:.2f} | {rate / base_rate:.2f}x |", flush=True)  # fmt: skip
    server = EmbeddedRedis(data_dir)
    url = server.start()
    app = create_celery_app(Settings(_env_file=None, redis_url=url, data_dir=data_dir))  # type: ignore[call-arg]
    _bench["redis"] = client = redis.Redis.from_url(url)
    task = app.task(name="bench.draft", queue=MODELS_QUEUE)(_draft_task)
    worker = InProcessWorker(app, concurrency=max(levels), loglevel="WARNING")
    worker.start()
    sustained = 0
    try:
        task.delay(0)
        pop(client, 900)  # warm up
        for level in levels if args.warm else []:  # compiled backends: every batch size once
            for i in range(level):
                task.delay(i % len(drafts))
            [pop(client, 1800) for _ in range(level)]
        for level in levels:
            sent = time.time()
            for i in range(level):
                task.delay(i % len(drafts))
            done = [pop(client, 1800) for _ in range(level)]
            lat = [d["finished"] - sent for d in done]
            rate = level / max(lat)
            p95 = percentile(lat, 0.95)
            if p95 < args.p95_target:
                sustained = level
            print(f"| Parley via Celery, {batcher.name} | {level} | {rate:.3f} | "
                  f"{sum(d['tokens'] for d in done) / max(lat):.1f} | "
                  f"{percentile(lat, 0.5):.2f} | {p95:.2f} | "
                  f"{rate / base_rate:.2f}x |", flush=True)  # fmt: skip
    finally:
        worker.stop()
        server.stop()
    print(f"batch sizes seen: {sorted(set(batcher.batch_sizes))}")
    print(f"largest level with p95 under {args.p95_target:.1f} s: {sustained or 'none'} "
          f"concurrent ({n}-token drafts)")  # fmt: skip


DONE = "bench:done"


def pop(client: Any, timeout: float) -> dict[str, Any]:
    """The next finished task's record (short BLPOPs: the client has a socket timeout)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        item = client.blpop([DONE], timeout=2)
        if item is not None:
            return dict(json.loads(item[1]))
    raise TimeoutError(f"no draft finished within {timeout:.0f} s")


def _draft_task(index: int) -> None:
    """One draft; its finish time goes to a Redis list (Parley's app ignores task results)."""
    question, hits = _bench["drafts"][index]
    result = _bench["drafter"].draft(question, hits, language="en")
    _bench["redis"].rpush(DONE, json.dumps({"finished": time.time(), "tokens": result.new_tokens}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="builtin:qwen2.5-coder-0.5b-instruct")
    parser.add_argument("--sections", default="speed,quality")
    parser.add_argument("--backends", default=",".join(BACKENDS))
    parser.add_argument("--n", type=int, default=6, help="drafts and translations per set")
    parser.add_argument("--speed-prompts", type=int, default=3)
    parser.add_argument(
        "--prompts", choices=["faq", "kb"], default="faq",
        help="draft prompts: faq (FAQ rows as passages; answers copy them) or kb (Parley's "
        "sample KB through its retriever, the bench_answers questions; answers paraphrase)",
    )  # fmt: skip
    parser.add_argument("--whole-prompt", default="ct2 float32",
                        help="backends also measured without prefix reuse (speed)")  # fmt: skip
    parser.add_argument("--max-new", type=int, default=48, help="fixed answer length (speed)")
    parser.add_argument("--draft-tokens", type=int, default=120, help="max answer (quality)")
    parser.add_argument("--levels", default="1,8,32", help="concurrency levels (load)")
    parser.add_argument(
        "--backend", default="auto", help="backend under load: a settings name or a --backends name"
    )
    parser.add_argument("--baseline-n", type=int, default=3, help="one-at-a-time requests")
    parser.add_argument("--max-batch", type=int, default=16, help="batcher's max batch (load)")
    parser.add_argument(
        "--own-length", action="store_true",
        help="load: drafts end where the model ends them (at most --draft-tokens) instead of "
        "exactly --max-new tokens",
    )  # fmt: skip
    parser.add_argument("--p95-target", type=float, default=2.0, help="seconds (load)")
    parser.add_argument(
        "--warm", action="store_true", help="run each load level once first (compiled backends)"
    )
    parser.add_argument("--device", default="cpu", choices=["auto", "cpu", "cuda"])
    parser.add_argument("--cache-dir", type=Path, default=platformdirs.user_cache_path("parley"))
    args = parser.parse_args()
    import torch

    loaded = load_causal_lm(args.model, cache_dir=args.cache_dir, device=args.device)
    sections = set(args.sections.split(","))
    count = max(args.n, args.speed_prompts)
    drafts = kb_draft_set(count, args.cache_dir) if args.prompts == "kb" else draft_set(count)
    print(f"model {args.model}, {loaded.device}, {torch.get_num_threads()} threads")
    if sections & {"speed", "quality"}:
        backends = {}
        for name in args.backends.split(","):
            backends[name] = make_backend(loaded, name, args.cache_dir)
            print(f"  {name}: {backends[name].name}", flush=True)
        if "speed" in sections:
            speed(backends, drafts, args, loaded)
        if "quality" in sections:
            quality(backends, drafts[: args.n], args)
    if "load" in sections:
        load(loaded, drafts, args, Path(tempfile.mkdtemp(prefix="parley-bench-")))


if __name__ == "__main__":
    main()
