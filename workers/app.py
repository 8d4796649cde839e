"""The Celery application: queues, routes, reliability settings, all from Settings."""

from __future__ import annotations

from typing import Any

from celery import Celery
from kombu.entity import Queue

from bot.errors import ConfigurationError
from bot.settings import Settings

MODELS_QUEUE = "models"
IO_QUEUE = "io"
QUEUES = (MODELS_QUEUE, IO_QUEUE)

# Task names are constants so producers can send by name without importing the task modules.
ANSWER_MESSAGE = "parley.answer_message"
DELIVER_REPLY = "parley.deliver_reply"
TRANSLATE_MESSAGE = "parley.translate_message"
SUMMARIZE_THREAD = "parley.summarize_thread"
WRITE_CONTENT = "parley.write_content"
REVIEW_OPEN = "parley.review_open"
REVIEW_DECIDED = "parley.review_decided"
REVIEW_EXPIRE = "parley.review_expire"
REVIEW_CARD = "parley.review_card"
TRAIN_MODEL = "parley.train_model"
TASK_QUEUES = {
    ANSWER_MESSAGE: MODELS_QUEUE,
    DELIVER_REPLY: IO_QUEUE,
    TRANSLATE_MESSAGE: MODELS_QUEUE,
    SUMMARIZE_THREAD: MODELS_QUEUE,
    WRITE_CONTENT: MODELS_QUEUE,
    # Opening (translating the card) and deciding (translating an agent's edit) use models.
    REVIEW_OPEN: MODELS_QUEUE,
    REVIEW_DECIDED: MODELS_QUEUE,
    REVIEW_EXPIRE: IO_QUEUE,
    REVIEW_CARD: IO_QUEUE,
    TRAIN_MODEL: MODELS_QUEUE,
}

TASK_MODULES = [
    "workers.tasks.answering",
    "workers.tasks.delivery",
    "workers.tasks.translation",
    "workers.tasks.content",
    "workers.tasks.review",
    "workers.tasks.training",
]


def broker_url(settings: Settings) -> str:
    """The broker: PARLEY_BROKER_URL (Redis or RabbitMQ `amqp://`), else PARLEY_REDIS_URL."""
    url = settings.broker_url or settings.redis_url
    if url is None:
        raise ConfigurationError(
            "No Redis URL: set PARLEY_REDIS_URL, or start the embedded Redis first"
        )
    return url


def state_url(settings: Settings) -> str:
    """Redis for conversation state: PARLEY_STATE_REDIS_URL, else PARLEY_REDIS_URL."""
    url = settings.state_redis_url or settings.redis_url
    if url is None:
        raise ConfigurationError(
            "No Redis URL: set PARLEY_REDIS_URL, or start the embedded Redis first"
        )
    return url


def _transport_options(settings: Settings) -> dict[str, Any]:
    # Unacknowledged messages of a dead worker come back after the visibility timeout; sweep
    # for them often enough that this is what bounds recovery, not the sweep period.
    sweep = max(1, min(10, settings.visibility_timeout // 10))
    return {
        "visibility_timeout": settings.visibility_timeout,
        "unacked_restore_interval": sweep,
        "unacked_restore_throttle": 1,
    }


def create_celery_app(settings: Settings) -> Celery:
    """A configured Celery app; importing it loads no model (that happens in worker processes)."""
    if settings.redis_url is None:
        raise ConfigurationError(
            "No Redis URL: set PARLEY_REDIS_URL, or start the embedded Redis first"
        )
    app = Celery("parley", broker=broker_url(settings), backend=settings.redis_url)
    options = _transport_options(settings)
    app.conf.update(
        task_queues=[Queue(name, routing_key=name) for name in QUEUES],  # type: ignore[no-untyped-call]
        task_default_queue=IO_QUEUE,
        task_routes={name: {"queue": queue} for name, queue in TASK_QUEUES.items()},
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        task_acks_on_failure_or_timeout=True,
        worker_prefetch_multiplier=1,
        task_soft_time_limit=settings.task_soft_time_limit,
        task_time_limit=settings.task_time_limit,
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        task_ignore_result=True,
        result_expires=settings.dedupe_ttl,
        broker_transport_options=options,
        result_backend_transport_options=dict(options),
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
        worker_send_task_events=False,
    )
    app.conf.include = TASK_MODULES
    return app


def send(
    app: Celery,
    task: str,
    kwargs: dict[str, Any],
    settings: Settings,
    *,
    countdown: float | None = None,
) -> None:
    """Send a task by name with its queue and an expiry, always: stale work is dropped, not run.

    A delayed task (`countdown`) stays valid for `task_expires` seconds after it is due."""
    app.send_task(
        task,
        kwargs=kwargs,
        queue=TASK_QUEUES[task],
        expires=settings.task_expires + (countdown or 0),
        countdown=countdown,
    )
