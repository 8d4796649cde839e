"""A worker killed between Slack taking a post and recording it: the retry finds the post through
its message metadata instead of posting it twice (real slack_sdk, fake Slack Web API, real Redis).

The kills are real: a child process delivers, the fake keeps its post and holds the answer, and
the test SIGKILLs the child before it can record anything.
"""

from __future__ import annotations

import logging
import multiprocessing
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis

from bot.errors import InvalidInputError, TransientError
from bot.settings import Settings
from bot.slack.delivery import SlackDeliverer
from bot.slack.keys import SlackKeys
from bot.types import OutgoingMessage
from tests.fake_slack import TOKEN, FakeSlack, FakeSlackServer

pytestmark = pytest.mark.integration

THREAD = "1700000000.000100"
KEY = "reply:slack:C1:1700000000.000100"


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    with FakeSlackServer() as fake:
        fake.add_message("C1", "How do I reset my password?", ts=THREAD)
        yield fake


@pytest.fixture
def settings(make_settings: Callable[..., Settings], fake: FakeSlack) -> Settings:
    return make_settings(
        slack_api_url=fake.url,
        slack_bot_token=TOKEN,
        slack_channel_interval=0.0,
        slack_max_chars=500,
    )


def _out(text: str, *, thread: str = THREAD, **kw: Any) -> OutgoingMessage:
    return OutgoingMessage(
        platform="slack", channel="C1", text=text, idempotency_key=KEY, thread=thread, **kw
    )


def _deliver(settings: Settings, outgoing: dict[str, Any]) -> None:
    """The child: one delivery, as an io worker runs it."""
    client = redis.Redis.from_url(settings.redis_url, decode_responses=True)
    SlackDeliverer(settings, client).deliver(OutgoingMessage.from_dict(outgoing))


def _killed_after_post(
    settings: Settings, fake: FakeSlack, outgoing: OutgoingMessage, nth: int
) -> None:
    """Deliver in a child SIGKILLed once Slack took its `nth` post, before it learns the ts."""
    fake.hold_post(nth)
    child = multiprocessing.get_context("spawn").Process(
        target=_deliver, args=(settings, outgoing.to_dict())
    )
    child.start()
    try:
        assert fake.held.wait(timeout=60), "the child never posted"
    finally:
        child.kill()
        child.join(timeout=10)
        fake.release()
    assert child.exitcode == -9


def _claim_expired(
    client: redis.Redis, deliverer: SlackDeliverer, outgoing: OutgoingMessage
) -> None:
    """The dead worker's claim blocks the retry until its 120 s run out; let them run out."""
    with pytest.raises(TransientError):
        deliverer.deliver(outgoing)
    client.delete(f"parley:outbound:{outgoing.idempotency_key}")


def _as_if_killed(client: redis.Redis, key: str, parts: int = 1) -> None:
    """What a worker killed right after its posts leaves: attempt marks, no records."""
    parts_keys = [f"parley:outbound:{key}#{i}#part" for i in range(1, parts)]
    client.delete(f"parley:outbound:{key}", f"parley:outbound:{key}#part", *parts_keys)


def _posts(fake: FakeSlack) -> list[dict[str, Any]]:
    return [c.params for c in fake.of("chat.postMessage")]


def test_killed_after_a_channel_post_the_retry_records_it_instead_of_posting(
    settings: Settings, redis_client: redis.Redis, fake: FakeSlack
) -> None:
    outgoing = _out("Use the reset link on the sign-in page.", thread="")
    _killed_after_post(settings, fake, outgoing, nth=1)
    [post] = _posts(fake)
    assert post["metadata"] == {"event_type": "parley_reply", "event_payload": {"key": KEY}}
    first = fake.messages["C1"][-1]["ts"]
    assert redis_client.exists(SlackKeys("parley").attempt(KEY))
    assert redis_client.get(f"parley:outbound:{KEY}#part") is None

    deliverer = SlackDeliverer(settings, redis_client)
    _claim_expired(redis_client, deliverer, outgoing)
    assert deliverer.deliver(outgoing)
    assert len(_posts(fake)) == 1
    assert redis_client.get(f"parley:outbound:{KEY}") == first
    assert redis_client.get(f"parley:outbound:{KEY}#part") == first
    [lookup] = [c.params for c in fake.of("conversations.history")]
    assert lookup["channel"] == "C1" and lookup["include_all_metadata"] in ("1", "true")
    assert float(lookup["oldest"]) < float(first) < float(lookup["latest"])
    assert not fake.of("conversations.replies")
    assert not deliverer.deliver(outgoing)  # and now it is known as delivered


@pytest.mark.parametrize("died_on", [1, 2])
def test_killed_in_a_long_reply_the_retry_posts_only_the_missing_parts(
    settings: Settings, redis_client: redis.Redis, fake: FakeSlack, died_on: int
) -> None:
    text = " ".join(f"word{i}" for i in range(250))  # 4 parts of at most 500 characters
    outgoing = _out(text)
    _killed_after_post(settings, fake, outgoing, nth=died_on)
    assert len(_posts(fake)) == died_on

    deliverer = SlackDeliverer(settings, redis_client)
    _claim_expired(redis_client, deliverer, outgoing)
    assert deliverer.deliver(outgoing)
    posts = _posts(fake)
    assert len(posts) >= 3 and " ".join(p["text"] for p in posts) == text  # each part once
    keys = [p["metadata"]["event_payload"]["key"] for p in posts]
    assert keys == [KEY] + [f"{KEY}#{i}" for i in range(1, len(posts))]
    replies = [m["ts"] for m in fake.messages["C1"][1:]]
    assert redis_client.get(f"parley:outbound:{KEY}") == replies[0]
    assert redis_client.get(f"parley:outbound:{KEY}#part") == replies[0]
    assert redis_client.get(f"parley:outbound:{KEY}#1#part") == replies[1]
    assert len(fake.of("conversations.replies")) == 1  # only the part that was in doubt
    assert not fake.of("conversations.history")


def test_a_thread_reply_is_looked_up_with_conversations_replies(
    settings: Settings, redis_client: redis.Redis, fake: FakeSlack
) -> None:
    deliverer = SlackDeliverer(settings, redis_client)
    assert deliverer.deliver(_out("Use the reset link."))
    first = fake.messages["C1"][-1]["ts"]
    _as_if_killed(redis_client, KEY)
    assert deliverer.deliver(_out("Use the reset link."))
    assert len(_posts(fake)) == 1
    [lookup] = [c.params for c in fake.of("conversations.replies")]
    assert lookup["channel"] == "C1" and lookup["ts"] == THREAD
    assert lookup["include_all_metadata"] in ("1", "true")
    assert not fake.of("conversations.history")
    assert redis_client.get(f"parley:outbound:{KEY}") == first


def test_a_failed_lookup_posts_anyway_and_warns(
    settings: Settings,
    redis_client: redis.Redis,
    fake: FakeSlack,
    caplog: pytest.LogCaptureFixture,
) -> None:
    deliverer = SlackDeliverer(settings, redis_client)
    assert deliverer.deliver(_out("hello", thread=""))
    _as_if_killed(redis_client, KEY)
    fake.refuse_methods["conversations.history"] = "missing_scope"
    with caplog.at_level(logging.WARNING, logger="bot.slack.recover"):
        assert deliverer.deliver(_out("hello", thread=""))
    assert [p["text"] for p in _posts(fake)] == ["hello", "hello"]  # at least once: not lost
    assert redis_client.get(f"parley:outbound:{KEY}") == fake.messages["C1"][-1]["ts"]
    assert len(fake.of("conversations.history")) == 1
    assert any("missing_scope" in r.getMessage() for r in caplog.records)


def test_the_post_is_found_on_a_later_page(
    settings: Settings, redis_client: redis.Redis, fake: FakeSlack
) -> None:
    fake.page_size = 2  # like Slack's limit of 15 for non-Marketplace apps, smaller
    deliverer = SlackDeliverer(settings, redis_client)
    assert deliverer.deliver(_out("hello", thread=""))
    first = fake.messages["C1"][-1]["ts"]
    for i in range(5):
        fake.add_message("C1", f"busy channel {i}")
    _as_if_killed(redis_client, KEY)
    assert deliverer.deliver(_out("hello", thread=""))
    assert len(_posts(fake)) == 1
    assert redis_client.get(f"parley:outbound:{KEY}") == first
    cursors = [c.params.get("cursor") for c in fake.of("conversations.history")]
    assert len(cursors) == 3 and cursors[0] is None and all(cursors[1:])


def test_an_attempt_that_never_reached_slack_is_posted_once(
    settings: Settings, redis_client: redis.Redis, fake: FakeSlack
) -> None:
    redis_client.set(SlackKeys("parley").attempt(KEY), f"{time.time() - 5:.6f}")
    deliverer = SlackDeliverer(settings, redis_client)
    assert deliverer.deliver(_out("hello"))
    assert len(_posts(fake)) == 1 and len(fake.of("conversations.replies")) == 1
    assert redis_client.get(f"parley:outbound:{KEY}") == fake.messages["C1"][-1]["ts"]


def test_posts_slack_refused_and_unreadable_replies_leave_nothing_to_look_up(
    settings: Settings, redis_client: redis.Redis, fake: FakeSlack
) -> None:
    attempt = SlackKeys("parley").attempt
    deliverer = SlackDeliverer(settings, redis_client)
    fake.fail_next("chat.postMessage", retry_after=1)
    with pytest.raises(TransientError):
        deliverer.deliver(_out("hello"))
    assert not redis_client.exists(attempt(KEY))  # a 429: Slack did not take it
    assert deliverer.deliver(_out("hello"))
    fake.refuse_channels["C2"] = "not_in_channel"
    refused = OutgoingMessage(platform="slack", channel="C2", text="hi", idempotency_key="r1")
    with pytest.raises(InvalidInputError):
        deliverer.deliver(refused)
    assert not redis_client.exists(attempt("r1"))
    assert not fake.of("conversations.replies") and not fake.of("conversations.history")
    # chat.postEphemeral cannot be read back: no metadata, no mark
    ephemeral = OutgoingMessage(
        platform="slack", channel="C1", text="psst", idempotency_key="e1", ephemeral_to="U9"
    )
    assert deliverer.deliver(ephemeral)
    assert "metadata" not in fake.of("chat.postEphemeral")[0].params
    assert not redis_client.exists(attempt("e1"))


def test_a_streamed_placeholder_left_unrecorded_is_found_not_posted_again(
    settings: Settings, redis_client: redis.Redis, fake: FakeSlack
) -> None:
    """The streamer posts its placeholder through the same lookup: a retried draft edits the
    placeholder its killed worker posted instead of leaving it orphaned beside a new one."""
    from bot.slack.stream import PLACEHOLDER, SlackStreamer

    key = f"{KEY}:stream"
    stream = OutgoingMessage(
        platform="slack", channel="C1", text="", idempotency_key=key, thread=THREAD
    )
    assert SlackStreamer(settings, redis_client).indicate(stream)
    assert [p["text"] for p in _posts(fake)] == [PLACEHOLDER]
    _as_if_killed(redis_client, key)
    assert SlackStreamer(settings, redis_client).indicate(stream)  # unrecorded: shown again
    assert len(_posts(fake)) == 1  # ... by finding the placeholder, not posting another
    assert fake.of("conversations.replies")
    assert redis_client.get(f"parley:outbound:{key}") == fake.messages["C1"][-1]["ts"]
