"""Summaries and content drafting end to end: real Redis, a real `parley worker`, local replies."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
import redis

from bot.settings import Settings
from bot.types import IncomingMessage, Intent, MessageKind
from tests.conftest import WorkerProcess
from workers.intake import accept_message
from workers.keys import Keys
from workers.runtime import Runtime, configure
from workers.thread_log import ThreadLog

pytestmark = pytest.mark.integration

FAKES = {
    "PARLEY_TRANSLATOR_FACTORY": "tests.fakes_translation:build_tagging_translator",
    "PARLEY_CHAT_MODEL_FACTORY": "tests.fakes_content:build_echo_chat",
}
KEYS = Keys("parley")


@pytest.fixture
def runtime(
    make_settings: Callable[..., Settings], start_worker: Callable[..., WorkerProcess]
) -> Runtime:
    start_worker(**FAKES)
    return configure(
        make_settings(
            translator_factory=FAKES["PARLEY_TRANSLATOR_FACTORY"],
            chat_model_factory=FAKES["PARLEY_CHAT_MODEL_FACTORY"],
        )
    )


def said(user: str, text: str, mid: str, **extra: Any) -> IncomingMessage:
    values: dict[str, Any] = {"kind": MessageKind.CHANNEL, "thread": mid, "user_name": user}
    values["event_id"] = f"ev-{mid}"
    values.update(extra)
    return IncomingMessage(
        platform="local", channel="C1", user=f"U-{user}", text=text, message_id=mid, **values
    )


def ask(intent: Intent, text: str, event_id: str, thread: str = "command:U9") -> IncomingMessage:
    return IncomingMessage(
        platform="local", channel="C1", user="U9", text=text, event_id=event_id,
        kind=MessageKind.COMMAND, intent=intent, thread=thread,
    )  # fmt: skip


def reply(client: redis.Redis, event_id: str, timeout: float = 30) -> dict[str, Any]:
    item = client.blpop([KEYS.local_reply(event_id)], timeout=timeout)
    assert item is not None, f"no reply to {event_id}"
    data: dict[str, Any] = json.loads(item[1])
    return data


def test_channel_summary_from_the_thread_log(runtime: Runtime, redis_client: redis.Redis) -> None:
    for i, (user, text) in enumerate([("Ana", "The export is broken"), ("Bo", "I'll fix it")]):
        accept_message(said(user, text, f"m{i}"), runtime)  # ignored by policy, but recorded
    accept_message(said("parley", "Translated: ...", "m9", is_bot=True), runtime)
    assert accept_message(ask("summarize", "", "s1"), runtime)
    out = reply(redis_client, "s1")
    assert out["text"].startswith("Summary of 2 messages (Ana, Bo)")
    assert "Ana and Bo talked." in out["text"] and "Decisions:\n- Bo: I'll fix it" in out["text"]
    assert not accept_message(ask("summarize", "", "s1"), runtime)  # a retry is not redone


def test_thread_summary_edits_and_deletes(runtime: Runtime, redis_client: redis.Redis) -> None:
    accept_message(said("Ana", "Root question", "t1"), runtime)
    accept_message(said("Bo", "A reply", "t2", thread="t1"), runtime)
    accept_message(said("Cy", "Elsewhere", "x1"), runtime)
    accept_message(said("Di", "Oops", "t3", thread="t1"), runtime)
    accept_message(
        said("Di", "", "t3", thread="t1", kind=MessageKind.DELETE, event_id="del"), runtime
    )
    edit = said("Bo", "A better reply", "t2", thread="t1", kind=MessageKind.EDIT, event_id="ed")
    accept_message(edit, runtime)
    rows = ThreadLog(runtime.redis, runtime.settings).recent("local", "C1", thread="t1")
    assert [(r["author"], r["text"]) for r in rows] == [
        ("Ana", "Root question"),
        ("Bo", "A better reply"),
    ]
    assert accept_message(ask("summarize", "10", "s2", thread="t1"), runtime)
    assert "(Ana, Bo)" in reply(redis_client, "s2")["text"]


def test_bad_requests_get_clear_replies(runtime: Runtime, redis_client: redis.Redis) -> None:
    accept_message(ask("summarize", "", "s3"), runtime)
    assert "Nothing to summarise" in reply(redis_client, "s3")["text"]
    accept_message(ask("summarize", "yesterday", "s4"), runtime)
    assert reply(redis_client, "s4")["text"].startswith("Usage: summarize")
    accept_message(ask("write", "--to tlh hello", "w0"), runtime)
    assert "Cannot write in tlh" in reply(redis_client, "w0")["text"]
    accept_message(ask("write", "   ", "w1"), runtime)
    assert "brief is empty" in reply(redis_client, "w1")["text"]


def test_write_in_several_languages(runtime: Runtime, redis_client: redis.Redis) -> None:
    assert accept_message(ask("write", "--tone formal --to en,es announce SSO", "w2"), runtime)
    text = reply(redis_client, "w2")["text"]
    assert text.startswith("[en]\nDRAFT: announce SSO") and "[es]\n" in text


def test_thread_log_is_capped(
    make_settings: Callable[..., Settings], redis_client: redis.Redis
) -> None:
    log = ThreadLog(redis_client, make_settings(thread_log_max=10))
    for i in range(25):
        log.record(said("Ana", f"message {i}", f"m{i}", received_at=1000.0 + i))
    rows = log.recent("local", "C1", limit=0)
    assert [r["text"] for r in rows] == [f"message {i}" for i in range(15, 25)]
    assert redis_client.hlen(KEYS.thread_log_messages("local", "C1")) == 10
    assert 0 < redis_client.ttl(KEYS.thread_log("local", "C1")) <= 7 * 24 * 3600
    since = log.recent("local", "C1", since=1020.0)
    assert [r["text"] for r in since] == [f"message {i}" for i in range(20, 25)]
