"""Conversation state, dedupe, preferences and local delivery against a real Redis."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
import redis

from bot.errors import InvalidInputError
from bot.settings import Settings
from bot.types import OutgoingMessage, ThreadRef, Turn
from workers.delivery import LocalDeliverer, deliverer_for
from workers.keys import Keys, event_key
from workers.preferences import ChannelSettings, PreferenceStore, UserSettings
from workers.state import ConversationStore, approximate_tokens

THREAD = ThreadRef("slack", "C1", "t1")


def _exchange(store: ConversationStore, n: int, text: str = "question") -> bool:
    return store.record_exchange(
        event_key("slack", f"e{n}"),
        THREAD,
        question=Turn("user", f"{text} {n}"),
        reply=Turn("assistant", f"answer {n}"),
        draft={"text": f"answer {n}"},
    )


def test_history_is_bounded_in_turns_and_expires(
    make_settings: Callable[..., Settings], redis_client: redis.Redis
) -> None:
    settings = make_settings(history_turns=4, conversation_ttl=600)
    store = ConversationStore(redis_client, settings)
    for n in range(5):
        assert _exchange(store, n)
    key = Keys("parley").conversation(THREAD)
    assert redis_client.llen(key) == 4
    assert 590 < redis_client.ttl(key) <= 600
    texts = [t.text for t in store.load_history(THREAD)]
    assert texts == ["question 3", "answer 3", "question 4", "answer 4"]


def test_history_is_bounded_in_tokens(
    make_settings: Callable[..., Settings], redis_client: redis.Redis
) -> None:
    settings = make_settings(history_turns=20, history_tokens=30)
    store = ConversationStore(redis_client, settings)
    for n in range(5):
        _exchange(store, n, text="x" * 40)  # about 10 tokens per question, 2 per answer
    turns = store.load_history(THREAD)
    assert sum(approximate_tokens(t.text) for t in turns) <= 30
    assert turns[-1].text == "answer 4"  # the newest turns are the ones kept
    assert len(turns) < 10


def test_exchange_is_recorded_once_per_event(
    make_settings: Callable[..., Settings], redis_client: redis.Redis
) -> None:
    store = ConversationStore(redis_client, make_settings())
    assert _exchange(store, 1)
    assert not _exchange(store, 1)  # a re-run after a crash
    assert len(store.load_history(THREAD)) == 2
    assert store.answered(event_key("slack", "e1")) == {"text": "answer 1"}
    assert store.load_history(THREAD, exclude_event=event_key("slack", "e1")) == []


def test_zero_history_turns_keeps_nothing(
    make_settings: Callable[..., Settings], redis_client: redis.Redis
) -> None:
    store = ConversationStore(redis_client, make_settings(history_turns=0))
    _exchange(store, 1)
    assert store.load_history(THREAD) == []
    assert redis_client.exists(Keys("parley").conversation(THREAD)) == 0


def test_reset_forgets_the_conversation(
    make_settings: Callable[..., Settings], redis_client: redis.Redis
) -> None:
    store = ConversationStore(redis_client, make_settings())
    _exchange(store, 1)
    store.reset(THREAD)
    assert store.load_history(THREAD) == []


def test_dedupe_accepts_an_event_once_with_ttl(
    make_settings: Callable[..., Settings], redis_client: redis.Redis
) -> None:
    store = ConversationStore(redis_client, make_settings(dedupe_ttl=120))
    assert store.accept_event("telegram:42")
    assert not store.accept_event("telegram:42")
    assert store.accept_event("slack:42")  # ids are per platform
    assert 110 < redis_client.ttl(Keys("parley").dedupe("telegram:42")) <= 120


def test_namespace_prefixes_every_key(
    make_settings: Callable[..., Settings], redis_client: redis.Redis
) -> None:
    store = ConversationStore(redis_client, make_settings(namespace="acme"))
    _exchange(store, 1)
    store.accept_event("slack:1")
    keys = [str(k) for k in redis_client.keys("*")]
    assert keys and all(k.startswith("acme:") for k in keys)


def test_local_delivery_happens_exactly_once(
    make_settings: Callable[..., Settings], redis_client: redis.Redis
) -> None:
    settings = make_settings()
    deliverer = deliverer_for({"local": LocalDeliverer(settings, redis_client)}, "local")
    reply = OutgoingMessage(
        platform="local",
        channel="terminal",
        text="hi",
        idempotency_key="reply:local:e1",
        metadata={"reply_to": "e1"},
    )
    assert deliverer.deliver(reply)
    assert not deliverer.deliver(reply)
    items = redis_client.lrange(Keys("parley").local_reply("e1"), 0, -1)
    assert [json.loads(i)["text"] for i in items] == ["hi"]
    assert redis_client.ttl(Keys("parley").outbound("reply:local:e1")) > 0
    with pytest.raises(InvalidInputError):
        deliverer.deliver(OutgoingMessage("local", "terminal", "x", "k2"))


def test_channel_and_user_settings_round_trip(redis_client: redis.Redis) -> None:
    prefs = PreferenceStore(redis_client, "parley")
    assert prefs.channel("slack", "C1") == ChannelSettings()
    value = ChannelSettings("review", ("de", "fr"), "C-agents", 0.7)
    prefs.set_channel("slack", "C1", value)
    assert prefs.channel("slack", "C1") == value
    prefs.set_user("slack", "U1", UserSettings(language="de"))
    assert prefs.user("slack", "U1").language == "de"
    prefs.set_user("slack", "U1", UserSettings())
    assert prefs.user("slack", "U1").language is None
    redis_client.hset("parley:channel:slack:C2", "policy", "shout")
    with pytest.raises(InvalidInputError, match="policy"):
        prefs.channel("slack", "C2")
