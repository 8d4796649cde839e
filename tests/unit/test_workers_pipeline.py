"""The answering pipeline as a plain function: bad input, errors, idempotency."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pytest
import redis

from bot.errors import ModelUnavailableError, TransientError
from bot.settings import Settings
from bot.types import IncomingMessage, Turn
from nlp.handoff import handoff_note
from nlp.types import Draft
from workers.pipeline import EMPTY_REPLY, draft_reply, reply_key
from workers.preferences import ChannelSettings
from workers.state import ConversationStore


class Recorder:
    """Answerer double that records questions, or raises a given error."""

    def __init__(self, error: Exception | None = None, confidence: float = 0.9) -> None:
        self.questions: list[str] = []
        self.error = error
        self.confidence = confidence

    def answer(
        self, question: str, *, history: Sequence[Turn] = (), language: str | None = None
    ) -> Draft:
        self.questions.append(question)
        if self.error is not None:
            raise self.error
        return Draft(f"A{len(self.questions)}", "en", "answer", self.confidence)


def _message(text: str, event_id: str = "e1") -> IncomingMessage:
    return IncomingMessage("slack", "C1", "U1", text, event_id, thread="t1")


@pytest.fixture
def run(make_settings: Callable[..., Settings], redis_client: redis.Redis) -> Callable[..., object]:
    settings = make_settings(max_input_chars=1000)
    store = ConversationStore(redis_client, settings)

    def go(message: IncomingMessage, answerer: Recorder, channel: ChannelSettings | None = None):  # type: ignore[no-untyped-def]
        return draft_reply(
            message,
            settings=settings,
            store=store,
            answerer=lambda: answerer,
            channel=channel or ChannelSettings(),
        )

    return go


@pytest.mark.parametrize("text", ["", "   \n\t ", "\u200b\u200d"])
def test_empty_messages_get_a_clear_reply(run: Callable[..., object], text: str) -> None:
    answerer = Recorder()
    reply = run(_message(text), answerer)
    assert reply.text == EMPTY_REPLY and reply.metadata["error"] == "empty"  # type: ignore[attr-defined]
    assert answerer.questions == []


def test_long_message_is_truncated_with_a_note(run: Callable[..., object]) -> None:
    answerer = Recorder()
    reply = run(_message("x" * 100_000), answerer)
    assert len(answerer.questions[0]) == 1000
    assert "first 1000 characters" in reply.text  # type: ignore[attr-defined]
    assert reply.idempotency_key == reply_key(_message(""))  # type: ignore[attr-defined]


def test_rerun_reuses_the_stored_answer(run: Callable[..., object]) -> None:
    answerer = Recorder()
    first = run(_message("hi"), answerer)
    second = run(_message("hi"), answerer)
    assert answerer.questions == ["hi"]
    assert first.text == second.text == "A1"  # type: ignore[attr-defined]


def test_parley_errors_become_a_user_facing_reply(run: Callable[..., object]) -> None:
    error = ModelUnavailableError("set PARLEY_DIALOGUE_MODEL")
    reply = run(_message("hi"), Recorder(error=error))
    assert "PARLEY_DIALOGUE_MODEL" in reply.text  # type: ignore[attr-defined]
    assert reply.metadata["error"] == "ModelUnavailableError"  # type: ignore[attr-defined]


def test_transient_errors_propagate_for_retry(run: Callable[..., object]) -> None:
    with pytest.raises(TransientError):
        run(_message("hi"), Recorder(error=TransientError("busy", retry_after=1)))


def test_channel_policy_and_threshold(run: Callable[..., object]) -> None:
    assert run(_message("hi"), Recorder(), ChannelSettings(policy="off")) is None
    strict = ChannelSettings(confidence_threshold=0.95)
    reply = run(_message("hi", "e2"), Recorder(confidence=0.5), strict)
    assert reply.metadata["draft"]["action"] == "escalate"  # type: ignore[attr-defined]
    # The customer sees the handoff note, never an empty reply; the agent keeps the draft.
    assert reply.text == handoff_note("en")  # type: ignore[attr-defined]
    assert reply.metadata["draft"]["draft_text"]  # type: ignore[attr-defined]
