"""The micro-batcher: bounded batch size and wait, per-request failure, many threads at once."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from nlp.inference import GenerationOutput, GenerationRequest, MicroBatcher

POISON = 666


class EchoBackend:
    """Returns each prompt reversed as its 'generation'; fails a batch holding POISON."""

    name = "echo"
    tokenizer: Any = None
    device = "cpu"
    max_context = 1000

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay
        self.batches: list[list[tuple[int, ...]]] = []
        self.active = 0
        self.max_active = 0
        self._lock = threading.Lock()

    def generate(self, requests: Sequence[GenerationRequest]) -> list[GenerationOutput]:
        with self._lock:
            self.active += 1
            self.max_active = max(self.max_active, self.active)
        try:
            self.batches.append([r.prompt_ids for r in requests])
            time.sleep(self.delay)
            if any(POISON in r.prompt_ids for r in requests):
                raise ValueError("poisoned prompt")
            return [
                GenerationOutput(
                    str(r.prompt_ids), tuple(reversed(r.prompt_ids)), (), len(r.prompt_ids),
                    r.max_new_tokens, self.delay,
                )
                for r in requests
            ]  # fmt: skip
        finally:
            with self._lock:
                self.active -= 1


def request(*ids: int, min_new: int = 0) -> GenerationRequest:
    return GenerationRequest(tuple(ids), 4, min_new)


def test_requests_arriving_together_share_a_batch_of_bounded_size() -> None:
    backend = EchoBackend(delay=0.05)
    batcher = MicroBatcher(backend, max_batch=4, max_wait=0.2)
    outputs = batcher.generate([request(i, i + 1) for i in range(10)])
    assert [o.token_ids for o in outputs] == [(i + 1, i) for i in range(10)]
    assert [len(b) for b in backend.batches] == [4, 4, 2]
    assert max(batcher.batch_sizes) == 4


def test_a_lone_request_waits_at_most_max_wait() -> None:
    backend = EchoBackend()
    batcher = MicroBatcher(backend, max_batch=8, max_wait=0.05)
    batcher.generate([request(1)])  # start the thread
    started = time.monotonic()
    assert batcher.generate([request(2)])[0].token_ids == (2,)
    assert time.monotonic() - started < 0.5
    assert backend.batches[-1] == [(2,)]


def test_zero_wait_still_batches_what_is_already_queued() -> None:
    backend = EchoBackend(delay=0.05)
    batcher = MicroBatcher(backend, max_batch=8, max_wait=0.0)
    outputs = batcher.generate([request(i) for i in range(5)])
    assert [o.token_ids for o in outputs] == [(i,) for i in range(5)]
    assert sum(len(b) for b in backend.batches) == 5


def test_one_failing_request_fails_only_itself() -> None:
    backend = EchoBackend()
    batcher = MicroBatcher(backend, max_batch=8, max_wait=0.1)
    futures = [batcher.submit(request(i)) for i in (1, POISON, 3)]
    assert futures[0].result(timeout=5).token_ids == (1,)
    with pytest.raises(ValueError, match="poisoned"):
        futures[1].result(timeout=5)
    assert futures[2].result(timeout=5).token_ids == (3,)
    assert sorted(b[0][0] for b in backend.batches if len(b) == 1 and b[0] != (POISON,)) == [1, 3]
    # and the batcher keeps serving
    assert batcher.generate([request(7)])[0].token_ids == (7,)


def test_different_groups_never_share_a_batch() -> None:
    backend = EchoBackend(delay=0.02)
    batcher = MicroBatcher(backend, max_batch=8, max_wait=0.1)
    futures = [batcher.submit(request(i, min_new=i % 2 * 10)) for i in range(6)]
    assert [f.result(timeout=5).token_ids for f in futures] == [(i,) for i in range(6)]
    for batch in backend.batches:
        assert len({ids[0] % 2 for ids in batch}) == 1


def test_many_threads_get_their_own_results_and_the_backend_runs_one_batch_at_a_time() -> None:
    backend = EchoBackend(delay=0.01)
    batcher = MicroBatcher(backend, max_batch=6, max_wait=0.02)

    def call(i: int) -> tuple[int, ...]:
        return batcher.generate([request(i, 1000 + i)])[0].token_ids

    with ThreadPoolExecutor(max_workers=16) as pool:
        results = list(pool.map(call, range(64)))
    assert results == [(1000 + i, i) for i in range(64)]
    assert backend.max_active == 1
    assert len(backend.batches) < 64  # requests were batched together
    assert max(len(b) for b in backend.batches) <= 6


def test_bad_limits_are_refused() -> None:
    with pytest.raises(ValueError):
        MicroBatcher(EchoBackend(), max_batch=0)


class EarlyBackend(EchoBackend):
    """Reports each request with a prompt of one token done at once, then takes `delay`
    for the rest; a batch holding POISON fails after that."""

    def generate(self, requests: Sequence[GenerationRequest]) -> list[GenerationOutput]:
        self.batches.append([r.prompt_ids for r in requests])
        outputs = [
            GenerationOutput(str(r.prompt_ids), r.prompt_ids, (), 1, 1, 0.0) for r in requests
        ]
        for r, out in zip(requests, outputs, strict=True):
            if len(r.prompt_ids) == 1 and r.on_done is not None:
                r.on_done(out)
        time.sleep(self.delay)
        if len(requests) > 1 and any(POISON in r.prompt_ids for r in requests):
            raise ValueError("poisoned prompt")
        return outputs


def test_a_request_finished_early_is_answered_before_its_batch_ends() -> None:
    backend = EarlyBackend(delay=0.5)
    batcher = MicroBatcher(backend, max_batch=8, max_wait=0.1)
    short, long = batcher.submit(request(1)), batcher.submit(request(2, 3))
    assert short.result(timeout=0.4).token_ids == (1,)  # the batch still runs
    assert not long.done()
    assert long.result(timeout=5).token_ids == (2, 3)


def test_a_failing_batch_retries_only_the_requests_not_finished() -> None:
    backend = EarlyBackend()
    batcher = MicroBatcher(backend, max_batch=8, max_wait=0.1)
    futures = [batcher.submit(r) for r in (request(1), request(2, 3), request(POISON, 4))]
    assert [f.result(timeout=5).token_ids for f in futures] == [(1,), (2, 3), (POISON, 4)]
    assert backend.batches[1:] == [[(2, 3)], [(POISON, 4)]]  # (1,) was not run again
