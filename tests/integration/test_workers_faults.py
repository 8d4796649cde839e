"""Faults: SIGKILLed workers and a Redis that goes away mid-run."""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Callable

import pytest
import redis

from bot.local import LocalChannel
from bot.settings import Settings
from tests.conftest import WorkerProcess
from tests.fakes import calls_key
from workers.embedded import EmbeddedRedis
from workers.keys import Keys
from workers.runtime import configure

pytestmark = pytest.mark.integration

SLOW = {"PARLEY_ANSWERER_FACTORY": "tests.fakes:build_slow_answerer"}


def _wait_for_calls(client: redis.Redis, key: str, count: int, timeout: float = 20) -> list[dict]:  # type: ignore[type-arg]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        calls = [json.loads(c) for c in client.lrange(key, 0, -1)]
        if len(calls) >= count:
            return calls
        time.sleep(0.05)
    raise AssertionError(f"fewer than {count} answer calls")


def _assert_delivered_once(client: redis.Redis, event_id: str) -> None:
    time.sleep(1.5)  # room for a duplicate delivery to show up
    assert client.llen(Keys("parley").local_reply(event_id)) == 0
    assert client.get(Keys("parley").outbound(f"reply:local:{event_id}")) == "delivered"


def test_killed_pool_child_is_redelivered_once(
    make_settings: Callable[..., Settings],
    start_worker: Callable[..., WorkerProcess],
    redis_client: redis.Redis,
) -> None:
    settings = make_settings()
    workers = [start_worker("a", **SLOW), start_worker("b", **SLOW)]
    channel = LocalChannel(configure(settings))
    message = channel.normalise("survive a kill", event_id="evt-kill")
    channel.submit(message)
    victim = _wait_for_calls(redis_client, calls_key(settings), 1)[0]["pid"]
    assert any(victim in w.child_pids(redis_client) for w in workers)
    os.kill(victim, signal.SIGKILL)
    reply = channel.wait(message, timeout=30)
    assert reply.text == "echo: survive a kill"
    calls = _wait_for_calls(redis_client, calls_key(settings), 2)
    assert calls[1]["pid"] != victim
    _assert_delivered_once(redis_client, "evt-kill")


def test_killed_worker_host_is_recovered_after_visibility_timeout(
    make_settings: Callable[..., Settings],
    start_worker: Callable[..., WorkerProcess],
    redis_client: redis.Redis,
) -> None:
    settings = make_settings()
    first = start_worker("a", **SLOW)
    channel = LocalChannel(configure(settings))
    message = channel.normalise("survive a crash", event_id="evt-crash")
    channel.submit(message)
    _wait_for_calls(redis_client, calls_key(settings), 1)
    os.killpg(first.process.pid, signal.SIGKILL)  # the whole machine dies: parent and child
    first.process.wait()
    start_worker("b", **SLOW)
    reply = channel.wait(message, timeout=40)  # visibility timeout is 10 s in tests
    assert reply.text == "echo: survive a crash"
    _assert_delivered_once(redis_client, "evt-crash")


def test_redis_lost_mid_run_loses_nothing(
    make_settings: Callable[..., Settings],
    start_worker: Callable[..., WorkerProcess],
    redis_server: EmbeddedRedis,
    redis_client: redis.Redis,
) -> None:
    settings = make_settings()
    start_worker("a", **SLOW, PARLEY_TEST_ANSWER_DELAY="4")
    channel = LocalChannel(configure(settings))
    message = channel.normalise("through an outage", event_id="evt-outage")
    channel.submit(message)
    _wait_for_calls(redis_client, calls_key(settings), 1)
    time.sleep(1.2)  # past one `appendfsync everysec` tick
    redis_server.kill()
    time.sleep(1.5)
    redis_server.start()  # same port, same append-only file
    reply = channel.wait(message, timeout=40)
    assert reply.text == "echo: through an outage"
    _assert_delivered_once(redis_client, "evt-outage")
