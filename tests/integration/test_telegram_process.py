"""`parley telegram` as a real process: webhook mode end to end, and SIGKILL during polling."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis

from tests import fake_telegram as tg
from tests.conftest import PARLEY, REPO_ROOT, worker_env
from workers.embedded import EmbeddedRedis

pytestmark = pytest.mark.integration

SECRET = "hook-Secret_42"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def fake() -> Iterator[tg.FakeTelegram]:
    with tg.FakeTelegram().serve() as server:
        yield server


class Adapter:
    """`parley telegram` in its own process group."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.log_path = log
        self._log = log.open("a")
        self.process = subprocess.Popen(
            [PARLEY, "telegram"],
            env=env,
            cwd=REPO_ROOT,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def kill(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()
        self._log.close()

    def terminate(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(10)
        self.kill()


@pytest.fixture
def adapter_env(
    redis_server: EmbeddedRedis, tmp_path: Path, fake: tg.FakeTelegram
) -> dict[str, str]:
    return worker_env(
        redis_server.url,
        tmp_path,
        PARLEY_TELEGRAM_BOT_TOKEN=tg.TOKEN,
        PARLEY_TELEGRAM_BASE_URL=fake.base_url,
        PARLEY_TELEGRAM_POLL_TIMEOUT="1",
        PARLEY_TELEGRAM_INBOX_GRACE="2",
        PARLEY_LOG_LEVEL="INFO",
    )


def test_webhook_mode_acknowledges_only_stored_updates(
    adapter_env: dict[str, str], fake: tg.FakeTelegram, tmp_path: Path, redis_client: redis.Redis
) -> None:
    port = free_port()
    env = adapter_env | {
        "PARLEY_TELEGRAM_MODE": "webhook",
        "PARLEY_TELEGRAM_WEBHOOK_SECRET": SECRET,
        "PARLEY_TELEGRAM_WEBHOOK_PORT": str(port),
        "PARLEY_TELEGRAM_WEBHOOK_URL": "https://bot.example.org/telegram/webhook",
    }
    adapter = Adapter(env, tmp_path / "adapter.log")
    base = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=base, timeout=5) as client:
            deadline = time.monotonic() + 30
            while True:
                try:
                    if client.get("/healthz").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert time.monotonic() < deadline, adapter.log_path.read_text()[-2000:]
                time.sleep(0.2)
            assert fake.webhook is not None and fake.webhook["secret_token"] == SECRET
            update = tg.private_text(900, "webhook question", chat=77, message_id=9)
            url = "/telegram/webhook"
            assert client.post(url, json=update).status_code == 403
            wrong = {"X-Telegram-Bot-Api-Secret-Token": "nope"}
            assert client.post(url, json=update, headers=wrong).status_code == 403
            assert tg.queued_events(redis_client) == []
            good = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
            bad = client.post(
                url, content=b"{oops", headers=good | {"Content-Type": "application/json"}
            )
            assert bad.status_code == 400
            assert client.post(url, json=update, headers=good).status_code == 200
            assert client.post(url, json=update, headers=good).status_code == 200  # redelivery
            deadline = time.monotonic() + 10
            while not tg.queued_events(redis_client):
                assert time.monotonic() < deadline
                time.sleep(0.1)
            time.sleep(0.5)
            assert tg.queued_events(redis_client) == ["77:9"]
    finally:
        adapter.terminate()


def test_sigkill_during_a_polling_burst_loses_no_update(
    adapter_env: dict[str, str], fake: tg.FakeTelegram, tmp_path: Path, redis_client: redis.Redis
) -> None:
    total, first = 300, 10_000
    fake.batch_size = 10
    fake.queue_updates(
        *(
            tg.private_text(first + i, f"q{i}", chat=5000 + i, message_id=i + 1)
            for i in range(total)
        )
    )
    adapter = Adapter(adapter_env, tmp_path / "adapter.log")
    try:
        deadline = time.monotonic() + 40
        # Kill in the middle of a batch: fetched, partly handled, not yet confirmed.
        while redis_client.llen("models") < total // 3 + 5:
            assert time.monotonic() < deadline, adapter.log_path.read_text()[-2000:]
            time.sleep(0.005)
        adapter.kill()  # mid-burst: some batches confirmed, others fetched and in flight
        killed_at = len(set(tg.queued_events(redis_client)))
        inbox_left = redis_client.hlen(f"parley:telegram:inbox:{tg.BOT_ID}")
        restarted = Adapter(adapter_env, tmp_path / "adapter2.log")
        try:
            deadline = time.monotonic() + 60
            expected = {f"{5000 + i}:{i + 1}" for i in range(total)}
            while set(tg.queued_events(redis_client)) != expected:
                assert time.monotonic() < deadline, (
                    f"{len(set(tg.queued_events(redis_client)))}/{total} enqueued; "
                    + restarted.log_path.read_text()[-1500:]
                )
                time.sleep(0.2)
        finally:
            restarted.terminate()
    finally:
        adapter.kill()
    assert 0 < killed_at < total
    # Replays of what was in the inbox may be enqueued twice (harmless); nothing else is.
    assert len(tg.queued_events(redis_client)) <= total + inbox_left
    inbox = f"parley:telegram:inbox:{tg.BOT_ID}"
    assert redis_client.hlen(inbox) == 0
