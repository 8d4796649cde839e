"""Telegram adapter benchmarks against the fake Bot API and a real Redis, each with a baseline.

    python bench/bench_telegram.py [--part all|webhook|burst|kill] [--updates 2000]
                                   [--concurrency 1,16] [--replies 100] [--scale 20] [--kill 1000]

webhook: ack latency p50/p99 and accepted updates/s of the webhook under concurrent load, against
         the same server acknowledging only after PTB's handlers finished (inline processing).
burst:   100 replies to one group through the Redis rate limiter shared by 4 sender threads
         (4 io workers), the fake server enforcing Telegram's limits sped up `--scale` times:
         429s counted, against the same senders without the limiter.
kill:    SIGKILL of `parley telegram` (polling) in the middle of a burst of `--kill` updates,
         then a restart: updates lost, against PTB's stock Updater (`run_polling`) with a handler
         that enqueues the same way.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

import httpx
import uvicorn

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bot.settings import Settings  # noqa: E402
from bot.telegram.app import TelegramAdapter  # noqa: E402
from bot.telegram.delivery import TelegramDeliverer  # noqa: E402
from bot.telegram.webhook import TelegramWebhook  # noqa: E402
from bot.types import OutgoingMessage  # noqa: E402
from tests import fake_telegram as tg  # noqa: E402
from workers.embedded import EmbeddedRedis  # noqa: E402
from workers.runtime import configure  # noqa: E402

T = TypeVar("T")
SECRET = "bench-secret"
PARLEY = str(Path(sys.executable).parent / "parley")


def settings_for(redis_url: str, fake: tg.FakeTelegram, data: Path, **extra: Any) -> Settings:
    values: dict[str, Any] = {
        "redis_url": redis_url,
        "data_dir": data,
        "telegram_bot_token": tg.TOKEN,
        "telegram_base_url": fake.base_url,
        "telegram_poll_timeout": 1,
        "telegram_webhook_secret": SECRET,
        "answerer_factory": "tests.fakes:build_echo_answerer",
    }
    values.update(extra)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


# --- webhook ---------------------------------------------------------------------------------


class InlineWebhook(TelegramWebhook):
    """Baseline: acknowledge only after PTB ran every handler (enqueue included)."""

    def __init__(self, adapter: TelegramAdapter) -> None:
        super().__init__(adapter, secret=SECRET, path="/hook")
        self._inline = adapter

    async def accept(self, body: bytes) -> tuple[int, str]:
        update = self._inline.admit(json.loads(body))
        if update is not None:
            await self._inline.application.process_update(update)
            self._inline.services.inbox.done(update.update_id)
        return 200, "ok"


class BareWebhook(TelegramWebhook):
    """Floor: acknowledge without storing or handling anything (HTTP and parsing cost only)."""

    async def accept(self, body: bytes) -> tuple[int, str]:
        json.loads(body)
        return 200, "ok"


class Loop:
    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def call(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(60)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


async def _load(url: str, updates: list[dict[str, Any]], concurrency: int) -> list[float]:
    latencies: list[float] = []
    queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    for update in updates:
        queue.put_nowait(update)
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(timeout=30, limits=limits) as client:

        async def worker() -> None:
            while not queue.empty():
                update = queue.get_nowait()
                started = time.perf_counter()
                response = await client.post(url, json=update, headers=headers)
                latencies.append(time.perf_counter() - started)
                assert response.status_code == 200, response.text

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return latencies


def run_load(url: str, updates: list[dict[str, Any]], concurrency: int) -> list[float]:
    """Post every update with `concurrency` connections; the latency of each acknowledgement."""
    return asyncio.run(_load(url, updates, concurrency))


def _serve(app: Any, port: int) -> uvicorn.Server:
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error", lifespan="off")
    return uvicorn.Server(config)


def webhook_round(
    redis_url: str, fake: tg.FakeTelegram, data: Path, *, mode: str, n: int, concurrency: int
) -> dict[str, Any]:
    import redis

    client = redis.Redis.from_url(redis_url, decode_responses=True)
    client.flushall()
    settings = settings_for(redis_url, fake, data)
    runner = Loop()
    adapter = TelegramAdapter(settings, configure(settings))
    runner.call(adapter.start(register_commands=False))
    app: TelegramWebhook = TelegramWebhook(adapter, secret=SECRET, path="/hook")
    if mode == "inline":
        app = InlineWebhook(adapter)
    elif mode == "bare":
        app = BareWebhook(adapter, secret=SECRET, path="/hook")
    port = 20000 + os.getpid() % 20000
    server = _serve(app, port)

    async def start() -> asyncio.Task[None]:
        task = asyncio.create_task(server.serve())
        while not server.started:
            await asyncio.sleep(0.01)
        return task

    serving = runner.call(start())
    updates = [tg.private_text(i + 1, f"q{i}", chat=10_000 + i, message_id=1) for i in range(n)]
    started = time.perf_counter()
    # The load comes from another process, so it does not share the adapter's GIL.
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        latencies = pool.apply(run_load, (f"http://127.0.0.1:{port}/hook", updates, concurrency))
    acked = time.perf_counter() - started
    while mode != "bare" and client.llen("models") < n:
        time.sleep(0.01)
    enqueued = time.perf_counter() - started
    server.should_exit = True
    while not serving.done():
        time.sleep(0.05)
    runner.call(adapter.stop())
    runner.close()
    return {
        "mode": mode,
        "p50_ms": round(1000 * statistics.median(latencies), 2),
        "p99_ms": round(1000 * percentile(latencies, 0.99), 2),
        "acks_per_s": round(n / acked, 1),
        "enqueued_per_s": round(n / enqueued, 1),
    }


# --- burst -----------------------------------------------------------------------------------


def burst_round(
    redis_url: str, data: Path, *, limited: bool, replies: int, scale: float, senders: int = 4
) -> dict[str, Any]:
    import redis

    redis.Redis.from_url(redis_url).flushall()
    with tg.FakeTelegram().serve() as fake:
        fake.enforce_limits(
            per_chat=1.0 / scale, group_per_window=20, window=60.0 / scale, global_per_s=30 * scale
        )
        settings = settings_for(
            redis_url,
            fake,
            data,
            telegram_rate_per_chat=1.0 * scale,
            telegram_rate_per_group=20.0 * scale,
            telegram_rate_global=30.0 * scale,
            telegram_max_wait=3600.0,
        )
        chat = "-1001234567890"
        jobs = list(range(replies))
        lock = threading.Lock()
        failures = 0

        def send_all() -> None:
            nonlocal failures
            client = redis.Redis.from_url(redis_url, decode_responses=True)
            if limited:
                deliverer = TelegramDeliverer(settings, client)
                while True:
                    with lock:
                        if not jobs:
                            break
                        i = jobs.pop(0)
                    out = OutgoingMessage("telegram", chat, f"reply {i}", f"burst:{i}")
                    deliverer.deliver(out)
                deliverer.close()
                return
            while True:
                with lock:
                    if not jobs:
                        break
                    i = jobs.pop(0)
                response = httpx.post(
                    f"{fake.base_url}{tg.TOKEN}/sendMessage",
                    data={"chat_id": chat, "text": f"reply {i}"},
                )
                if response.status_code != 200:
                    with lock:
                        failures += 1

        started = time.perf_counter()
        threads = [threading.Thread(target=send_all) for _ in range(senders)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - started
        return {
            "sender": "Redis limiter, 4 workers"
            if limited
            else "unthrottled, 4 workers (baseline)",
            "replies": replies,
            "delivered": len(fake.messages),
            "429s": fake.too_many,
            "seconds": round(elapsed, 1),
            "telegram_seconds": round(elapsed * scale, 1),
        }


# --- kill ------------------------------------------------------------------------------------

STOCK = """
import asyncio
from telegram import Update
from telegram.ext import Application, MessageHandler, filters
from bot.settings import load_settings
from bot.telegram.convert import classify, message_text, to_incoming
from workers.intake import accept_message
from workers.runtime import configure

settings = load_settings()
runtime = configure(settings)

async def handle(update, context):
    m = update.message
    kind = classify(m, context.bot.id, context.bot.username)
    incoming = to_incoming(m, kind=kind, text=message_text(m))
    await asyncio.to_thread(accept_message, incoming, runtime)  # as the Parley handlers do

app = (Application.builder().token(settings.telegram_bot_token.get_secret_value())
       .base_url(settings.telegram_base_url).build())
app.add_handler(MessageHandler(filters.ALL, handle))
app.run_polling(poll_interval=0, timeout=1)
"""


def kill_round(
    redis_url: str, data: Path, *, stock: bool, n: int, restart: bool = True
) -> dict[str, Any]:
    import redis

    client = redis.Redis.from_url(redis_url, decode_responses=True)
    client.flushall()
    with tg.FakeTelegram().serve() as fake:
        fake.queue_updates(
            *(tg.private_text(100 + i, f"q{i}", chat=7000 + i, message_id=1) for i in range(n))
        )
        env = {k: v for k, v in os.environ.items() if not k.startswith("PARLEY_")}
        env.update(
            PARLEY_REDIS_URL=redis_url,
            PARLEY_DATA_DIR=str(data),
            PARLEY_TELEGRAM_BOT_TOKEN=tg.TOKEN,
            PARLEY_TELEGRAM_BASE_URL=fake.base_url,
            PARLEY_TELEGRAM_POLL_TIMEOUT="1",
            PARLEY_TELEGRAM_INBOX_GRACE="2",
            PYTHONPATH=str(REPO),
        )
        command = [sys.executable, "-c", STOCK] if stock else [PARLEY, "telegram"]

        def launch() -> subprocess.Popen[bytes]:
            return subprocess.Popen(
                command,
                env=env,
                cwd=REPO,
                start_new_session=True,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )

        process = launch()
        deadline = time.monotonic() + 60
        while client.llen("models") < n // 3 and time.monotonic() < deadline:
            time.sleep(0.002)
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        at_kill = client.llen("models")
        confirmed_at_kill = fake.confirmed_offset - 100
        process = launch()
        expected = {f"{7000 + i}:1" for i in range(n)}
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if set(tg.queued_events(client)) == expected:
                break
            if not fake.updates and time.monotonic() > deadline - 25:
                # Everything was confirmed; give the restarted process a moment to finish.
                time.sleep(2)
                break
            time.sleep(0.2)
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        events = tg.queued_events(client)
        return {
            "adapter": "PTB run_polling (baseline)" if stock else "parley telegram",
            "updates": n,
            "enqueued_at_kill": at_kill,
            "confirmed_at_kill": confirmed_at_kill,
            "lost": len(expected - set(events)),
            "enqueued_twice": len(events) - len(set(events)),
        }


# --- main ------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--part", default="all", choices=["all", "webhook", "burst", "kill"])
    parser.add_argument("--updates", type=int, default=2000)
    parser.add_argument("--concurrency", default="1,16", help="comma-separated client counts")
    parser.add_argument("--replies", type=int, default=100)
    parser.add_argument("--scale", type=float, default=20.0)
    parser.add_argument("--kill", type=int, default=1000)
    args = parser.parse_args()
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        server = EmbeddedRedis(data / "redis")
        url = server.start()
        try:
            if args.part in ("all", "webhook"):
                results["webhook"] = []
                for concurrency in (int(c) for c in args.concurrency.split(",")):
                    with tg.FakeTelegram().serve() as fake:
                        ours, base, bare = (
                            webhook_round(
                                url,
                                fake,
                                data,
                                mode=mode,
                                n=args.updates,
                                concurrency=concurrency,
                            )
                            for mode in ("durable", "inline", "bare")
                        )
                    results["webhook"].append(
                        {
                            "concurrency": concurrency,
                            "durable": ours,
                            "inline_baseline": base,
                            "bare_200_floor": bare,
                            "ratio_p50": round(ours["p50_ms"] / base["p50_ms"], 2),
                            "ratio_p99": round(ours["p99_ms"] / base["p99_ms"], 2),
                        }
                    )
            if args.part in ("all", "burst"):
                results["burst"] = [
                    burst_round(url, data, limited=limited, replies=args.replies, scale=args.scale)
                    for limited in (True, False)
                ]
            if args.part in ("all", "kill"):
                results["kill"] = [
                    kill_round(url, data, stock=stock, n=args.kill) for stock in (False, True)
                ]
        finally:
            server.stop()
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
