"""Translation quality (chrF, BLEU) and throughput of Parley's offline default translator.

Same model (builtin:qwen2.5-coder-0.5b-instruct, CPU), same run:
- Parley: `build_translator` (chat-safe ChatTranslator + InstructTranslator) on the inference
  backend the settings select (PARLEY_INFERENCE_BACKEND, default auto) behind the micro-batcher;
  k concurrent messages = k threads each calling `translate([message])` at once (as k worker
  threads do), batched together by the micro-batcher;
- Parley unbatched: the same translator, one message after the other (batching must not cost
  quality: chrF within 0.5);
- baseline: plain transformers fp32, one message at a time, a bare "Translate to X" chat prompt,
  no protection, no batching.
Data: zaragoza-construction-faq (CC BY 4.0) Swedish questions -> their English versions (the
English was translated from the Swedish) and the reverse, EN -> SV; and
bench/data/support_phrases.jsonl, 12 English support phrases with Spanish, German and Chinese
references written by the Parley team, both directions.
Run: HF_HUB_OFFLINE=1 python bench/bench_translation.py [--n 16] [--batch 32]
"""

from __future__ import annotations

import argparse
import json
import time
from concurrent.futures import ThreadPoolExecutor
from importlib import resources
from pathlib import Path
from typing import Any

import sacrebleu
import torch

from bot.settings import Settings
from nlp.loading import load_causal_lm
from nlp.translation import build_translator
from nlp.translation.instruct import language_name

DATA = Path(__file__).parent / "data"


def faq_pairs(n: int) -> tuple[list[str], list[str]]:
    faq = resources.files("zaragoza_construction_faq")
    sv = [json.loads(x) for x in faq.joinpath("data/faq.jsonl").read_text("utf-8").splitlines()]
    en = {
        r["id"]: r["q"]
        for r in map(json.loads, faq.joinpath("data/faq-en.jsonl").read_text("utf-8").splitlines())
    }
    rows = [r for r in sv if r["id"] in en][::7][:n]  # spread over the categories
    return [r["q"] for r in rows], [en[r["id"]] for r in rows]


def baseline(loaded: Any, texts: list[str], target: str) -> tuple[list[str], int]:
    """Plain transformers: one message at a time, a bare prompt."""
    tok, model = loaded.tokenizer, loaded.model
    outs, new_tokens = [], 0
    for text in texts:
        messages = [{"role": "user", "content": f"Translate to {language_name(target)}:\n{text}"}]
        enc = tok.apply_chat_template(
            messages, add_generation_prompt=True, return_tensors="pt", return_dict=True
        )
        with torch.inference_mode():
            out = model.generate(**enc, max_new_tokens=128, do_sample=False, top_p=None,
                                 top_k=None, temperature=None)  # fmt: skip
        new = out[0, enc["input_ids"].shape[1] :]
        new_tokens += int(new.shape[0])
        outs.append(tok.decode(new, skip_special_tokens=True).strip())
    return outs, new_tokens


def parley(
    settings: Settings, texts: list[str], target: str, batch: int, source: str | None = None
) -> list[str]:
    """`len(texts)` concurrent callers, one message each (batch > 1), or one after the other."""
    translator = build_translator(settings)
    if batch <= 1:
        return [translator.translate([t], target=target, source=source)[0] for t in texts]
    with ThreadPoolExecutor(max_workers=len(texts)) as pool:
        return list(
            pool.map(lambda t: translator.translate([t], target=target, source=source)[0], texts)
        )


def tokens(loaded: Any, texts: list[str]) -> int:
    return sum(len(loaded.tokenizer(t, add_special_tokens=False)["input_ids"]) for t in texts)


def score(hyps: list[str], refs: list[str], target: str) -> str:
    tokenize = "zh" if target == "zh" else "13a"
    chrf = sacrebleu.corpus_chrf(hyps, [refs]).score
    bleu = sacrebleu.corpus_bleu(hyps, [refs], tokenize=tokenize).score
    return f"chrF {chrf:5.1f}  BLEU {bleu:5.1f}"


def timed(label: str, func: Any, *args: Any) -> tuple[Any, float]:
    started = time.perf_counter()
    result = func(*args)
    seconds = time.perf_counter() - started
    print(f"  [{label}: {seconds:.1f} s]", flush=True)
    return result, seconds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=16)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--skip-phrases", action="store_true")
    parser.add_argument("--skip-faq", action="store_true")
    parser.add_argument("--skip-baseline", action="store_true", help="phrases: Parley only")
    parser.add_argument("--baseline-n", type=int, default=8, help="FAQ: baseline messages")
    args = parser.parse_args()
    torch.set_num_threads(2)
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, inference_max_batch=args.batch
    )
    loaded = load_causal_lm(settings.translation_models["*"], cache_dir=settings.cache_dir)
    parley(settings, ["warm up"], "en", 1)
    routed: Any = build_translator(settings).backend
    backend = routed.model(None, "en").backend
    print(f"Parley's translator runs on {backend.name}, max batch {settings.inference_max_batch}")
    if not args.skip_faq:
        faq(settings, loaded, args.n, args.batch, args.baseline_n)
        reverse_faq(settings, args.n, args.batch)
    if not args.skip_phrases:
        phrases(settings, loaded, args.batch, baseline_too=not args.skip_baseline)


def faq(settings: Settings, loaded: Any, n: int, batch: int, base_n: int) -> None:
    """SV->EN quality and throughput at 1, 8 and n concurrent messages."""
    sv, en = faq_pairs(n)
    print(f"FAQ SV->EN, {len(sv)} questions, {settings.translation_models['*']}, CPU, 2 threads")
    base_in = sv[:base_n]  # msg/s of the baseline measured on the first base_n messages
    (base_out, base_new), base_s = timed("baseline one by one", baseline, loaded, base_in, "en")
    rows = [("baseline (plain generate, 1 at a time)", base_out, base_s, base_new)]
    for k in (1, 8):
        sub, seconds = timed(f"parley {k} concurrent", parley, settings, sv[:k], "en", k)
        rows.append((f"parley, {k} concurrent", sub, seconds, tokens(loaded, sub)))
    out, seconds = timed(f"parley {len(sv)} concurrent", parley, settings, sv, "en", batch)
    rows.append((f"parley, {len(sv)} concurrent (max batch {batch})", out, seconds,
                 tokens(loaded, out)))  # fmt: skip
    one, seconds1 = timed("parley unbatched", parley, settings, sv, "en", 1)
    rows.append(("parley unbatched (batch 1)", one, seconds1, tokens(loaded, one)))
    print("| system | messages | msg/s | out tok/s | quality (all messages) |")
    print("|---|---|---|---|---|")
    for name, hyps, seconds, new in rows:
        quality = score(hyps, en[: len(hyps)], "en")
        speed = f"{len(hyps) / seconds:.2f} | {new / seconds:.1f}"
        print(f"| {name} | {len(hyps)} | {speed} | {quality} |")
    drop = sacrebleu.corpus_chrf(out, [en]).score - sacrebleu.corpus_chrf(one, [en]).score
    base_rate = len(base_in) / base_s
    print(f"speed-up at {len(sv)} concurrent vs baseline: {len(sv) / rows[3][2] / base_rate:.2f}x; "
          f"vs parley unbatched: {seconds1 / rows[3][2]:.2f}x; chrF batched - unbatched: "
          f"{drop:+.2f}")  # fmt: skip
    for i in range(3):
        print(f"  sv: {sv[i]}\n  ref: {en[i]}\n  parley: {out[i]}\n  base: {base_out[i]}")


def reverse_faq(settings: Settings, n: int, batch: int) -> None:
    """EN->SV: the FAQ's English questions into Swedish, against the Swedish originals."""
    sv, en = faq_pairs(n)
    hyps = parley(settings, en, "sv", batch, "en")
    print(f"FAQ EN->SV ({len(en)} questions, concurrent): {score(hyps, sv, 'sv')}")
    print(f"  e.g. {hyps[0]}", flush=True)


def phrases(settings: Settings, loaded: Any, batch: int, *, baseline_too: bool) -> None:
    """Support phrases EN->ES/DE/ZH and ES/DE/ZH->EN against references."""
    rows = [json.loads(x) for x in (DATA / "support_phrases.jsonl").read_text().splitlines()]
    print("Support phrases (references by the Parley team), parley (concurrent) vs baseline:")
    for lang in ("es", "de", "zh"):
        for source, target in (("en", lang), (lang, "en")):
            src, refs = [p[source] for p in rows], [p[target] for p in rows]
            hyps = parley(settings, src, target, batch, source)
            base = baseline(loaded, src, target)[0] if baseline_too else hyps
            ours, theirs = score(hyps, refs, target), score(base, refs, target)
            shown = theirs if baseline_too else "-"
            print(f"  {source}->{target}: parley {ours} | baseline {shown}")
            print(f"    e.g. {hyps[0]} | {base[0]}", flush=True)


if __name__ == "__main__":
    main()
