"""Review tasks (docs/review.md): thin, keyword-only, idempotent wrappers of workers/review.

- `parley.review_open` (models): translate the card, post it, schedule the expiry;
- `parley.review_decided` (models): send the decided answer (translated when needed), update
  the card, audit;
- `parley.review_expire` (io): expire a review that is due, or wait another hop;
- `parley.review_card` (io): re-render the card (e.g. after `take`).
"""

from __future__ import annotations

import logging
import time

from celery import Task, shared_task

from workers.app import REVIEW_CARD, REVIEW_DECIDED, REVIEW_EXPIRE, REVIEW_OPEN, send
from workers.retry import TRANSIENT_ERRORS, retry_transient
from workers.review.decide import review_store
from workers.review.finish import expire, finish_decision, refresh_card
from workers.review.opening import prepare_card
from workers.runtime import Runtime, current

log = logging.getLogger(__name__)

TASK_OPTIONS = {"bind": True, "acks_late": True, "ignore_result": True}


def schedule_expiry(runtime: Runtime, review_id: str, expires_at: float, hop: int = 0) -> None:
    """Queue the expiry check for when the review is due, in hops shorter than the broker's
    visibility timeout (a longer countdown would be redelivered while it waits); each hop is
    sent once (field `expiry_hop<n>` on the review)."""
    key, field = runtime.keys.review(review_id), f"expiry_hop{hop}"
    if not runtime.redis.hsetnx(key, field, "1"):
        return
    countdown = min(max(0.0, expires_at - time.time()), runtime.settings.visibility_timeout / 2)
    try:
        send(
            runtime.app,
            REVIEW_EXPIRE,
            {"review_id": review_id, "hop": hop},
            runtime.settings,
            countdown=countdown,
        )
    except BaseException:
        runtime.redis.hdel(key, field)
        raise


@shared_task(name=REVIEW_OPEN, **TASK_OPTIONS)  # type: ignore[untyped-decorator]
def review_open(self: Task, *, review_id: str) -> None:
    """Translate and post the card of a new review, then schedule its expiry."""
    runtime = current()
    ids = f"review={review_id}"
    try:
        store = review_store(runtime)
        prepare_card(runtime, store, review_id)
        review = store.get(review_id)
        if review is None:
            log.warning("review_open: unknown %s", ids)
            return
        error = refresh_card(runtime, review, "")
        if error:
            store.update(review_id, card_error=error)
        if review.status == "pending":
            schedule_expiry(runtime, review_id, review.expires_at)
    except TRANSIENT_ERRORS as exc:
        raise retry_transient(self, exc, runtime.settings, ids) from exc
    finally:
        runtime.tasks_done += 1


@shared_task(name=REVIEW_DECIDED, **TASK_OPTIONS)  # type: ignore[untyped-decorator]
def review_decided(self: Task, *, review_id: str) -> None:
    """Send what the agent decided, update the card, record the decision."""
    runtime = current()
    try:
        finish_decision(runtime, review_store(runtime), review_id)
    except TRANSIENT_ERRORS as exc:
        raise retry_transient(self, exc, runtime.settings, f"review={review_id}") from exc
    finally:
        runtime.tasks_done += 1


@shared_task(name=REVIEW_EXPIRE, **TASK_OPTIONS)  # type: ignore[untyped-decorator]
def review_expire(self: Task, *, review_id: str, hop: int = 0) -> None:
    """Expire the review when due; otherwise schedule the next hop."""
    runtime = current()
    try:
        store = review_store(runtime)
        review = store.get(review_id)
        if review is None or review.status not in ("pending", "expired"):
            return
        if review.status == "pending" and review.expires_at > time.time():
            schedule_expiry(runtime, review_id, review.expires_at, hop + 1)
            return
        expire(runtime, store, review_id)
    except TRANSIENT_ERRORS as exc:
        raise retry_transient(self, exc, runtime.settings, f"review={review_id}") from exc
    finally:
        runtime.tasks_done += 1


@shared_task(name=REVIEW_CARD, **TASK_OPTIONS)  # type: ignore[untyped-decorator]
def review_card(self: Task, *, review_id: str, version: str) -> None:
    """Update the card to the review's current state under the key version `version`."""
    runtime = current()
    try:
        review = review_store(runtime).get(review_id)
        if review is not None:
            refresh_card(runtime, review, version)
    except TRANSIENT_ERRORS as exc:
        raise retry_transient(self, exc, runtime.settings, f"review={review_id}") from exc
    finally:
        runtime.tasks_done += 1
