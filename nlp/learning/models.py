"""Loading a base model for training, and the generation the evaluation gate scores."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.errors import ModelUnavailableError
from bot.settings import Settings
from nlp.learning.examples import Example, Kind
from nlp.learning.prompts import dialogue_messages, translation_messages
from nlp.learning.training import Sample
from nlp.loading import resolve_device, resolve_model_source


@dataclass(slots=True)
class Trainable:
    model: Any
    tokenizer: Any
    ref: str
    device: str
    seq2seq: bool


def base_model_ref(settings: Settings, kind: Kind) -> str:
    """The configured model of `kind` (what serves when nothing is promoted)."""
    if kind == "dialogue":
        return settings.dialogue_model
    models = settings.translation_models
    ref = models.get("*") or next(iter(models.values()))
    return ref.removeprefix("instruct:")


def load_trainable(ref: str, settings: Settings) -> Trainable:
    """A fresh, float32 (CPU) or bf16 (CUDA) copy of a model to train; not the cached one."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM, AutoModelForSeq2SeqLM, AutoTokenizer

    device = resolve_device(settings.device)
    source = ref if Path(ref).is_dir() else resolve_model_source(ref, settings.cache_dir)
    try:
        config = AutoConfig.from_pretrained(source)
        seq2seq = bool(getattr(config, "is_encoder_decoder", False))
        auto: Any = AutoModelForSeq2SeqLM if seq2seq else AutoModelForCausalLM
        dtype = torch.bfloat16 if device == "cuda" and torch.cuda.is_bf16_supported() else None
        model: Any = auto.from_pretrained(source, dtype=dtype or torch.float32)
        tokenizer = AutoTokenizer.from_pretrained(source)
    except (OSError, ValueError) as exc:
        raise ModelUnavailableError(f"Cannot load the model to train {ref!r}: {exc}") from exc
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    model.to(device)
    model.eval()
    return Trainable(model, tokenizer, ref, device, seq2seq)


def seq2seq_translator(model: Any, tokenizer: Any, device: str, batch_size: int) -> Any:
    from nlp.translation.seq2seq import LoadedSeq2Seq, Seq2SeqTranslator

    # Never generate past the model's positions (small models stop at 64 or 512).
    budget = min(128, int(getattr(model.config, "max_position_embeddings", 130) or 130) - 2)
    return Seq2SeqTranslator(
        LoadedSeq2Seq(model, tokenizer, "training", device),
        batch_size=batch_size,
        max_new_tokens=budget,
    )


def to_samples(kind: Kind, examples: Sequence[Example], trainable: Trainable) -> list[Sample]:
    """Training samples in the form the model is prompted with at run time."""
    if kind == "dialogue":
        return [
            Sample(dialogue_messages(e.input, e.passages, language=e.target_language), e.output)
            for e in examples
        ]
    if not trainable.seq2seq:
        return [
            Sample(
                translation_messages(
                    e.input, source=e.source_language, target=e.target_language or "en"
                ),
                e.output,
            )
            for e in examples
        ]
    translator = seq2seq_translator(trainable.model, trainable.tokenizer, trainable.device, 8)
    out = []
    for e in examples:  # the family's language tokens/prefixes, exactly as at run time
        inputs, _ = translator._prepare([e.input], e.target_language or "en", e.source_language)
        out.append(Sample(inputs[0], e.output))
    return out


def generate(
    kind: Kind, trainable: Trainable, examples: Sequence[Example], batch: int
) -> list[str]:
    """The model's outputs for the test examples, greedy, as the runtime would produce them."""
    model, tokenizer, device = trainable.model, trainable.tokenizer, trainable.device
    if kind == "translation":
        if trainable.seq2seq:
            translator: Any = seq2seq_translator(model, tokenizer, device, batch)
        else:
            from nlp.inference.hf import TransformersBackend
            from nlp.translation.instruct import InstructTranslator

            # The weights in memory, for old and new alike: the process's configured backend
            # (e.g. CTranslate2) would convert the folder on disk and miss the tuned weights.
            backend = TransformersBackend(model, tokenizer, device, label=trainable.ref)
            translator = InstructTranslator(backend, batch_size=batch, max_new_tokens=128)
        out = [""] * len(examples)
        groups: dict[tuple[str | None, str], list[int]] = {}
        for i, e in enumerate(examples):  # one batched call per language pair
            groups.setdefault((e.source_language, e.target_language or "en"), []).append(i)
        for (source, target), indices in groups.items():
            texts = [examples[i].input for i in indices]
            outputs = translator.translate(texts, target=target, source=source)
            for i, text in zip(indices, outputs, strict=True):
                out[i] = text
        return out
    return _generate_chat(
        trainable,
        [dialogue_messages(e.input, e.passages, language=e.target_language) for e in examples],
        batch,
    )


def _generate_chat(
    trainable: Trainable, chats: list[list[dict[str, str]]], batch: int
) -> list[str]:
    import torch

    tokenizer, model = trainable.tokenizer, trainable.model
    prompts = [
        str(tokenizer.apply_chat_template(c, add_generation_prompt=True, tokenize=False))
        for c in chats
    ]
    out: list[str] = []
    for start in range(0, len(prompts), batch):
        enc = tokenizer(
            prompts[start : start + batch],
            return_tensors="pt",
            padding=True,
            padding_side="left",
            add_special_tokens=False,
        ).to(trainable.device)
        with torch.inference_mode():
            ids = model.generate(
                **enc,
                max_new_tokens=160,
                do_sample=False,
                temperature=None,
                top_p=None,
                top_k=None,
                pad_token_id=tokenizer.pad_token_id,
            )
        new = ids[:, enc["input_ids"].shape[1] :]
        out += [str(t).strip() for t in tokenizer.batch_decode(new, skip_special_tokens=True)]
    return out
