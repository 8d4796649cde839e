"""translate_message end to end: real Redis, a real `parley worker`, the local deliverer."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest
import redis

from bot.settings import Settings
from bot.types import IncomingMessage, MessageKind
from tests.conftest import WorkerProcess
from tests.fakes_translation import translations_key
from workers.intake import accept_message
from workers.keys import Keys
from workers.preferences import ChannelSettings, PreferenceStore
from workers.runtime import Runtime, configure

pytestmark = pytest.mark.integration

FAKE = {"PARLEY_TRANSLATOR_FACTORY": "tests.fakes_translation:build_recording_translator"}
KEYS = Keys("parley")


@pytest.fixture
def runtime(
    make_settings: Callable[..., Settings],
    start_worker: Callable[..., WorkerProcess],
    redis_client: redis.Redis,
) -> Runtime:
    start_worker(**FAKE)
    rt = configure(make_settings(translator_factory=FAKE["PARLEY_TRANSLATOR_FACTORY"]))
    PreferenceStore(redis_client, "parley").set_channel(
        "local", "C1", ChannelSettings(languages=("en", "es"), auto_translate=True)
    )
    return rt


def message(text: str, event_id: str, **extra: Any) -> IncomingMessage:
    values: dict[str, Any] = {"kind": MessageKind.CHANNEL, "message_id": "m1"}
    values.update(extra)
    return IncomingMessage(
        platform="local", channel="C1", user="U1", text=text, event_id=event_id, **values
    )


def replies(
    client: redis.Redis, event_id: str, count: int, timeout: float = 20
) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while len(out) < count and time.monotonic() < deadline:
        item = client.blpop([KEYS.local_reply(event_id)], timeout=1)
        if item is not None:
            out.append(json.loads(item[1]))
    return out


def test_channel_message_is_translated_in_thread(
    runtime: Runtime, redis_client: redis.Redis
) -> None:
    assert accept_message(message("Hola <@U2>, ¿dónde está la factura de `abril`?", "e1"), runtime)
    [reply] = replies(redis_client, "e1", 1)
    assert reply["kind"] == "translation"
    assert reply["text"] == "Hola <@U2>, [en] ¿DÓNDE ESTÁ LA FACTURA DE `abril`?" or reply[
        "text"
    ].startswith("[en]")
    assert "<@U2>" in reply["text"] and "`abril`" in reply["text"]
    assert reply["idempotency_key"] == "translation:local:C1:m1:en"
    assert reply["thread"] == "m1" and reply["reply_to_message"] == "m1"
    assert reply["metadata"]["source_language"] == "es"


def test_same_message_is_translated_once(runtime: Runtime, redis_client: redis.Redis) -> None:
    text = "Where can I download the invoice for this month?"
    assert accept_message(message(text, "e1"), runtime)
    assert replies(redis_client, "e1", 1)
    # The same message again under another event id (e.g. Slack's message + app_mention pair).
    assert accept_message(message(text, "e2"), runtime)
    assert not accept_message(message(text, "e2"), runtime)  # a platform retry
    time.sleep(2.0)
    assert redis_client.llen(translations_key(runtime.settings)) == 1
    assert redis_client.llen(KEYS.local_reply("e2")) == 0  # delivery deduped by its key


def test_edit_replaces_and_delete_removes(runtime: Runtime, redis_client: redis.Redis) -> None:
    assert accept_message(
        message("Where can I download the invoice for this month?", "e1"), runtime
    )
    [first] = replies(redis_client, "e1", 1)
    edited = message(
        "Where can I download the receipt for last month?", "e2", kind=MessageKind.EDIT
    )
    assert accept_message(edited, runtime)
    [edit] = replies(redis_client, "e2", 1)
    assert edit["replaces"] == first["idempotency_key"] == "translation:local:C1:m1:es"
    assert edit["idempotency_key"] == "translation:local:C1:m1:es:edit:e2"
    assert "RECEIPT" in edit["text"]
    assert accept_message(message("", "e3", kind=MessageKind.DELETE), runtime)
    [gone] = replies(redis_client, "e3", 1)
    assert gone["delete"] is True and gone["replaces"] == "translation:local:C1:m1:es"


def test_bot_messages_and_quiet_channels_are_ignored(
    runtime: Runtime, redis_client: redis.Redis
) -> None:
    assert not accept_message(message("Where is the invoice?", "e1", is_bot=True), runtime)
    other = IncomingMessage(platform="local", channel="C2", user="U1", text="Where is it?",
                            event_id="e3", kind=MessageKind.CHANNEL)  # fmt: skip
    assert not accept_message(other, runtime)
    assert redis_client.llen(translations_key(runtime.settings)) == 0


def test_explicit_translate_command_replies_to_the_asker(
    runtime: Runtime, redis_client: redis.Redis
) -> None:
    ask = message("Where is the invoice?", "e1", kind=MessageKind.COMMAND, intent="translate",
                  targets=("de",), message_id="")  # fmt: skip
    assert accept_message(ask, runtime)
    [reply] = replies(redis_client, "e1", 1)
    assert reply["text"] == "[de] WHERE IS THE INVOICE?"
    assert (
        reply["ephemeral_to"] == "U1" and reply["idempotency_key"] == "translation:local:C1:e1:de"
    )


def test_explicit_request_already_in_target_gets_a_notice(
    runtime: Runtime, redis_client: redis.Redis
) -> None:
    ask = message("¿Dónde está la factura de este mes?", "e1", kind=MessageKind.COMMAND,
                  intent="translate", targets=("es",))  # fmt: skip
    assert accept_message(ask, runtime)
    [reply] = replies(redis_client, "e1", 1)
    assert reply["kind"] == "notice" and reply["text"] == "This message is already in Spanish."
    assert redis_client.llen(translations_key(runtime.settings)) == 0
