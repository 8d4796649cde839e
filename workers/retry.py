"""Which errors are worth retrying, and how long to wait before the next attempt."""

from __future__ import annotations

import logging
import random

from celery import Task
from kombu.exceptions import OperationalError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from bot.errors import TransientError
from bot.settings import Settings

log = logging.getLogger(__name__)

TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    RedisConnectionError,
    RedisTimeoutError,
    OperationalError,
    TransientError,
)
MAX_BACKOFF_SECONDS = 60.0


def backoff_seconds(retries: int, exc: BaseException) -> float:
    """Exponential backoff with jitter (1, 2, 4 ... 60 s), or the error's own `retry_after`."""
    if isinstance(exc, TransientError) and exc.retry_after is not None:
        return max(0.0, exc.retry_after)
    base = min(MAX_BACKOFF_SECONDS, 2.0**retries)
    return base * random.uniform(0.5, 1.0)


def retry_transient(task: Task, exc: BaseException, settings: Settings, ids: str) -> BaseException:
    """Schedule another attempt of `task`; the caller raises what this returns."""
    countdown = min(backoff_seconds(task.request.retries, exc), settings.visibility_timeout / 2)
    log.warning(
        "transient error, retry %d in %.1f s %s: %s", task.request.retries + 1, countdown, ids, exc
    )
    retry: BaseException = task.retry(
        exc=exc,
        countdown=countdown,
        max_retries=settings.task_max_retries,
        expires=settings.task_expires,
    )
    return retry
