"""Task `parley.train_model` (queue `models`): collect the streams, fine-tune, gate, promote.

Thin: the work is `nlp.learning.pipeline.run_training`. One run per kind at a time (a Redis lock
for the task's time limit), so a redelivered task (acks_late, visibility timeout) does not train
twice in parallel; a killed run leaves only a staging folder that is never promoted.
"""

from __future__ import annotations

import logging
from typing import Any, cast

from celery import Celery, Task, shared_task
from celery.exceptions import SoftTimeLimitExceeded

from bot.errors import ParleyError
from bot.settings import Settings
from nlp.learning.examples import Kind
from workers.app import MODELS_QUEUE, TRAIN_MODEL
from workers.keys import Keys
from workers.runtime import current

log = logging.getLogger(__name__)

# Static ceilings; `enqueue_training` sends the configured PARLEY_LEARNING_TIME_LIMIT.
SOFT_LIMIT = 6 * 3600
HARD_LIMIT = SOFT_LIMIT + 300


def enqueue_training(app: Celery, settings: Settings, *, kind: str, **options: Any) -> None:
    """Queue one training run with the configured time limit."""
    app.send_task(
        TRAIN_MODEL,
        kwargs={"kind": kind, **options},
        queue=MODELS_QUEUE,
        expires=settings.task_expires,
        soft_time_limit=settings.learning_time_limit,
        time_limit=settings.learning_time_limit + 300,
    )


@shared_task(  # type: ignore[untyped-decorator]
    name=TRAIN_MODEL,
    bind=True,
    acks_late=True,
    ignore_result=True,
    soft_time_limit=SOFT_LIMIT,
    time_limit=HARD_LIMIT,
)
def train_model(
    self: Task,
    *,
    kind: str,
    max_examples: int | None = None,
    epochs: int | None = None,
    promote: bool = True,
) -> dict[str, Any] | None:
    """Collect new examples, train `kind`, evaluate, promote when better; returns the summary."""
    from nlp.learning.pipeline import RunOptions, already_trained, run_training
    from nlp.learning.streams import collect

    runtime = current()
    settings = runtime.settings
    lock = Keys(settings.namespace).learning_lock(kind)
    if not runtime.redis.set(
        lock, self.request.id or "1", nx=True, ex=settings.learning_time_limit
    ):
        log.info("train_model %s: a run is already in progress; skipped", kind)
        return None
    try:
        collected = collect(runtime.redis, settings)
        log.info("train_model %s: collected %d entries", kind, collected.read)
        done = already_trained(settings, cast(Kind, kind))
        if done is not None:  # e.g. a redelivered task: the same data was just trained on
            log.info("train_model %s: no new data since version %s; skipped", kind, done)
            return {"kind": kind, "skipped": done}
        options = RunOptions(
            kind=cast(Kind, kind),
            max_examples=max_examples,
            epochs=epochs,
            promote=promote,
            progress=False,
        )
        report = run_training(settings, options)
    except (ParleyError, SoftTimeLimitExceeded) as exc:
        # Too little data, out of memory, time limit: nothing was promoted; say why once.
        log.error("train_model %s: not trained: %s", kind, exc or type(exc).__name__)
        return {"kind": kind, "error": str(exc) or type(exc).__name__}
    finally:
        runtime.redis.delete(lock)
    log.info(
        "train_model %s: version %s promoted=%s (%s)",
        kind,
        report.version,
        report.promoted,
        report.reason,
    )
    return {
        "kind": kind,
        "version": report.version,
        "promoted": report.promoted,
        "reason": report.reason,
        "before": report.before,
        "after": report.after,
    }
