"""Task `parley.deliver_reply` (queue `io`): deliver one reply through its platform, once."""

from __future__ import annotations

import logging
from typing import Any

from celery import Task, shared_task

from bot.errors import ParleyError
from bot.types import OutgoingMessage
from workers.app import DELIVER_REPLY
from workers.corrections import remember_posted
from workers.delivery import PostedMessages, deliverer_for
from workers.retry import TRANSIENT_ERRORS, retry_transient
from workers.runtime import current

log = logging.getLogger(__name__)


@shared_task(name=DELIVER_REPLY, bind=True, acks_late=True, ignore_result=True)  # type: ignore[untyped-decorator]
def deliver_reply(self: Task, *, outgoing: dict[str, Any]) -> None:
    """Deliver one reply; a repeat with the same idempotency key is a no-op."""
    runtime = current()
    message = OutgoingMessage.from_dict(outgoing)
    ids = (
        f"platform={message.platform} channel={message.channel} "
        f"reply_to={message.metadata.get('reply_to', '')}"
    )
    try:
        deliverer = deliverer_for(runtime.deliverers, message.platform)
        delivered = deliverer.deliver(message)
    except TRANSIENT_ERRORS as exc:
        raise retry_transient(self, exc, runtime.settings, ids) from exc
    except ParleyError as exc:
        log.error("reply not deliverable %s: %s", ids, exc)
        return
    if message.kind == "translation":  # so a reader can correct it (workers/corrections.py)
        posted = PostedMessages(runtime.settings, runtime.redis).posted_id(message.idempotency_key)
        remember_posted(runtime.redis, runtime.settings, message, posted or "")
    log.info("deliver_reply %s %s", ids, "delivered" if delivered else "duplicate skipped")
