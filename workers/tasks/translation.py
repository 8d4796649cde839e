"""Task `parley.translate_message` (queue `models`): translate one message, hand to delivery."""

from __future__ import annotations

import logging
from typing import Any

from celery import Task, shared_task
from celery.exceptions import SoftTimeLimitExceeded

from bot.types import IncomingMessage
from workers.app import DELIVER_REPLY, TRANSLATE_MESSAGE, send
from workers.retry import TRANSIENT_ERRORS, retry_transient
from workers.runtime import current
from workers.translation import (
    FAILED_TRANSLATION,
    GlossaryStore,
    TranslationContext,
    make_translation,
    translate_incoming,
    translation_key,
)

log = logging.getLogger(__name__)


@shared_task(name=TRANSLATE_MESSAGE, bind=True, acks_late=True, ignore_result=True)  # type: ignore[untyped-decorator]
def translate_message(self: Task, *, message: dict[str, Any]) -> None:
    """Translate one accepted incoming message (or update/delete its translations); safe to
    run twice: translations are stored per (message, language) and delivered by key."""
    runtime = current()
    incoming = IncomingMessage.from_dict(message)
    ids = f"platform={incoming.platform} channel={incoming.channel} event={incoming.event_id}"
    log.info("translate_message start %s try=%d", ids, self.request.retries)
    try:
        prefs = runtime.preferences
        glossaries = GlossaryStore(runtime.redis, runtime.settings.namespace)
        ctx = TranslationContext(
            settings=runtime.settings,
            redis=runtime.redis,
            translator=runtime.translator,
            channel=prefs.channel(incoming.platform, incoming.channel),
            user=prefs.user(incoming.platform, incoming.user),
            glossary=glossaries.get(incoming.platform, incoming.workspace),
        )
        for outgoing in translate_incoming(incoming, ctx):
            send(runtime.app, DELIVER_REPLY, {"outgoing": outgoing.to_dict()}, runtime.settings)
    except TRANSIENT_ERRORS as exc:
        raise retry_transient(self, exc, runtime.settings, ids) from exc
    except (Exception, SoftTimeLimitExceeded) as exc:
        # A bug or a timeout, not a passing fault: tell an explicit asker, keep the trace.
        log.exception("translate_message failed %s", ids)
        if incoming.intent == "translate":
            mid = incoming.message_id or incoming.event_id
            key = translation_key(incoming.platform, incoming.channel, mid, "error")
            reason = "it took too long." if isinstance(exc, SoftTimeLimitExceeded) else (
                "an internal error occurred. The operators can find it in the worker log."
            )  # fmt: skip
            reply = make_translation(
                incoming, FAILED_TRANSLATION.format(reason=reason), key, kind="error",
                metadata={"error": "internal"},
            )  # fmt: skip
            send(runtime.app, DELIVER_REPLY, {"outgoing": reply.to_dict()}, runtime.settings)
    finally:
        runtime.tasks_done += 1
