"""Streaming replies end to end: real `parley worker` processes, a real Redis, the real SDKs
against the fake Slack and Telegram APIs, and an answerer that writes word by word."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from itertools import pairwise
from pathlib import Path

import pytest
import redis

from bot.local import LocalChannel
from bot.settings import Settings
from bot.slack.render import ESCALATION_MARK
from bot.telegram.stream import TelegramStreamer
from bot.types import IncomingMessage, MessageKind, OutgoingMessage
from tests import fake_telegram as tg
from tests.conftest import PARLEY, REPO_ROOT, WorkerProcess, worker_env
from tests.fake_slack import TOKEN, FakeSlack, FakeSlackServer
from tests.fakes import calls_key
from tests.fakes_streaming import ANSWER
from tests.waiting import wait_for
from workers.embedded import EmbeddedRedis
from workers.intake import accept_message
from workers.keys import Keys
from workers.runtime import configure
from workers.streaming import ReplyStream, stream_key

pytestmark = pytest.mark.integration

TYPING = {"PARLEY_ANSWERER_FACTORY": "tests.fakes_streaming:build_typing_answerer"}
THREAD = "1700000000.000100"


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlackServer() as fake:
        yield fake


@pytest.fixture
def telegram() -> Iterator[tg.FakeTelegram]:
    with tg.FakeTelegram().serve() as fake:
        yield fake


def slack_env(fake: FakeSlack, **extra: str) -> dict[str, str]:
    return {
        **TYPING,
        "PARLEY_SLACK_API_URL": fake.url,
        "PARLEY_SLACK_BOT_TOKEN": TOKEN,
        "PARLEY_SLACK_CHANNEL_INTERVAL": "0.2",
        **extra,
    }


def ask_slack(settings: Settings, text: str, event: str = "Ev1") -> None:
    message = IncomingMessage(
        "slack", "C1", "U1", text, event, message_id=THREAD, thread=THREAD,
        kind=MessageKind.MENTION,
    )  # fmt: skip
    assert accept_message(message, configure(settings))


def updates(fake: FakeSlack) -> list[str]:
    return [str(c.params["text"]) for c in fake.of("chat.update")]


def final_slack_text(fake: FakeSlack) -> str:
    """The text once the final reply (with its sources) has been delivered."""
    return str(wait_for(lambda: next((t for t in updates(fake) if "Sources:" in t), None)))


def test_slack_posts_once_then_updates_and_ends_with_the_full_answer(
    make_settings: Callable[..., Settings],
    start_worker: Callable[..., WorkerProcess],
    slack: FakeSlack,
) -> None:
    start_worker(**slack_env(slack))
    ask_slack(make_settings(), "How much is Premium?")
    final = final_slack_text(slack)
    assert final == f"{ANSWER} [1].\n\nSources: Pricing plans"
    posts = slack.of("chat.postMessage")
    assert len(posts) == 1 and posts[0].params["thread_ts"] == THREAD
    streamed = updates(slack)[:-1]
    assert streamed and all(t.endswith(" …") for t in streamed)  # the answer in progress
    assert all(ANSWER.startswith(t.removesuffix(" …")) for t in streamed)
    gaps = [b.at - a.at for a, b in pairwise(slack.of("chat.update"))]
    assert all(g >= 1.0 for g in gaps[:-1])  # streaming edits at most one per 1.2 s
    assert len({c.params["ts"] for c in slack.of("chat.update")}) == 1


def test_slack_429_on_an_update_skips_it_and_the_reply_still_arrives(
    make_settings: Callable[..., Settings],
    start_worker: Callable[..., WorkerProcess],
    slack: FakeSlack,
) -> None:
    slack.fail_next("chat.update", times=1, retry_after=1)
    start_worker(**slack_env(slack))
    ask_slack(make_settings(), "How much is Premium?")
    assert final_slack_text(slack).startswith(ANSWER)
    assert slack.rate_limited == 1
    assert slack.of("chat.update")[0].params["text"].endswith(" …")  # a streaming update got 429
    assert len(slack.of("chat.postMessage")) == 1


def test_slack_escalation_edits_the_streamed_message_into_the_notice(
    make_settings: Callable[..., Settings],
    start_worker: Callable[..., WorkerProcess],
    slack: FakeSlack,
) -> None:
    start_worker(**slack_env(slack))
    ask_slack(make_settings(), "please escalate this")
    final = wait_for(lambda: next((t for t in updates(slack) if ESCALATION_MARK in t), None))
    assert ANSWER not in final
    assert any(t.endswith(" …") for t in updates(slack))  # the draft was shown meanwhile
    assert len(slack.of("chat.postMessage")) == 1


def test_slack_streaming_off_posts_the_answer_once(
    make_settings: Callable[..., Settings],
    start_worker: Callable[..., WorkerProcess],
    slack: FakeSlack,
    redis_client: redis.Redis,
) -> None:
    start_worker(**slack_env(slack, PARLEY_STREAMING="false"))
    ask_slack(make_settings(streaming=False), "How much is Premium?")
    post = wait_for(lambda: slack.of("chat.postMessage"))[0]
    assert post.params["text"].startswith(f"{ANSWER} [1].")
    calls = [json.loads(c) for c in redis_client.lrange(calls_key(make_settings()), 0, -1)]
    assert calls[0]["streamed"] is False
    time.sleep(0.5)
    assert not slack.of("chat.update")


def test_slack_worker_killed_mid_stream_ends_with_one_edited_message(
    make_settings: Callable[..., Settings],
    start_worker: Callable[..., WorkerProcess],
    slack: FakeSlack,
    redis_client: redis.Redis,
) -> None:
    settings = make_settings()
    env = slack_env(slack, PARLEY_TEST_STREAM_DELAY="0.3")
    workers = [start_worker("a", **env), start_worker("b", **env)]
    ask_slack(settings, "How much is Premium?")
    wait_for(lambda: updates(slack))  # streaming has begun: a message shows part of the answer
    victim = json.loads(redis_client.lindex(calls_key(settings), 0) or "{}")["pid"]
    assert any(victim in w.child_pids(redis_client) for w in workers)
    os.kill(victim, signal.SIGKILL)
    final = final_slack_text(slack)
    assert final.startswith(f"{ANSWER} [1].")
    assert redis_client.llen(calls_key(settings)) == 2  # answered again after the kill
    assert len(slack.of("chat.postMessage")) == 1  # the retry edited the same message
    assert len({c.params["ts"] for c in slack.of("chat.update")}) == 1
    time.sleep(1.0)
    assert sum("Sources:" in t for t in updates(slack)) == 1


def test_telegram_types_sends_once_then_edits_to_the_final_answer(
    make_settings: Callable[..., Settings],
    start_worker: Callable[..., WorkerProcess],
    telegram: tg.FakeTelegram,
) -> None:
    start_worker(
        **TYPING, PARLEY_TELEGRAM_BOT_TOKEN=tg.TOKEN, PARLEY_TELEGRAM_BASE_URL=telegram.base_url
    )
    message = IncomingMessage(
        "telegram", "42", "42", "How much is Premium?", "42:7", message_id="7",
        kind=MessageKind.DM,
    )  # fmt: skip
    assert accept_message(message, configure(make_settings()))

    def final() -> str | None:
        text = telegram.messages.get((42, telegram._next_id), "")
        return text if "Pricing plans" in text else None

    text = wait_for(final)
    assert tg.visible_text(text).startswith(f"{ANSWER} [1].")
    typing = telegram.calls_of("sendChatAction")
    assert typing and typing[0].params["action"] == "typing"
    sent = telegram.calls_of("sendMessage")
    assert len(sent) == 1 and sent[0].params["reply_parameters"]["message_id"] == 7
    edits = telegram.calls_of("editMessageText")
    assert len(edits) >= 2 and {e.params["message_id"] for e in edits} == {telegram._next_id}
    assert telegram.too_many == 0


def test_local_chat_gets_partial_answers_then_the_final_once(
    make_settings: Callable[..., Settings],
    start_worker: Callable[..., WorkerProcess],
    redis_client: redis.Redis,
) -> None:
    start_worker(**TYPING)
    channel = LocalChannel(configure(make_settings()))
    partials: list[str] = []
    reply = channel.ask("How much is Premium?", on_partial=partials.append)
    assert reply.text == f"{ANSWER} [1]."
    assert len(partials) >= 5 and partials[-1] == ANSWER
    assert all(b.startswith(a) for a, b in pairwise(partials))
    time.sleep(0.5)
    assert redis_client.llen(Keys("parley").local_reply(reply.outgoing.metadata["reply_to"])) == 0  # type: ignore[union-attr]


def test_parley_chat_prints_the_streamed_answer_once(
    tmp_path: Path, redis_server: EmbeddedRedis, start_worker: Callable[..., WorkerProcess]
) -> None:
    start_worker(**TYPING)
    result = subprocess.run(
        [PARLEY, "chat"],
        env=worker_env(redis_server.url, tmp_path, COLUMNS="200", **TYPING),
        cwd=REPO_ROOT,
        input="How much is Premium?\n/quit\n",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.count(ANSWER) == 1
    assert f"parley> {ANSWER} [1]." in result.stdout
    assert "source: Pricing plans" in result.stdout


def test_telegram_long_final_edits_the_streamed_message_and_posts_the_rest_once(
    make_settings: Callable[..., Settings], telegram: tg.FakeTelegram, redis_client: redis.Redis
) -> None:
    settings = make_settings(
        telegram_bot_token=tg.TOKEN,
        telegram_base_url=telegram.base_url,
        telegram_rate_per_chat=50.0,
    )
    streamer = TelegramStreamer(settings, redis_client)
    reply = OutgoingMessage("telegram", "42", "x", "reply:telegram:42:9", reply_to_message="9")
    stream = ReplyStream(
        streamer, replace(reply, idempotency_key=stream_key(reply.idempotency_key))
    )
    with stream:
        assert stream.on_text is not None
        stream.on_text("")
        stream.on_text("The answer so far")
        wait_for(lambda: telegram.calls_of("sendMessage"))
    final = stream.final(replace(reply, text="word " * 1000))  # two Telegram messages
    try:
        assert streamer.deliver(final)
        assert not streamer.deliver(final)  # a retry of the delivery changes nothing
    finally:
        streamer.close()
    sent = telegram.calls_of("sendMessage")
    assert len(sent) == 2 and sent[0].params["text"] == "The answer so far …"
    edits = telegram.calls_of("editMessageText")
    assert len(edits) == 1 and edits[0].params["message_id"] == int(
        redis_client.get(f"parley:outbound:{reply.idempotency_key}#stream") or 0
    )
