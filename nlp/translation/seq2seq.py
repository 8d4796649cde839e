"""`Seq2SeqTranslator`: Marian/OPUS-MT, NLLB, M2M100 (and T5) through `AutoModelForSeq2SeqLM`."""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.errors import InvalidInputError, ModelUnavailableError
from nlp.loading import resolve_device
from nlp.translation.codes import (
    Family,
    m2m100_code,
    marian_target_token,
    model_family,
    nllb_code,
    t5_prefix,
)

logger = logging.getLogger(__name__)

SETTING = "PARLEY_TRANSLATION_MODELS"


@dataclass(frozen=True, slots=True)
class LoadedSeq2Seq:
    model: Any
    tokenizer: Any
    name: str
    device: str


def _from_pretrained(source: str, **kwargs: Any) -> tuple[Any, Any]:
    from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(source, **kwargs)
    model = AutoModelForSeq2SeqLM.from_pretrained(source, **kwargs)
    return model, tokenizer


@functools.lru_cache(maxsize=8)
def load_seq2seq(model_ref: str, *, device: str = "auto") -> LoadedSeq2Seq:
    """Load a seq2seq model from a folder or a hub id, once per process (local cache first)."""
    from huggingface_hub import constants

    started = time.monotonic()
    target = resolve_device(device)
    path = Path(model_ref).expanduser()
    try:
        if path.is_dir():
            model, tokenizer = _from_pretrained(str(path))
        else:
            try:
                model, tokenizer = _from_pretrained(model_ref, local_files_only=True)
            except OSError:
                if constants.HF_HUB_OFFLINE:
                    raise ModelUnavailableError(
                        f"{SETTING}: {model_ref!r} is neither a folder nor in the local Hugging "
                        "Face cache, and the hub is offline (HF_HUB_OFFLINE=1); download it on a "
                        "connected machine or point the pair at a local folder"
                    ) from None
                model, tokenizer = _from_pretrained(model_ref)
    except (OSError, ValueError) as exc:
        raise ModelUnavailableError(f"{SETTING}: {model_ref!r} failed to load: {exc}") from exc
    model.to(target)
    model.eval()
    logger.info("Loaded translation model %s in %.1f s", model_ref, time.monotonic() - started)
    return LoadedSeq2Seq(model, tokenizer, model_ref, target)


def _batches(order: list[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(order), size):
        yield order[start : start + size]


class Seq2SeqTranslator:
    """`Translator` on an encoder-decoder model, batched (inputs sorted by length)."""

    def __init__(
        self,
        loaded: LoadedSeq2Seq,
        *,
        batch_size: int = 16,
        max_new_tokens: int = 256,
        num_beams: int = 1,
    ) -> None:
        self.loaded = loaded
        self.batch_size = batch_size
        self.max_new_tokens = max_new_tokens
        self.num_beams = num_beams
        self.family: Family = model_family(loaded.model, loaded.tokenizer)
        # NLLB/M2M100 keep the source language on the tokenizer: one translation at a time.
        self._lock = threading.Lock()

    def _prepare(
        self, texts: Sequence[str], target: str, source: str | None
    ) -> tuple[list[str], dict[str, Any]]:
        """Inputs and generate() arguments carrying the family's language codes."""
        tokenizer = self.loaded.tokenizer
        if self.family == "nllb":
            if source is None:
                raise InvalidInputError("NLLB needs the source language; pass --from")
            tokenizer.src_lang = nllb_code(source)
            bos = tokenizer.convert_tokens_to_ids(nllb_code(target))
            return list(texts), {"forced_bos_token_id": bos}
        if self.family == "m2m100":
            if source is None:
                raise InvalidInputError("M2M100 needs the source language; pass --from")
            tokenizer.src_lang = m2m100_code(source)
            return list(texts), {"forced_bos_token_id": tokenizer.get_lang_id(m2m100_code(target))}
        if self.family == "marian":
            token = marian_target_token(tokenizer, target)
            return [f"{token} {t}" if token else t for t in texts], {}
        if self.family == "t5":
            prefix = t5_prefix(source, target)
            return [prefix + t for t in texts], {}
        return list(texts), {}

    def translate(
        self, texts: Sequence[str], *, target: str, source: str | None = None
    ) -> list[str]:
        """Translate `texts` into `target`, `batch_size` at a time; order is kept."""
        if not texts:
            return []
        with self._lock:
            return self._translate(texts, target, source)

    def _translate(self, texts: Sequence[str], target: str, source: str | None) -> list[str]:
        import torch

        inputs, extra = self._prepare(texts, target, source)
        tokenizer, model = self.loaded.tokenizer, self.loaded.model
        order = sorted(range(len(inputs)), key=lambda i: len(inputs[i]))
        out: list[str] = [""] * len(inputs)
        for batch in _batches(order, self.batch_size):
            enc = tokenizer(
                [inputs[i] for i in batch], return_tensors="pt", padding=True, truncation=False
            ).to(self.loaded.device)
            with torch.inference_mode():
                generated = model.generate(
                    **enc,
                    max_new_tokens=self.max_new_tokens,
                    num_beams=self.num_beams,
                    do_sample=False,
                    **extra,
                )
            decoded = tokenizer.batch_decode(generated, skip_special_tokens=True)
            for i, text in zip(batch, decoded, strict=True):
                out[i] = text.strip()
        return out
