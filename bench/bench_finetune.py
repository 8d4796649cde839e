"""LoRA-tune the offline instruct model on SV->EN pairs and measure chrF/BLEU before and after.

Data: zaragoza-construction-faq (CC BY 4.0): Swedish questions and their English versions, matched
by id (the English was translated from the Swedish). Split by `nlp.learning.examples.split_of`
on the FAQ id (the same deterministic split the learning loop uses); the test pairs are never
trained on. Training samples use the runtime prompt without its worked example
(`nlp.learning.prompts`); both the base model and the tuned one translate through Parley's
runtime translator (`InstructTranslator`, the production prompt, greedy): the gain users see.
Run: HF_HUB_OFFLINE=1 python bench/bench_finetune.py [--train 112] [--test 48] [--epochs 1]
Measured (docs/learning.md): chrF 38.89 -> 42.45, BLEU 21.56 -> 27.33 on 48 held-out pairs.
"""

from __future__ import annotations

import argparse
import json
import time
from importlib import resources
from typing import Any

import sacrebleu
import torch

from bot.settings import Settings
from nlp.inference.hf import TransformersBackend
from nlp.learning.examples import split_of
from nlp.learning.prompts import translation_messages
from nlp.learning.training import Sample, TrainConfig, Trainer, wrap_lora
from nlp.loading import resolve_device, resolve_model_source
from nlp.translation.instruct import InstructTranslator


def faq_split() -> dict[str, list[tuple[str, str]]]:
    """(Swedish, English) question pairs per split, shortest first within each split."""
    faq = resources.files("zaragoza_construction_faq")
    sv = [json.loads(x) for x in faq.joinpath("data/faq.jsonl").read_text("utf-8").splitlines()]
    en = {
        r["id"]: r["q"]
        for r in map(json.loads, faq.joinpath("data/faq-en.jsonl").read_text("utf-8").splitlines())
    }
    out: dict[str, list[tuple[str, str]]] = {"train": [], "validation": [], "test": []}
    for row in sv:
        if row["id"] in en:
            out[split_of(row["id"])].append((row["q"], en[row["id"]]))
    return out


def scores(translator: InstructTranslator, pairs: list[tuple[str, str]]) -> dict[str, Any]:
    started = time.perf_counter()
    hyps = translator.translate([s for s, _ in pairs], target="en", source="sv")
    refs = [[t for _, t in pairs]]
    return {
        "chrf": round(sacrebleu.corpus_chrf(hyps, refs).score, 2),
        "bleu": round(sacrebleu.corpus_bleu(hyps, refs).score, 2),
        "seconds": round(time.perf_counter() - started, 1),
        "examples": hyps[:3],
    }


def samples(pairs: list[tuple[str, str]]) -> list[Sample]:
    return [Sample(translation_messages(s, target="en", source="sv"), t) for s, t in pairs]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default="builtin:qwen2.5-coder-0.5b-instruct")
    parser.add_argument("--train", type=int, default=112)
    parser.add_argument("--validation", type=int, default=16)
    parser.add_argument("--test", type=int, default=48)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--lr", type=float, default=5e-4)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--lora-layers", type=int, default=8, help="top N layers; 0 = all")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", default="", help="write the figures as JSON here")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    device = resolve_device(settings.device)
    split = faq_split()
    train, val, test = (
        split["train"][: args.train],
        split["validation"][: args.validation],
        split["test"][: args.test],
    )
    print("FAQ SV->EN pairs available: " + ", ".join(f"{k} {len(v)}" for k, v in split.items()))
    print(f"used: train {len(train)}, validation {len(val)}, test {len(test)}; device {device}")
    from transformers import AutoModelForCausalLM, AutoTokenizer

    source = resolve_model_source(args.model, settings.cache_dir)
    tokenizer = AutoTokenizer.from_pretrained(source)
    model = AutoModelForCausalLM.from_pretrained(source, dtype=torch.float32).to(device)
    model.eval()
    lengths = [len(tokenizer.apply_chat_template(s.prompt, tokenize=False)) for s in samples(train)]
    print(f"prompt chars: mean {sum(lengths) / len(lengths):.0f}, max {max(lengths)}")
    # The in-memory weights, fp32 transformers, for both runs (the process's default CPU backend
    # would convert the model folder on disk to CTranslate2 and miss the tuned weights).
    backend = TransformersBackend(model, tokenizer, device, label="base")
    translator = InstructTranslator(backend, batch_size=8)
    before = scores(translator, test)
    print(
        f"before: chrF {before['chrf']} BLEU {before['bleu']} ({before['seconds']} s)", flush=True
    )
    config = TrainConfig(
        learning_rate=args.lr,
        epochs=args.epochs,
        batch_size=args.batch,
        lora_layers=args.lora_layers or None,
        max_length=256,
    )
    peft_model = wrap_lora(model, config, seq2seq=False)
    trainable = sum(p.numel() for p in peft_model.parameters() if p.requires_grad)
    print(f"LoRA r={config.lora_r} on {config.lora_layers or 'all'} layers: {trainable:,} params")
    result = Trainer(peft_model, tokenizer, config, device, seq2seq=False).fit(
        samples(train), samples(val)
    )
    print(f"trained {result.steps} steps in {result.seconds:.0f} s; val loss {result.val_loss}")
    merged = peft_model.merge_and_unload()
    merged.eval()
    backend = TransformersBackend(merged, tokenizer, device, label="tuned")
    translator = InstructTranslator(backend, batch_size=8)
    after = scores(translator, test)
    print(f"after:  chrF {after['chrf']} BLEU {after['bleu']} ({after['seconds']} s)")
    print("before examples:", before["examples"])
    print("after examples: ", after["examples"])
    if args.out:
        figures = {
            "train": len(train),
            "validation": len(val),
            "test": len(test),
            "epochs": args.epochs,
            "lr": args.lr,
            "steps": result.steps,
            "train_seconds": round(result.seconds),
            "val_loss": result.val_loss,
            "before": before,
            "after": after,
            "device": device,
        }
        with open(args.out, "w") as handle:
            json.dump(figures, handle, indent=2, ensure_ascii=False)


if __name__ == "__main__":
    main()
