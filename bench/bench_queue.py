"""Queue overhead and SIGKILL loss, measured against a real Redis and a real worker process.

    python bench/bench_queue.py [--n 300] [--redis-url URL] [--kill-rounds 5]

Overhead: event accepted (intake starts) -> the answerer is called, through Redis and a
`parley worker` subprocess, against calling the same pipeline function directly, same run.
Loss: messages enqueued while the worker is SIGKILLed repeatedly (parent and children); every
message must be answered exactly once after recovery (visibility timeout 10 s here).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bot.local import LocalChannel  # noqa: E402
from bot.settings import Settings  # noqa: E402
from bot.types import Turn  # noqa: E402
from nlp.types import Draft  # noqa: E402
from workers.app import state_url  # noqa: E402
from workers.embedded import EmbeddedRedis  # noqa: E402
from workers.keys import Keys, event_key  # noqa: E402
from workers.pipeline import draft_reply  # noqa: E402
from workers.preferences import ChannelSettings  # noqa: E402
from workers.redis_client import connect  # noqa: E402
from workers.runtime import configure  # noqa: E402

STARTED = "parley:bench:started"


class StampAnswerer:
    """Records when it was called (Redis TIME-free: wall clock of this host) and answers."""

    def __init__(self, settings: Settings) -> None:
        self._redis = connect(state_url(settings))
        self._delay = float(os.environ.get("PARLEY_BENCH_DELAY", "0"))

    def answer(
        self, question: str, *, history: Sequence[Turn] = (), language: str | None = None
    ) -> Draft:
        self._redis.rpush(STARTED, json.dumps({"q": question, "t": time.time()}))
        if self._delay:
            time.sleep(self._delay)
        return Draft(text="ok", language="en", action="answer", confidence=1.0)


def build_stamp_answerer(settings: Settings) -> StampAnswerer:
    """Factory for PARLEY_ANSWERER_FACTORY=bench.bench_queue:build_stamp_answerer."""
    return StampAnswerer(settings)


def _start_worker(url: str, data: Path, log: Path, delay: float) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PARLEY_")}
    env |= {
        "PARLEY_REDIS_URL": url,
        "PARLEY_DATA_DIR": str(data),
        "PARLEY_ANSWERER_FACTORY": "bench.bench_queue:build_stamp_answerer",
        "PARLEY_TASK_SOFT_TIME_LIMIT": "6",
        "PARLEY_TASK_TIME_LIMIT": "8",
        "PARLEY_VISIBILITY_TIMEOUT": "10",
        "PARLEY_BENCH_DELAY": str(delay),
        "PYTHONPATH": str(REPO),
    }
    parley = str(Path(sys.executable).parent / "parley")
    cmd = [parley, "worker", "--concurrency=1", "--loglevel=WARNING"]
    return subprocess.Popen(
        cmd, env=env, stdout=log.open("a"), stderr=subprocess.STDOUT, start_new_session=True
    )


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))] * 1000


def measure_overhead(settings: Settings, n: int) -> dict[str, float]:
    """p50/p99 of accepted -> answerer called, through the queue and directly."""
    runtime = configure(settings)
    client, channel = runtime.redis, LocalChannel(runtime)
    answerer = StampAnswerer(settings)
    queued, direct = [], []
    for i in range(n + 20):
        client.delete(STARTED)
        message = channel.normalise(f"q{i}")
        accepted = time.time()
        channel.submit(message)
        item = client.blpop([STARTED], timeout=30)
        assert item is not None, "worker did not start the task"
        if i >= 20:  # warm-up
            queued.append(json.loads(item[1])["t"] - accepted)
        channel.wait(message, timeout=30)
    for i in range(n):
        client.delete(STARTED)
        message = channel.normalise(f"d{i}")
        accepted = time.time()
        draft_reply(
            message,
            settings=settings,
            store=runtime.conversations,
            answerer=lambda: answerer,
            channel=ChannelSettings(),
        )
        direct.append(json.loads(client.lpop(STARTED))["t"] - accepted)  # type: ignore[arg-type]
    result = {
        "queue_p50_ms": _pct(queued, 50),
        "queue_p99_ms": _pct(queued, 99),
        "direct_p50_ms": _pct(direct, 50),
        "direct_p99_ms": _pct(direct, 99),
    }
    result["ratio_p50"] = result["queue_p50_ms"] / result["direct_p50_ms"]
    return result


def measure_kill_loss(
    settings: Settings, url: str, data: Path, log: Path, rounds: int
) -> dict[str, int]:
    """Enqueue while SIGKILLing the worker; count replies missing or delivered twice."""
    runtime = configure(settings)
    channel = LocalChannel(runtime)
    keys = Keys(settings.namespace)
    messages = []
    worker = _start_worker(url, data, log, delay=0.02)
    for r in range(rounds):
        before = runtime.redis.llen(STARTED)
        for i in range(60):
            message = channel.normalise(f"k{r}-{i}")
            channel.submit(message)
            messages.append(message)
        # Kill while the worker is busy: after a random number of tasks have started.
        target = before + random.randint(3, 30)
        stop_at = time.monotonic() + 20
        while runtime.redis.llen(STARTED) < target and time.monotonic() < stop_at:
            time.sleep(0.002)
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait()
        worker = _start_worker(url, data, log, delay=0.02)
    deadline = time.monotonic() + 60
    missing = messages
    while time.monotonic() < deadline and missing:
        time.sleep(1)
        missing = [
            m
            for m in messages
            if not runtime.redis.exists(keys.outbound(f"reply:{event_key('local', m.event_id)}"))
        ]
    duplicates = sum(1 for m in messages if runtime.redis.llen(keys.local_reply(m.event_id)) > 1)
    calls = [json.loads(x)["q"] for x in runtime.redis.lrange(STARTED, 0, -1)]
    os.killpg(worker.pid, signal.SIGKILL)
    worker.wait()
    return {
        "enqueued": len(messages),
        "missing": len(missing),
        "delivered_twice": duplicates,
        "answer_calls": len(calls),
        "rerun_after_kill": len(calls) - len(set(calls)),
    }


def main() -> None:
    """Run both measurements and print them as JSON."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=300)
    parser.add_argument("--redis-url", default=None)
    parser.add_argument("--kill-rounds", type=int, default=5)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="parley-bench-"))
    server = None
    url = args.redis_url
    if url is None:
        server = EmbeddedRedis(work / "data")
        url = server.start()
    settings = Settings(
        _env_file=None,
        redis_url=url,
        data_dir=work / "data",  # type: ignore[call-arg]
        task_soft_time_limit=6,
        task_time_limit=8,
        visibility_timeout=10,
        answerer_factory="bench.bench_queue:build_stamp_answerer",
    )
    log = work / "worker.log"
    worker = _start_worker(url, work / "data", log, delay=0.0)
    try:
        time.sleep(3)
        overhead = measure_overhead(settings, args.n)
    finally:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait()
    connect(url).delete(STARTED)
    loss = measure_kill_loss(settings, url, work / "data", log, args.kill_rounds)
    print(json.dumps({"overhead": overhead, "kill9": loss, "cpus": os.cpu_count()}, indent=2))
    if server is not None:
        server.stop()


if __name__ == "__main__":
    main()
