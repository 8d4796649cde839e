"""Slack adapter: ack latency of the HTTP endpoint, and 429s on a burst to one channel.

    python bench/bench_slack.py [--seconds 60] [--rate 50] [--burst 200] [--interval 1.0]
                                [--skip-ack] [--skip-burst]

Ack latency: signed `message.im` events at `--rate` per second (open loop, a fresh connection
each, as Slack sends them) to the real endpoint (bolt + waitress in a child process, real Redis,
real Celery enqueue); p50/p99/max of the HTTP round trip. Parley answers only once the event
is deduped and enqueued (`process_before_response=True`, 503 past `slack_intake_timeout`).
Baseline, same run: the same app acknowledging first (`process_before_response=False`, the
enqueue runs after the answer, so an event is lost if it fails).

Burst: `--burst` replies to one channel from 4 threads (as several io workers would), against a
fake Slack Web API answering 429 to posts closer than `--interval` per channel. Parley's
deliverer (shared Redis pacing) against an unthrottled sender (pacing off), same run.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import statistics
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bot.errors import TransientError  # noqa: E402
from bot.settings import Settings  # noqa: E402
from bot.types import OutgoingMessage  # noqa: E402
from tests.fake_slack import (  # noqa: E402
    SECRET,
    TOKEN,
    FakeSlackServer,
    envelope,
    message_event,
    sign,
)
from workers.embedded import EmbeddedRedis  # noqa: E402
from workers.redis_client import connect  # noqa: E402


def _settings(redis_url: str, api_url: str, data_dir: Path, **extra: Any) -> Settings:
    values: dict[str, Any] = {
        "redis_url": redis_url,
        "data_dir": data_dir,
        "slack_api_url": api_url,
        "slack_bot_token": TOKEN,
        "slack_signing_secret": SECRET,
        "slack_port": extra.pop("port", 3000),
    }
    values.update(extra)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def _serve(settings: Settings, durable: bool) -> None:
    import logging

    import waitress

    from bot.slack.app import build_app
    from bot.slack.server import SlackWsgiApp
    from workers.runtime import configure

    logging.disable(logging.WARNING)
    runtime = configure(settings)
    app = build_app(settings, runtime, process_before_response=durable)
    waitress.serve(
        SlackWsgiApp(app, settings.slack_path),
        host="127.0.0.1",
        port=settings.slack_port,
        threads=settings.slack_http_threads,
        _quiet=True,
    )


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _post(url: str, body: str) -> tuple[int, float]:
    headers = {"Content-Type": "application/json", **sign(body)}
    request = urllib.request.Request(url, data=body.encode(), headers=headers)
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            response.read()
            status = response.status
    except urllib.error.HTTPError as exc:
        status = exc.code
    except OSError:
        status = 0
    return status, time.perf_counter() - started


def _wait_up(url: str) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url.replace("/slack/events", "/healthz"), timeout=1).read()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("endpoint did not start")


def ack_latency(
    settings: Settings, *, durable: bool, rate: float, seconds: float
) -> dict[str, Any]:
    """Latency figures of one endpoint variant under an open-loop event stream."""
    port = _free_port()
    settings = settings.model_copy(update={"slack_port": port})
    ctx = multiprocessing.get_context("spawn")
    server = ctx.Process(target=_serve, args=(settings, durable), daemon=True)
    server.start()
    url = f"http://127.0.0.1:{port}{settings.slack_path}"
    try:
        _wait_up(url)
        total = int(rate * seconds)
        tag = "durable" if durable else "ack"
        results: list[tuple[int, float]] = []
        lock = threading.Lock()
        client = connect(str(settings.redis_url))
        queued_before = int(client.llen("models"))  # type: ignore[arg-type]

        def send(i: int) -> None:
            event = message_event(
                f"question {i}",
                channel=f"D0{tag.upper()}",
                channel_type="im",
                ts=f"1700000000.{i:06d}",
            )
            outcome = _post(url, json.dumps(envelope(event, event_id=f"Ev{tag}{i}")))
            with lock:
                results.append(outcome)

        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=32) as pool:
            for i in range(total):
                delay = started + i / rate - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
                pool.submit(send, i)
        time.sleep(1.0)  # the baseline's listeners, which run after the answer, finish
        enqueued = int(client.llen("models")) - queued_before  # type: ignore[arg-type]
        latencies = sorted(lat * 1000 for _, lat in results)
        ok = sum(1 for status, _ in results if status == 200)
        return {
            "variant": "enqueue, then answer (Parley)" if durable else "ack first (baseline)",
            "events": total,
            "ok": ok,
            "statuses": dict(sorted(Counter(status for status, _ in results).items())),
            "enqueued": enqueued,
            "p50_ms": round(statistics.median(latencies), 1),
            "p99_ms": round(latencies[int(len(latencies) * 0.99) - 1], 1),
            "max_ms": round(latencies[-1], 1),
        }
    finally:
        server.terminate()
        server.join(5)


def burst(
    redis_url: str, data_dir: Path, *, n: int, interval: float, paced: bool, namespace: str
) -> dict[str, Any]:
    """Deliver `n` replies to one channel from 4 threads; count the fake server's 429s."""
    from bot.slack.delivery import SlackDeliverer

    with FakeSlackServer() as fake:
        fake.channel_interval = interval
        settings = _settings(
            redis_url,
            fake.url,
            data_dir,
            namespace=namespace,
            slack_channel_interval=interval if paced else 0.0,
            slack_rate_max_wait=240.0,
        )
        client = connect(redis_url)
        queue = list(range(n))
        lock = threading.Lock()
        failed = 0

        def work() -> None:
            nonlocal failed
            deliverer = SlackDeliverer(settings, client)
            while True:
                with lock:
                    if not queue:
                        return
                    i = queue.pop(0)
                reply = OutgoingMessage(
                    platform="slack",
                    channel="CBURST",
                    text=f"reply {i}",
                    idempotency_key=f"burst:{namespace}:{i}",
                    thread="1700000000.000100",
                )
                try:
                    deliverer.deliver(reply)
                except TransientError:
                    with lock:
                        failed += 1

        started = time.perf_counter()
        threads = [threading.Thread(target=work) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - started
        posted = len(fake.of("chat.postMessage")) - fake.rate_limited
        return {
            "variant": "paced (Parley)" if paced else "unthrottled (baseline)",
            "replies": n,
            "posted": posted,
            "http_429": fake.rate_limited,
            "seconds": round(elapsed, 1),
            "posts_per_s": round(posted / elapsed, 2),
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--rate", type=float, default=50.0)
    parser.add_argument("--burst", type=int, default=200)
    parser.add_argument("--interval", type=float, default=1.0)
    parser.add_argument("--skip-ack", action="store_true")
    parser.add_argument("--skip-burst", action="store_true")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        redis_server = EmbeddedRedis(Path(tmp) / "redis")
        redis_url = redis_server.start()
        try:
            if not args.skip_ack:
                with FakeSlackServer() as fake:
                    settings = _settings(redis_url, fake.url, Path(tmp) / "data")
                    rows = [
                        ack_latency(settings, durable=durable, rate=args.rate, seconds=args.seconds)
                        for durable in (True, False)
                    ]
                print(f"\nAck latency, {args.rate:g} events/s for {args.seconds:g} s")
                for row in rows:
                    print(json.dumps(row))
                ratio = rows[0]["p99_ms"] / max(rows[1]["p99_ms"], 0.001)
                print(f"p99 ratio Parley/baseline: {ratio:.2f} (target: max < 3000 ms, p99 < 300)")
            if not args.skip_burst:
                rows = [
                    burst(
                        redis_url,
                        Path(tmp) / "data",
                        n=args.burst,
                        interval=args.interval,
                        paced=paced,
                        namespace=f"b{int(paced)}",
                    )
                    for paced in (True, False)
                ]
                print(
                    f"\nBurst of {args.burst} replies to one channel, fake limit 1 per "
                    f"{args.interval:g} s"
                )
                for row in rows:
                    print(json.dumps(row))
                print(f"429s Parley vs baseline: {rows[0]['http_429']} vs {rows[1]['http_429']}")
        finally:
            redis_server.stop()


if __name__ == "__main__":
    main()
