"""The `Translator` interface and the settings map from language pairs to models."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Protocol

from bot.errors import InvalidInputError

WILDCARD = "*"
_PAIR = re.compile(r"^(?:\*|[a-z]{2,3}-[a-z]{2,3}|[a-z]{2,3}-\*|\*-[a-z]{2,3})$")


class Translator(Protocol):
    """Translates a batch of texts into one target language (ISO 639-1 codes).

    `source=None` means "detect or let the model work it out". The output has one string per
    input, in order.
    """

    def translate(
        self, texts: Sequence[str], *, target: str, source: str | None = None
    ) -> list[str]: ...


class UnsupportedPairError(InvalidInputError):
    """No configured model translates this language pair."""


def check_pair_keys(models: Mapping[str, str]) -> None:
    """Validate `translation_models` keys: `src-tgt`, `src-*`, `*-tgt` or `*`."""
    for key in models:
        if not _PAIR.match(key):
            raise ValueError(
                f"translation model key {key!r} must be 'en-de', 'en-*', '*-de' or '*'"
            )


def model_for_pair(models: Mapping[str, str], source: str | None, target: str) -> str:
    """The model configured for `source`->`target`: exact pair, then `src-*`, `*-tgt`, `*`.

    Raises UnsupportedPairError listing the configured pairs when none matches.
    """
    candidates = [f"{WILDCARD}-{target}", WILDCARD]
    if source is not None:
        candidates[:0] = [f"{source}-{target}", f"{source}-{WILDCARD}"]
    for key in candidates:
        if key in models:
            return models[key]
    pairs = ", ".join(sorted(models)) or "none"
    raise UnsupportedPairError(
        f"No translation model for {source or 'unknown language'} -> {target}; configured "
        f"pairs: {pairs} (set PARLEY_TRANSLATION_MODELS, e.g. "
        '\'{"en-de": "Helsinki-NLP/opus-mt-en-de", "*": "builtin:qwen2.5-coder-0.5b-instruct"}\')'
    )
