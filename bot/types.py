"""Platform-neutral message types shared by every adapter, worker and model wrapper."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any, Literal

Platform = Literal["local", "slack", "telegram"]
Role = Literal["user", "assistant"]


class MessageKind(StrEnum):
    """Why a message reached Parley."""

    DM = "dm"
    MENTION = "mention"
    CHANNEL = "channel"
    COMMAND = "command"
    EDIT = "edit"
    DELETE = "delete"


Intent = Literal["auto", "answer", "translate", "summarize", "write"]
"""What the sender asked for: `auto` lets the channel policy decide (workers/intake routes it).
`summarize` and `write` carry their arguments in `text` (see workers/content.py)."""


@dataclass(frozen=True, slots=True)
class ThreadRef:
    """Where a conversation lives: one memory per (platform, channel, thread)."""

    platform: Platform
    channel: str
    thread: str = ""

    def key(self) -> str:
        return f"{self.platform}:{self.channel}:{self.thread or '-'}"


@dataclass(frozen=True, slots=True)
class IncomingMessage:
    """A normalised message from any platform."""

    platform: Platform
    channel: str
    user: str
    text: str
    event_id: str
    message_id: str = ""
    thread: str = ""
    workspace: str = ""
    kind: MessageKind = MessageKind.DM
    language: str | None = None
    received_at: float = field(default_factory=time.time)
    intent: Intent = "auto"
    targets: tuple[str, ...] = ()
    is_bot: bool = False
    user_name: str = ""

    @property
    def thread_ref(self) -> ThreadRef:
        return ThreadRef(self.platform, self.channel, self.thread)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> IncomingMessage:
        values = dict(data)
        values["kind"] = MessageKind(values.get("kind", MessageKind.DM))
        values["targets"] = tuple(values.get("targets", ()))
        return cls(**values)


@dataclass(frozen=True, slots=True)
class Button:
    """An action button; platforms without buttons render it as text."""

    label: str
    action: str
    value: str = ""


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    """A reply to deliver; `idempotency_key` makes a resend harmless.

    `replaces` names the idempotency key of an earlier message to edit in place (or, with
    `delete`, to remove): deliverers keep the platform message id of what they posted per key.
    """

    platform: Platform
    channel: str
    text: str
    idempotency_key: str
    thread: str = ""
    buttons: tuple[Button, ...] = ()
    metadata: dict[str, Any] = field(default_factory=dict)
    kind: Literal["answer", "translation", "error", "notice", "review"] = "answer"
    replaces: str = ""
    delete: bool = False
    reply_to_message: str = ""
    ephemeral_to: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> OutgoingMessage:
        values = dict(data)
        values["buttons"] = tuple(Button(**b) for b in values.get("buttons", ()))
        return cls(**values)


@dataclass(frozen=True, slots=True)
class Turn:
    """One remembered turn of a conversation."""

    role: Role
    text: str
    at: float = field(default_factory=time.time)
