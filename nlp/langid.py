"""Language identification: which language a customer wrote in, with a confidence.

The default detector uses `lingua-language-detector` (models ship in the wheel, no network),
restricted to the languages Parley supports, which keeps it fast and avoids exotic confusions.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

DEFAULT_LANGUAGES: tuple[str, ...] = (
    "ar", "da", "de", "en", "es", "fi", "fr", "it", "ja", "ko",
    "nb", "nl", "pl", "pt", "ru", "sv", "tr", "uk", "zh",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class LanguageGuess:
    """An ISO 639-1 code and how sure the detector is (0..1)."""

    code: str
    confidence: float


class LanguageDetector(Protocol):
    """Guesses the language of a message; None when the text is too short or ambiguous."""

    def detect(self, text: str) -> LanguageGuess | None: ...


@functools.lru_cache(maxsize=4)
def _lingua_detector(codes: tuple[str, ...]) -> Any:
    from lingua import IsoCode639_1, Language, LanguageDetectorBuilder

    languages = [Language.from_iso_code_639_1(getattr(IsoCode639_1, c.upper())) for c in codes]
    return LanguageDetectorBuilder.from_languages(*languages).build()


class LinguaDetector:
    """`LanguageDetector` backed by lingua; its models load lazily on the first call."""

    def __init__(
        self,
        languages: Iterable[str] = DEFAULT_LANGUAGES,
        *,
        min_confidence: float = 0.3,
        min_letters: int = 3,
    ) -> None:
        self.languages = tuple(sorted({c.lower() for c in languages}))
        self.min_confidence = min_confidence
        self.min_letters = min_letters

    def detect(self, text: str) -> LanguageGuess | None:
        """The most likely language, or None for short, letterless or ambiguous text."""
        if sum(ch.isalpha() for ch in text) < self.min_letters:
            return None
        values = _lingua_detector(self.languages).compute_language_confidence_values(text)
        if not values:
            return None
        top = values[0]
        if top.value < self.min_confidence:
            return None
        # lingua calls Norwegian Bokmål "nb"; report the code as lingua gives it.
        return LanguageGuess(top.language.iso_code_639_1.name.lower(), float(top.value))
