"""Handing Slack events to intake within Slack's 3 s, or failing loudly so Slack redelivers.

`IntakeGate.run` runs the intake work (Redis reads, dedupe, Celery enqueue) on its own thread
pool and waits at most `PARLEY_SLACK_INTAKE_TIMEOUT` seconds. When the work fails or is not
done in time it raises `IntakeUnavailable`; the event listener lets that propagate and bolt
answers 503 (the `app.error` handler in `app.py`), so Slack retries the event (at once, ~1 min,
~5 min). A first attempt that finishes after its 503 is harmless: intake dedupes by event id,
so the retry is then answered 200 without a second enqueue.

While Redis or the broker is away, calls hang inside the Redis client's retries (~30 s). The
pool is a bulkhead: once as many calls as it has threads are in flight, new events fail at once
instead of queueing behind them, so the endpoint keeps answering fast (503) during an outage.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any, TypeVar

from bot.errors import TransientError

log = logging.getLogger(__name__)

T = TypeVar("T")


class IntakeUnavailable(TransientError):
    """An incoming event could not be enqueued in time; the platform should deliver it again."""


class IntakeGate:
    """Runs intake work with a time budget on a bounded pool of threads."""

    def __init__(self, timeout: float, threads: int) -> None:
        self.timeout = timeout
        self.limit = max(1, threads)
        self._executor = ThreadPoolExecutor(
            max_workers=self.limit, thread_name_prefix="parley-slack-intake"
        )
        self._lock = threading.Lock()
        self._in_flight = 0

    @property
    def in_flight(self) -> int:
        """Calls submitted and not finished yet (timed-out ones included)."""
        with self._lock:
            return self._in_flight

    def run(self, work: Callable[[], T], what: str) -> T:
        """`work()`'s result, or IntakeUnavailable when it raised or took longer than the budget."""
        with self._lock:
            if self._in_flight >= self.limit:
                raise IntakeUnavailable(f"intake busy ({self._in_flight} calls pending): {what}")
            self._in_flight += 1
        try:
            future = self._executor.submit(work)
        except BaseException:
            self._done()
            raise
        future.add_done_callback(self._finished)
        try:
            return future.result(timeout=self.timeout)
        except FutureTimeout as exc:
            future.cancel()  # still queued: never runs; already running: finishes on its own
            raise IntakeUnavailable(f"intake took longer than {self.timeout:g} s: {what}") from exc
        except Exception as exc:
            raise IntakeUnavailable(f"intake failed ({type(exc).__name__}: {exc}): {what}") from exc

    def shutdown(self) -> None:
        """Stop the pool (calls still running finish on their own)."""
        self._executor.shutdown(wait=False, cancel_futures=True)

    def _finished(self, _: Future[Any]) -> None:
        self._done()

    def _done(self) -> None:
        with self._lock:
            self._in_flight -= 1
