"""Contracts of the drafting side of nlp/."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal, Protocol

from bot.types import Turn

Action = Literal["answer", "escalate"]


@dataclass(frozen=True, slots=True)
class Citation:
    doc_id: str
    source: str
    title: str
    url: str | None = None


@dataclass(frozen=True, slots=True)
class Draft:
    """A drafted reply, or an escalation when Parley should not answer on its own.

    `text` is what the customer sees: the answer, or for an escalation a short handoff note in
    their language (never empty). `draft_text` is the model's own draft, kept for the reviewing
    agent (empty when nothing was drafted, e.g. retrieval found nothing relevant).
    """

    text: str
    language: str
    action: Action
    confidence: float
    citations: tuple[Citation, ...] = ()
    reason: str = ""
    passages: tuple[dict[str, Any], ...] = field(default=())
    draft_text: str = ""
    suggestions: tuple[dict[str, Any], ...] = ()
    """Related articles the draft did not cite (doc_id, title, url, score), up to three."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Draft:
        values = dict(data)
        values["citations"] = tuple(Citation(**c) for c in values.get("citations", ()))
        values["passages"] = tuple(values.get("passages", ()))
        values["suggestions"] = tuple(values.get("suggestions", ()))
        return cls(**values)


class Answerer(Protocol):
    """Answers a question from the knowledge base, given the conversation so far."""

    def answer(
        self, question: str, *, history: Sequence[Turn] = (), language: str | None = None
    ) -> Draft: ...
