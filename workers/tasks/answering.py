"""Task `parley.answer_message` (queue `models`): draft a reply (streamed to the customer while
it is drafted, `workers/streaming.py`), then hand it to delivery."""

from __future__ import annotations

import logging
from typing import Any

from celery import Task, shared_task

from bot.types import IncomingMessage
from workers.app import ANSWER_MESSAGE, DELIVER_REPLY, send
from workers.pipeline import FAILED_REPLY, draft_reply, make_reply
from workers.retry import TRANSIENT_ERRORS, retry_transient
from workers.review.opening import open_review
from workers.runtime import current
from workers.streaming import ReplyStream, open_stream
from workers.triage import triage_reply

log = logging.getLogger(__name__)


@shared_task(name=ANSWER_MESSAGE, bind=True, acks_late=True, ignore_result=True)  # type: ignore[untyped-decorator]
def answer_message(self: Task, *, message: dict[str, Any]) -> None:
    """Answer one accepted (already deduplicated) incoming message; safe to run twice."""
    runtime = current()
    incoming = IncomingMessage.from_dict(message)
    ids = f"platform={incoming.platform} channel={incoming.channel} event={incoming.event_id}"
    log.info("answer_message start %s try=%d", ids, self.request.retries)
    stream = ReplyStream()
    try:
        channel = runtime.preferences.channel(incoming.platform, incoming.channel)
        stream = open_stream(runtime.settings, runtime.redis, incoming, channel)
        with stream:  # shows the answer while it is drafted; joined before the final send
            outgoing = draft_reply(
                incoming,
                settings=runtime.settings,
                store=runtime.conversations,
                answerer=runtime.answerer,
                channel=channel,
                on_text=stream.on_text,
            )
        if outgoing is not None:
            notices = triage_reply(runtime.settings, runtime.redis, incoming, outgoing)
            outgoing = stream.final(open_review(runtime, incoming, outgoing, channel))
            send(runtime.app, DELIVER_REPLY, {"outgoing": outgoing.to_dict()}, runtime.settings)
            for notice in notices:
                send(runtime.app, DELIVER_REPLY, {"outgoing": notice.to_dict()}, runtime.settings)
    except TRANSIENT_ERRORS as exc:
        raise retry_transient(self, exc, runtime.settings, ids) from exc
    except Exception:
        # A bug, not a passing fault: retrying would fail again. Tell the user, keep the trace.
        log.exception("answer_message failed %s", ids)
        reason = "an internal error occurred. The operators can find it in the worker log."
        reply = stream.final(
            make_reply(incoming, FAILED_REPLY.format(reason=reason), error="internal")
        )
        send(runtime.app, DELIVER_REPLY, {"outgoing": reply.to_dict()}, runtime.settings)
    finally:
        runtime.tasks_done += 1
