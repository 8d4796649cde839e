"""End to end through Redis and real `parley worker` processes (fake answerer)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import pytest
import redis

from bot.local import LocalChannel
from bot.settings import Settings
from tests.conftest import WorkerProcess
from tests.fakes import calls_key
from workers.keys import Keys
from workers.runtime import configure

pytestmark = pytest.mark.integration


def test_ask_through_the_worker_with_memory(
    make_settings: Callable[..., Settings], start_worker: Callable[..., WorkerProcess]
) -> None:
    start_worker()
    channel = LocalChannel(configure(make_settings()))
    first = channel.ask("How do I reset my password?")
    assert first.text == "echo: How do I reset my password?"
    assert first.draft is not None and first.draft.citations[0].doc_id == "faq-1"
    assert first.to_json()["action"] == "answer"
    channel.ask("and how much does that cost?")
    calls = [
        json.loads(c) for c in channel._runtime.redis.lrange(calls_key(make_settings()), 0, -1)
    ]
    assert calls[1]["history"] == [
        "How do I reset my password?",
        "echo: How do I reset my password?",
    ]


def test_duplicate_event_is_answered_once(
    make_settings: Callable[..., Settings],
    start_worker: Callable[..., WorkerProcess],
    redis_client: redis.Redis,
) -> None:
    start_worker()
    settings = make_settings()
    channel = LocalChannel(configure(settings))
    message = channel.normalise("hello", event_id="evt-dup")
    assert channel.submit(message)
    assert not channel.submit(message)  # a platform retry of the same event
    assert channel.wait(message).text == "echo: hello"
    time.sleep(1.0)
    assert redis_client.llen(calls_key(settings)) == 1
    assert redis_client.llen(Keys("parley").local_reply("evt-dup")) == 0


def test_bad_input_gets_clear_replies(
    make_settings: Callable[..., Settings], start_worker: Callable[..., WorkerProcess]
) -> None:
    start_worker()
    channel = LocalChannel(configure(make_settings(max_input_chars=4000)))
    empty = channel.normalise("  \n ")
    channel.submit(empty)
    reply = channel.wait(empty)
    assert "empty" in reply.text and reply.error == "empty"
    huge = channel.ask("y" * 100_000)
    assert "first 4000 characters" in huge.text
    assert huge.draft is not None


def test_missing_model_is_reported_not_hung(
    make_settings: Callable[..., Settings], start_worker: Callable[..., WorkerProcess]
) -> None:
    start_worker(PARLEY_ANSWERER_FACTORY="tests.fakes:build_missing_model")
    channel = LocalChannel(configure(make_settings()))
    reply = channel.ask("hello", timeout=20)
    assert "PARLEY_DIALOGUE_MODEL" in reply.text
    assert reply.error == "ModelUnavailableError"
