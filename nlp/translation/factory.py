"""One factory: settings -> a chat-safe translator routing each language pair to its model."""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from bot.settings import Settings
from nlp.glossary import Glossary, load_glossary
from nlp.inference import InferenceOptions, backend_for
from nlp.langid import Py3LangidDetector
from nlp.loading import BUILTIN_PREFIX, load_causal_lm
from nlp.translation.base import Translator, model_for_pair
from nlp.translation.chat import ChatTranslator
from nlp.translation.instruct import InstructTranslator
from nlp.translation.seq2seq import Seq2SeqTranslator, load_seq2seq

logger = logging.getLogger(__name__)

SEQ2SEQ_PREFIX = "seq2seq:"
INSTRUCT_PREFIX = "instruct:"


def is_seq2seq(model_ref: str) -> bool:
    """True for encoder-decoder models (Marian, NLLB, M2M100, T5), from their config."""
    if model_ref.startswith(SEQ2SEQ_PREFIX):
        return True
    if model_ref.startswith((INSTRUCT_PREFIX, BUILTIN_PREFIX)):
        return False
    from transformers import AutoConfig

    try:
        config = AutoConfig.from_pretrained(
            model_ref, local_files_only=not Path(model_ref).is_dir()
        )
    except (OSError, ValueError):
        return False  # let the causal loader report what is wrong with it
    return bool(getattr(config, "is_encoder_decoder", False))


class RoutedTranslator:
    """A `Translator` that sends each pair to the model `translation_models` names for it;
    models load on first use and stay loaded."""

    def __init__(self, models: Mapping[str, str], load: Callable[[str], Translator]) -> None:
        self.models = dict(models)
        self._load = load
        self._loaded: dict[str, Translator] = {}
        self._lock = threading.Lock()

    def model(self, source: str | None, target: str) -> Translator:
        ref = model_for_pair(self.models, source, target)
        with self._lock:
            if ref not in self._loaded:
                self._loaded[ref] = self._load(ref)
            return self._loaded[ref]

    def translate(
        self, texts: Sequence[str], *, target: str, source: str | None = None
    ) -> list[str]:
        return self.model(source, target).translate(texts, target=target, source=source)


def translation_options(settings: Settings) -> InferenceOptions:
    """The inference options of the instruct translator: the general ones, except the compute
    type. `auto` on CPU with auto inference settings is CTranslate2 int8: for translation it kept
    chrF against the references (docs/translation.md "Speed") while drafting keeps float32, where
    int8 changed answers."""
    options = InferenceOptions.from_settings(settings)
    compute = settings.translation_compute_type
    if compute == "same":
        return options
    if compute == "auto":
        cpu = settings.device == "cpu" or (settings.device == "auto" and not _cuda())
        if options.backend != "auto" or options.compute_type != "auto" or not cpu:
            return options
        compute = "int8"
    return dataclasses.replace(options, backend="ctranslate2", compute_type=compute)


def _cuda() -> bool:
    import torch

    return bool(torch.cuda.is_available())


def load_translator(model_ref: str, settings: Settings) -> Translator:
    """A seq2seq or instruct translator for one model reference."""
    if is_seq2seq(model_ref):
        loaded = load_seq2seq(model_ref.removeprefix(SEQ2SEQ_PREFIX), device=settings.device)
        return Seq2SeqTranslator(
            loaded,
            batch_size=settings.translation_batch_size,
            max_new_tokens=settings.translation_max_new_tokens,
        )
    causal = load_causal_lm(
        model_ref.removeprefix(INSTRUCT_PREFIX),
        cache_dir=settings.cache_dir,
        device=settings.device,
    )
    backend = backend_for(causal, translation_options(settings), cache_dir=settings.cache_dir)
    return InstructTranslator(
        backend,
        batch_size=settings.translation_batch_size,
        max_new_tokens=settings.translation_max_new_tokens,
    )


def build_translator(settings: Settings) -> ChatTranslator:
    """The translator the worker and the CLI use (models load lazily, on first translation)."""
    glossary = load_glossary(settings.glossary_file) if settings.glossary_file else Glossary()
    backend = RoutedTranslator(
        settings.translation_models, lambda ref: load_translator(ref, settings)
    )
    return ChatTranslator(
        backend,
        detector=Py3LangidDetector(),
        max_segment_chars=settings.translation_segment_chars,
        glossary=glossary,
    )
