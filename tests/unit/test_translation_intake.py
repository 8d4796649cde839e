"""Routing in workers.intake.accept_message (no Redis: a stand-in runtime records the sends)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from bot.settings import Settings
from bot.types import IncomingMessage, Intent, MessageKind
from workers import intake
from workers.app import ANSWER_MESSAGE, TRANSLATE_MESSAGE
from workers.preferences import ChannelSettings


@dataclass
class Conversations:
    seen: set[str] = field(default_factory=set)

    def accept_event(self, key: str) -> bool:
        new = key not in self.seen
        self.seen.add(key)
        return new


@dataclass
class ThreadLog:
    recorded: list[IncomingMessage] = field(default_factory=list)

    def record(self, message: IncomingMessage) -> None:
        self.recorded.append(message)


@dataclass
class Preferences:
    settings: ChannelSettings

    def channel(self, platform: str, channel: str) -> ChannelSettings:
        return self.settings


@dataclass
class FakeRuntime:
    preferences: Preferences
    conversations: Conversations = field(default_factory=Conversations)
    thread_log: ThreadLog = field(default_factory=ThreadLog)
    settings: Settings = field(default_factory=lambda: Settings(_env_file=None))  # type: ignore[call-arg]
    app: Any = None


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, dict[str, Any]]]:
    calls: list[tuple[str, dict[str, Any]]] = []
    monkeypatch.setattr(
        intake, "send", lambda app, task, kwargs, settings: calls.append((task, kwargs))
    )
    return calls


def message(kind: MessageKind, intent: Intent = "auto", **extra: Any) -> IncomingMessage:
    return IncomingMessage(
        platform="slack", channel="C1", user="U1", text="hola a todos",
        event_id=f"e-{kind}-{intent}",
        message_id="1.0", kind=kind, intent=intent, **extra,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("kind", "intent", "auto", "task"),
    [
        (MessageKind.DM, "auto", True, ANSWER_MESSAGE),
        (MessageKind.MENTION, "auto", True, ANSWER_MESSAGE),
        (MessageKind.COMMAND, "auto", True, ANSWER_MESSAGE),
        (MessageKind.CHANNEL, "auto", True, TRANSLATE_MESSAGE),
        (MessageKind.EDIT, "auto", True, TRANSLATE_MESSAGE),
        (MessageKind.DELETE, "auto", True, TRANSLATE_MESSAGE),
        (MessageKind.CHANNEL, "auto", False, None),
        (MessageKind.CHANNEL, "answer", False, ANSWER_MESSAGE),
        (MessageKind.COMMAND, "translate", False, TRANSLATE_MESSAGE),
    ],
)
def test_routing(
    sent: list[tuple[str, dict[str, Any]]], kind: MessageKind, intent: Intent, auto: bool,
    task: str | None,
) -> None:  # fmt: skip
    channel = ChannelSettings(languages=("en", "es"), auto_translate=auto)
    runtime: Any = FakeRuntime(Preferences(channel))
    accepted = intake.accept_message(message(kind, intent), runtime)
    assert accepted is (task is not None)
    assert [t for t, _ in sent] == ([task] if task else [])
    if task:
        assert IncomingMessage.from_dict(sent[0][1]["message"]).kind == kind


def test_bot_messages_are_not_translated(sent: list[tuple[str, dict[str, Any]]]) -> None:
    runtime: Any = FakeRuntime(Preferences(ChannelSettings(languages=("en",), auto_translate=True)))
    assert not intake.accept_message(message(MessageKind.CHANNEL, is_bot=True), runtime)
    assert sent == []


def test_repeated_event_is_enqueued_once(sent: list[tuple[str, dict[str, Any]]]) -> None:
    runtime: Any = FakeRuntime(Preferences(ChannelSettings(languages=("en",), auto_translate=True)))
    assert intake.accept_message(message(MessageKind.CHANNEL), runtime)
    assert not intake.accept_message(message(MessageKind.CHANNEL), runtime)
    assert len(sent) == 1
