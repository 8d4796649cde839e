"""Contracts of the content side of nlp/: thread messages, summaries, drafts, the chat model."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal, Protocol

Tone = Literal["formal", "friendly", "concise"]
TONES: tuple[Tone, ...] = ("formal", "friendly", "concise")


class ChatModel(Protocol):
    """Greedy completion of a batch of chats (lists of {"role", "content"} messages)."""

    def complete(
        self, chats: Sequence[Sequence[Mapping[str, str]]], *, max_new_tokens: int
    ) -> list[str]: ...

    def count_tokens(self, text: str) -> int: ...


@dataclass(frozen=True, slots=True)
class ThreadMessage:
    """One message of a thread to summarise."""

    author: str
    text: str
    at: float = 0.0
    is_bot: bool = False
    files: int = 0

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ThreadMessage:
        return cls(
            author=str(data.get("author") or data.get("user") or "someone"),
            text=str(data.get("text") or ""),
            at=float(data.get("at") or data.get("ts") or 0.0),
            is_bot=bool(data.get("is_bot", False)),
            files=int(data.get("files", 0)),
        )


@dataclass(frozen=True, slots=True)
class Summary:
    """A thread summary in the asker's language."""

    language: str
    text: str
    decisions: tuple[str, ...] = ()
    open_questions: tuple[str, ...] = ()
    messages: int = 0
    chunks: int = 1
    participants: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def render(self) -> str:
        """Plain text: the summary, then decisions and open questions as lists."""
        parts = [self.text]
        if self.decisions:
            parts.append("Decisions:\n" + "\n".join(f"- {d}" for d in self.decisions))
        if self.open_questions:
            parts.append("Open questions:\n" + "\n".join(f"- {q}" for q in self.open_questions))
        return "\n\n".join(parts)


@dataclass(frozen=True, slots=True)
class ContentDraft:
    """One piece of content in one language."""

    language: str
    text: str
    translated_from: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
