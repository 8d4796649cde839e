"""SlackDeliverer with the real slack_sdk client against the fake Slack Web API and a real Redis."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator

import pytest
import redis

from bot.errors import TransientError
from bot.settings import Settings
from bot.slack.delivery import SlackDeliverer
from bot.slack.keys import SlackKeys
from bot.types import Button, OutgoingMessage
from tests.fake_slack import TOKEN, FakeSlack, FakeSlackServer

pytestmark = pytest.mark.integration


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    with FakeSlackServer() as fake:
        yield fake


@pytest.fixture
def settings(make_settings: Callable[..., Settings], fake: FakeSlack) -> Settings:
    return make_settings(slack_api_url=fake.url, slack_bot_token=TOKEN, slack_channel_interval=0.0)


def _out(text: str, key: str = "reply:slack:C1:1.1", **kw: object) -> OutgoingMessage:
    values: dict[str, object] = {"thread": "1700000000.000100", "metadata": {"reply_to": "x"}}
    values.update(kw)
    return OutgoingMessage(platform="slack", channel="C1", text=text, idempotency_key=key, **values)  # type: ignore[arg-type]


def test_posts_escaped_in_thread_once(
    settings: Settings, redis_client: redis.Redis, fake: FakeSlack
) -> None:
    deliverer = SlackDeliverer(settings, redis_client)
    assert deliverer.deliver(_out("Hi <!channel> <@U1> & co"))
    assert not deliverer.deliver(_out("Hi <!channel> <@U1> & co"))
    posts = fake.of("chat.postMessage")
    assert len(posts) == 1
    assert posts[0].params["text"] == "Hi &lt;!channel&gt; &lt;@U1&gt; &amp; co"
    assert posts[0].params["thread_ts"] == "1700000000.000100"
    assert redis_client.exists(SlackKeys("parley").thread("C1", "1700000000.000100"))


def test_long_text_split_and_each_part_posted_once(
    make_settings: Callable[..., Settings], redis_client: redis.Redis, fake: FakeSlack
) -> None:
    settings = make_settings(
        slack_api_url=fake.url,
        slack_bot_token=TOKEN,
        slack_channel_interval=0.0,
        slack_max_chars=500,
    )
    deliverer = SlackDeliverer(settings, redis_client)
    text = " ".join(f"word{i}" for i in range(400))
    # The second part hits a 429: the retry must not repost the first.
    original = fake.handle

    calls = {"n": 0}

    def flaky(method: str, params: dict[str, object]) -> tuple[int, dict[str, object], int]:
        if method == "chat.postMessage":
            calls["n"] += 1
            if calls["n"] == 2:
                return 429, {"ok": False, "error": "ratelimited"}, 2
        return original(method, params)

    fake.handle = flaky  # type: ignore[method-assign]
    with pytest.raises(TransientError) as raised:
        deliverer.deliver(_out(text))
    assert raised.value.retry_after == 2
    fake.handle = original  # type: ignore[method-assign]
    assert deliverer.deliver(_out(text))
    posted = [c.params["text"] for c in fake.of("chat.postMessage")]
    assert all(len(p) <= 500 for p in posted)
    assert " ".join(posted) == text
    assert len(posted) == len(set(posted))


def test_429_becomes_a_transient_error_with_retry_after(
    settings: Settings, redis_client: redis.Redis, fake: FakeSlack
) -> None:
    fake.fail_next("chat.postMessage", retry_after=3)
    deliverer = SlackDeliverer(settings, redis_client)
    with pytest.raises(TransientError) as raised:
        deliverer.deliver(_out("hello"))
    assert raised.value.retry_after == 3
    assert deliverer.deliver(_out("hello"))  # the claim was released
    assert [c.params["text"] for c in fake.of("chat.postMessage")] == ["hello", "hello"]
    assert fake.rate_limited == 1


def test_paced_per_channel_without_429(
    make_settings: Callable[..., Settings], redis_client: redis.Redis, fake: FakeSlack
) -> None:
    fake.channel_interval = 0.1  # the fake's limit, below Parley's pacing: room for jitter
    settings = make_settings(
        slack_api_url=fake.url, slack_bot_token=TOKEN, slack_channel_interval=0.25
    )
    deliverer = SlackDeliverer(settings, redis_client)
    started = time.monotonic()
    for i in range(6):
        assert deliverer.deliver(_out(f"m{i}", key=f"k{i}"))
    assert time.monotonic() - started >= 1.2
    assert fake.rate_limited == 0


def test_busy_channel_retries_later_keeping_its_slot(
    make_settings: Callable[..., Settings], redis_client: redis.Redis, fake: FakeSlack
) -> None:
    settings = make_settings(
        slack_api_url=fake.url,
        slack_bot_token=TOKEN,
        slack_channel_interval=5.0,
        slack_rate_max_wait=1.0,
    )
    deliverer = SlackDeliverer(settings, redis_client)
    assert deliverer.deliver(_out("first", key="a"))
    with pytest.raises(TransientError) as raised:
        deliverer.deliver(_out("second", key="b"))
    assert 3.0 < (raised.value.retry_after or 0) <= 5.0
    assert len(fake.of("chat.postMessage")) == 1


def test_edit_updates_and_delete_removes_the_posted_message(
    settings: Settings, redis_client: redis.Redis, fake: FakeSlack
) -> None:
    deliverer = SlackDeliverer(settings, redis_client)
    key = "translation:slack:C1:1700000000.000100:de"
    assert deliverer.deliver(_out("Hallo", key=key, kind="translation"))
    posted_ts = redis_client.get(f"parley:outbound:{key}")
    assert deliverer.deliver(_out("Hallo zusammen", key=key + ":edit1", replaces=key))
    update = fake.of("chat.update")[0].params
    assert update["text"] == "Hallo zusammen" and update["channel"] == "C1"
    assert update["ts"] == posted_ts
    assert deliverer.deliver(_out("", key=key + ":delete", replaces=key, delete=True))
    assert fake.of("chat.delete")[0].params["ts"] == posted_ts


def test_command_replies_go_to_the_response_url_and_ephemeral_to_the_user(
    settings: Settings, redis_client: redis.Redis, fake: FakeSlack
) -> None:
    redis_client.set(
        SlackKeys("parley").respond("command:t1"), fake.url.replace("/api/", "/respond/1")
    )
    deliverer = SlackDeliverer(settings, redis_client)
    assert deliverer.deliver(
        _out("answer", key="reply:slack:command:t1", metadata={"reply_to": "command:t1"})
    )
    assert fake.responses[0]["text"] == "answer"
    assert fake.responses[0]["response_type"] == "ephemeral"
    assert deliverer.deliver(_out("psst", key="e1", ephemeral_to="U9", thread=""))
    assert fake.of("chat.postEphemeral")[0].params["user"] == "U9"
    assert not fake.of("chat.postMessage")


def test_buttons_become_block_kit_and_an_update_can_clear_them(
    settings: Settings, redis_client: redis.Redis, fake: FakeSlack
) -> None:
    deliverer = SlackDeliverer(settings, redis_client)
    buttons = (Button("Approve", "review_approve", "d1"), Button("Reject", "review_reject", "d1"))
    assert deliverer.deliver(_out("Draft <b>", key="review:1", buttons=buttons, kind="notice"))
    blocks = fake.of("chat.postMessage")[0].params["blocks"]
    blocks = json.loads(blocks) if isinstance(blocks, str) else blocks
    assert blocks[0]["text"]["text"] == "Draft &lt;b&gt;"
    assert [e["action_id"] for e in blocks[1]["elements"]] == ["review_approve", "review_reject"]
    assert deliverer.deliver(_out("Approved", key="review:1:done", replaces="review:1"))
    update = fake.of("chat.update")[0].params
    assert update["text"] == "Approved" and update["blocks"] in ([], "[]")


def test_an_edit_longer_than_the_limit_posts_the_rest_once(
    make_settings: Callable[..., Settings], redis_client: redis.Redis, fake: FakeSlack
) -> None:
    settings = make_settings(
        slack_api_url=fake.url, slack_bot_token=TOKEN, slack_channel_interval=0.0,
        slack_max_chars=500,
    )  # fmt: skip
    deliverer = SlackDeliverer(settings, redis_client)
    key = "reply:slack:C1:ev1#stream"
    assert deliverer.deliver(_out("_Parley is typing…_", key=key))
    text = " ".join(f"word{i}" for i in range(300))  # about 3 parts of 500
    final = _out(text, key="reply:slack:C1:ev1", replaces=key)
    assert deliverer.deliver(final)
    assert not deliverer.deliver(final)  # a retried final changes nothing
    update = fake.of("chat.update")[0].params
    rest = [c.params["text"] for c in fake.of("chat.postMessage")][1:]
    assert len(fake.of("chat.update")) == 1 and len(rest) >= 1
    assert " ".join([update["text"], *rest]) == text  # nothing cut, nothing twice
