"""A thread-safe micro-batcher: concurrent generation requests become batches.

Callers on any thread submit requests and block on their futures; one daemon thread takes the
first waiting request, waits at most `max_wait` for more (or until `max_batch` are there),
and runs them as one batch on the backend. Requests only share a batch with requests of the
same `group`. A request the backend reports finished early (`on_done`) resolves its future
then, not when the whole batch ends. When a batch fails, each of its requests not yet finished
is retried on its own, so one bad request fails only itself. The thread starts on first use and
again after a fork.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import replace
from typing import Any

from nlp.inference.types import GenerationBackend, GenerationOutput, GenerationRequest

logger = logging.getLogger(__name__)

_Item = tuple[GenerationRequest, "Future[GenerationOutput]"]


class MicroBatcher:
    """Runs one backend from one thread; `generate` may be called from many."""

    def __init__(
        self, backend: GenerationBackend, *, max_batch: int = 16, max_wait: float = 0.03
    ) -> None:
        if max_batch < 1 or max_wait < 0:
            raise ValueError("max_batch must be >= 1 and max_wait >= 0")
        self.backend = backend
        self.max_batch = max_batch
        self.max_wait = max_wait
        self.batch_sizes: list[int] = []  # for tests and benchmarks (last 1000)
        self._queue: queue.Queue[_Item] = queue.Queue()
        self._held: list[_Item] = []  # taken from the queue for another group
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._pid = 0

    # Backend-like surface, so drafters and translators take either.
    @property
    def tokenizer(self) -> Any:
        return self.backend.tokenizer

    @property
    def device(self) -> str:
        return self.backend.device

    @property
    def name(self) -> str:
        return self.backend.name

    @property
    def max_context(self) -> int:
        return self.backend.max_context

    def submit(self, request: GenerationRequest) -> Future[GenerationOutput]:
        """Queue one request; its future resolves to the output or the error it raised."""
        future: Future[GenerationOutput] = Future()
        self._ensure_thread()
        self._queue.put((request, future))
        return future

    def generate(self, requests: Sequence[GenerationRequest]) -> list[GenerationOutput]:
        """Generate for `requests` (batched with whatever else is waiting), in order."""
        futures = [self.submit(r) for r in requests]
        return [f.result() for f in futures]

    def _ensure_thread(self) -> None:
        with self._lock:
            if self._thread is not None and self._thread.is_alive() and self._pid == os.getpid():
                return
            if self._pid != os.getpid():  # a forked child: the parent's thread is not here
                self._queue, self._held = queue.Queue(), []
            self._pid = os.getpid()
            self._thread = threading.Thread(target=self._run, name="parley-batcher", daemon=True)
            self._thread.start()

    def _collect(self) -> list[_Item]:
        """The next batch: the oldest request plus same-group ones arriving within max_wait."""
        first = self._held.pop(0) if self._held else self._queue.get()
        batch = [first]
        group = first[0].group
        for item in [i for i in self._held if i[0].group == group][: self.max_batch - 1]:
            self._held.remove(item)
            batch.append(item)
        deadline = time.monotonic() + self.max_wait
        while len(batch) < self.max_batch:
            remaining = deadline - time.monotonic()
            try:
                item = (
                    self._queue.get(timeout=remaining)
                    if remaining > 0
                    else self._queue.get_nowait()
                )
            except queue.Empty:
                break
            (batch if item[0].group == group else self._held).append(item)
        return batch

    def _run(self) -> None:
        while True:
            batch = [i for i in self._collect() if i[1].set_running_or_notify_cancel()]
            if batch:
                self._execute(batch)

    def _execute(self, batch: list[_Item]) -> None:
        batch.sort(key=lambda item: len(item[0].prompt_ids))  # less padding
        self.batch_sizes = [*self.batch_sizes[-999:], len(batch)]
        try:
            outputs = self.backend.generate(
                [replace(request, on_done=_resolver(future)) for request, future in batch]
            )
        except Exception as exc:
            pending = [item for item in batch if not item[1].done()]  # not finished early
            if len(batch) == 1:
                for _, future in pending:
                    future.set_exception(exc)
                return
            logger.warning("A batch of %d failed (%s); retrying one by one", len(batch), exc)
            for item in pending:
                self._execute([item])
            return
        for (_, future), output in zip(batch, outputs, strict=True):
            if not future.done():
                future.set_result(output)


def _resolver(future: Future[GenerationOutput]) -> Callable[[GenerationOutput], None]:
    """A request's `on_done`: its caller gets the output before the rest of the batch ends."""

    def resolve(output: GenerationOutput) -> None:
        if not future.done():
            future.set_result(output)

    return resolve
