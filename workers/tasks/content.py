"""Tasks `parley.summarize_thread` and `parley.write_content` (queue `models`)."""

from __future__ import annotations

import logging
import threading
from typing import Any, cast

from celery import Task, shared_task
from celery.exceptions import SoftTimeLimitExceeded

from bot.errors import InvalidInputError, ParleyError, TransientError
from bot.types import IncomingMessage
from nlp.content import ChatModel
from workers.app import DELIVER_REPLY, SUMMARIZE_THREAD, WRITE_CONTENT, send
from workers.content import asker_language, parse_write, summarize_for, write_for
from workers.pipeline import FAILED_REPLY, make_reply
from workers.preferences import ChannelSettings
from workers.retry import TRANSIENT_ERRORS, retry_transient
from workers.review.content import (
    NO_DESTINATION,
    SENT_FOR_REVIEW,
    open_content_review,
    review_destination,
    wants_review,
)
from workers.runtime import Runtime, _import_factory, current
from workers.thread_log import ThreadLog

log = logging.getLogger(__name__)
_lock = threading.Lock()
_models: dict[int, ChatModel] = {}


def chat_model(runtime: Runtime) -> ChatModel:
    """The dialogue model as a `ChatModel`, loaded once per runtime (process)."""
    with _lock:
        if id(runtime) not in _models:
            settings = runtime.settings
            factory = _import_factory("PARLEY_CHAT_MODEL_FACTORY", settings.chat_model_factory)
            _models[id(runtime)] = cast(ChatModel, factory(settings))
        return _models[id(runtime)]


def _maybe_review(
    runtime: Runtime, incoming: IncomingMessage, channel: ChannelSettings, text: str
) -> str:
    """Send the drafts to the agents' review when asked (`--review` or a channel in review
    mode); returns what the requester is told (the drafts, with where they went)."""
    if not wants_review(parse_write(incoming.text).review, channel):
        return text
    destination = review_destination(runtime, channel)
    if not destination:
        return f"{NO_DESTINATION}\n\n{text}"
    review_id = open_content_review(runtime, incoming, text, destination)
    return f"{SENT_FOR_REVIEW.format(review_id=review_id, destination=destination)}\n\n{text}"


def _run(task: Task, message: dict[str, Any], job: str) -> None:
    runtime = current()
    incoming = IncomingMessage.from_dict(message)
    ids = f"platform={incoming.platform} channel={incoming.channel} event={incoming.event_id}"
    log.info("%s start %s try=%d", job, ids, task.request.retries)
    try:
        prefs = runtime.preferences
        channel = prefs.channel(incoming.platform, incoming.channel)
        user = prefs.user(incoming.platform, incoming.user)
        translator = runtime.translator()
        default = runtime.settings.default_language
        detect = translator if job == "write" else None  # a summarize request holds no prose
        language = asker_language(incoming, user, detect, default)
        try:
            if job == "summarize":
                text = summarize_for(
                    incoming, log=ThreadLog(runtime.redis, runtime.settings),
                    model=chat_model(runtime), translator=translator, language=language,
                )  # fmt: skip
            else:
                text = write_for(
                    incoming, model=chat_model(runtime), translator=translator, channel=channel,
                    language=language, settings=runtime.settings,
                )  # fmt: skip
                text = _maybe_review(runtime, incoming, channel, text)
            reply = make_reply(incoming, text)
        except TransientError:
            raise
        except InvalidInputError as exc:
            reply = make_reply(incoming, str(exc), error="invalid")
        except ParleyError as exc:
            reply = make_reply(incoming, FAILED_REPLY.format(reason=exc), error=type(exc).__name__)
        send(runtime.app, DELIVER_REPLY, {"outgoing": reply.to_dict()}, runtime.settings)
    except TRANSIENT_ERRORS as exc:
        raise retry_transient(task, exc, runtime.settings, ids) from exc
    except (Exception, SoftTimeLimitExceeded) as exc:
        log.exception("%s failed %s", job, ids)
        reason = "it took too long." if isinstance(exc, SoftTimeLimitExceeded) else (
            "an internal error occurred. The operators can find it in the worker log."
        )  # fmt: skip
        reply = make_reply(incoming, FAILED_REPLY.format(reason=reason), error="internal")
        send(runtime.app, DELIVER_REPLY, {"outgoing": reply.to_dict()}, runtime.settings)
    finally:
        runtime.tasks_done += 1


@shared_task(name=SUMMARIZE_THREAD, bind=True, acks_late=True, ignore_result=True)  # type: ignore[untyped-decorator]
def summarize_thread(self: Task, *, message: dict[str, Any]) -> None:
    """Summarise the asker's thread or channel from the thread log; reply once per event."""
    _run(self, message, "summarize")


@shared_task(name=WRITE_CONTENT, bind=True, acks_late=True, ignore_result=True)  # type: ignore[untyped-decorator]
def write_content(self: Task, *, message: dict[str, Any]) -> None:
    """Draft content from a brief in the channel's languages; reply once per event."""
    _run(self, message, "write")
