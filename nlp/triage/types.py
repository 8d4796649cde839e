"""What triage says about one support message."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Sentiment = Literal["negative", "neutral", "positive"]
SENTIMENTS: tuple[Sentiment, ...] = ("negative", "neutral", "positive")
URGENCY_FLAGS = ("outage", "payment", "legal", "churn")
"""Service down, a payment failing, a legal threat, a customer about to leave."""


@dataclass(frozen=True, slots=True)
class Triage:
    """Sentiment and urgency of one message; `priority` orders the review queue (higher first)."""

    sentiment: Sentiment
    sentiment_confidence: float
    urgency: tuple[str, ...] = ()
    scores: dict[str, float] = field(default_factory=dict)
    cues: tuple[str, ...] = ()

    @property
    def urgent(self) -> bool:
        return bool(self.urgency)

    @property
    def strongly_negative(self) -> bool:
        return self.sentiment == "negative" and self.sentiment_confidence >= 0.75

    @property
    def priority(self) -> int:
        """2: urgent; 1: strongly negative; 0: the rest."""
        if self.urgent:
            return 2
        return 1 if self.strongly_negative else 0

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.update(
            urgency=list(self.urgency), cues=list(self.cues), urgent=self.urgent,
            priority=self.priority,
        )  # fmt: skip
        return data
