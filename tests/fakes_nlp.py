"""Fakes for the drafting side of nlp/: a retriever with fixed hits, a scripted drafter, a
lookup language detector and a phrasebook translator."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from bot.types import Turn
from nlp.drafting import DraftResult
from nlp.langid import LanguageGuess
from nlp.translation.base import UnsupportedPairError
from retrieval.types import Hit

PLANS = Hit(
    doc_id="plans",
    chunk_id="plans#0",
    source="kb/plans.md",
    title="Pricing plans",
    score=0.82,
    text="Parley Premium costs 49 euros per month and includes priority support. "
    "The Basic plan is free and includes email support.",
    url="https://example.com/plans",
)
PASSWORDS = Hit(
    doc_id="passwords",
    chunk_id="passwords#0",
    source="kb/passwords.md",
    title="Resetting your password",
    score=0.41,
    text="To reset your password, open Settings > Account and click 'Reset password'. "
    "A reset link is emailed to you and stays valid for 30 minutes.",
)


@dataclass
class FakeRetriever:
    """Returns the same hits for every query and remembers the queries."""

    hits: list[Hit] = field(default_factory=lambda: [PLANS, PASSWORDS])
    queries: list[tuple[str, int, str | None]] = field(default_factory=list)

    def search(self, query: str, k: int = 5, language: str | None = None) -> list[Hit]:
        self.queries.append((query, k, language))
        return list(self.hits[:k])


@dataclass
class FakeDrafter:
    """Returns a scripted draft and remembers what it was asked; one token per word."""

    text: str = "Premium costs 49 euros per month [1]."
    cited: tuple[int, ...] = (1,)
    refused: bool = False
    token_probability: float = 0.9
    calls: list[tuple[str, tuple[Hit, ...], tuple[Turn, ...], str | None]] = field(
        default_factory=list
    )

    def draft(
        self,
        question: str,
        hits: Sequence[Hit],
        *,
        history: Sequence[Turn] = (),
        language: str | None = None,
    ) -> DraftResult:
        self.calls.append((question, tuple(hits), tuple(history), language))
        return DraftResult(
            self.text, self.cited, self.refused, self.token_probability, new_tokens=8, seconds=0.1
        )

    def count_tokens(self, text: str) -> int:
        return len(text.split())


@dataclass
class FakeDetector:
    """Detects by lookup, then by a phrase the text contains; unknown text is 'unsure' (None)."""

    known: dict[str, str] = field(default_factory=dict)
    contains: dict[str, str] = field(default_factory=dict)
    confidence: float = 0.9

    def detect(self, text: str) -> LanguageGuess | None:
        code = self.known.get(text) or next(
            (c for phrase, c in self.contains.items() if phrase in text), None
        )
        return LanguageGuess(code, self.confidence) if code else None


@dataclass
class FakeTranslator:
    """`Translator` by phrasebook (unknown text comes back unchanged); remembers its calls and
    can fail like a missing language pair."""

    phrases: dict[str, str] = field(default_factory=dict)
    fail: bool = False
    calls: list[tuple[tuple[str, ...], str, str | None]] = field(default_factory=list)

    def translate(
        self, texts: Sequence[str], *, target: str, source: str | None = None
    ) -> list[str]:
        self.calls.append((tuple(texts), target, source))
        if self.fail:
            raise UnsupportedPairError(f"No translation model for {source} -> {target}")
        out = []
        for text in texts:
            for phrase, translated in self.phrases.items():
                text = text.replace(phrase, translated)
            out.append(text)
        return out
