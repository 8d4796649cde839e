"""Opening a review: an escalated draft becomes a pending review and a card for the agents.

`open_review` runs in the answering task (Redis only: the review is stored, `parley.review_open`
is queued); `prepare_card` runs in that task (models queue): it translates the customer's
message and the draft into the agents' language, once, keeping the card when translation fails.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from bot.errors import ParleyError, TransientError
from bot.types import IncomingMessage, MessageKind, OutgoingMessage
from workers.app import REVIEW_OPEN, send
from workers.keys import event_key
from workers.preferences import ChannelSettings, PreferenceStore
from workers.review.card import parse_destination
from workers.review.store import ReviewStore, review_id_for
from workers.runtime import Runtime

log = logging.getLogger(__name__)

TRANSLATION_FAILED = "translation into {language} failed: shown untranslated"


def _where(message: IncomingMessage) -> str:
    place = f"{message.platform} {message.channel}"
    return f"{place} (thread {message.thread})" if message.thread else place


def agent_language(prefs: PreferenceStore, destination: str, default: str = "en") -> str:
    """The destination channel's first configured language, else `default`."""
    parsed = parse_destination(destination)
    if parsed is None:
        return default
    languages = prefs.channel(*parsed).languages
    return languages[0].split("-")[0] if languages else default


def review_data(
    runtime: Runtime, message: IncomingMessage, reply: OutgoingMessage, destination: str
) -> dict[str, Any]:
    """The card facts of a new review (translations are added by `prepare_card`)."""
    draft = reply.metadata.get("draft") or {}
    now = time.time()
    return {
        "customer": {
            "platform": message.platform,
            "channel": message.channel,
            "user": message.user,
            "user_name": message.user_name,
            "where": _where(message),
        },
        "thread": message.thread,
        # Slack answers slash commands privately (response_url); so must the reviewed answer,
        # also after the response_url expired (30 min). Telegram answers commands in the chat.
        "private": message.kind == MessageKind.COMMAND and message.platform == "slack",
        "message_id": message.message_id,
        "event_id": message.event_id,
        "customer_text": message.text[: runtime.settings.max_input_chars],
        "customer_language": draft.get("language") or message.language or "",
        "draft_text": draft.get("draft_text") or "",
        "citations": list(draft.get("citations") or ()),
        "passages": list(reply.metadata.get("passages") or ()),
        "confidence": float(draft.get("confidence") or 0.0),
        "reason": draft.get("reason") or "",
        "triage": reply.metadata.get("triage") or {},
        "suggestions": list(draft.get("suggestions") or ()),
        "destination": destination,
        "agent_language": agent_language(runtime.preferences, destination),
        "created_at": now,
        "expires_at": now + runtime.settings.review_expiry,
        "model": runtime.settings.dialogue_model,
        "customer_text_translated": "",
        "draft_translated": "",
        "translated": False,
    }


def open_review(
    runtime: Runtime, message: IncomingMessage, reply: OutgoingMessage, channel: ChannelSettings
) -> OutgoingMessage:
    """Send an escalated draft to the channel's review destination; returns the reply for the
    customer (without the passages the card needed). Idempotent per incoming event."""
    passages = reply.metadata.pop("passages", None)
    draft = reply.metadata.get("draft") or {}
    if draft.get("action") != "escalate" or channel.policy == "off":
        return reply
    ids = f"platform={message.platform} channel={message.channel} event={message.event_id}"
    destination = channel.review_destination or runtime.settings.review_destination
    if not destination:
        # Expected in `parley chat` / `parley ask` (the terminal has no reviewers): no warning
        # printed into the conversation there.
        level = logging.INFO if message.platform == "local" else logging.WARNING
        log.log(level, "escalated draft not reviewed (channel has no review destination) %s", ids)
        return reply
    if parse_destination(destination) is None:
        log.warning("escalated draft not reviewed: bad review destination %r %s", destination, ids)
        return reply
    if passages is not None:
        reply.metadata["passages"] = passages
    settings = runtime.settings
    review_id = review_id_for(settings.namespace, event_key(message.platform, message.event_id))
    store = ReviewStore(runtime.redis, settings.namespace, decided_ttl=settings.dedupe_ttl)
    created = store.create(review_id, review_data(runtime, message, reply, destination))
    reply.metadata.pop("passages", None)
    send(runtime.app, REVIEW_OPEN, {"review_id": review_id}, settings)
    log.info(
        "review %s %s for %s -> %s", review_id, "opened" if created else "exists", ids, destination
    )
    reply.metadata["review_id"] = review_id
    return reply


def prepare_card(runtime: Runtime, store: ReviewStore, review_id: str) -> None:
    """Add the translations into the agents' language to the review, once."""
    review = store.get(review_id)
    if review is None or review.data.get("translated"):
        return
    data = dict(review.data)
    target = data["agent_language"]
    notes = []
    for source_field, out_field in (
        ("customer_text", "customer_text_translated"),
        ("draft_text", "draft_translated"),
    ):
        text = str(data.get(source_field) or "")
        if not text:
            continue
        try:
            translator = runtime.translator()
            source = data.get("customer_language") or translator.detect(text)
            if source and source.split("-")[0] == target:
                continue
            result = translator.translate_messages([text], target=target, source=source)[0]
            if result.translated and result.text.strip() != text.strip():
                data[out_field] = result.text
        except TransientError:
            raise
        except (ParleyError, Exception) as exc:  # the card matters more than its translation
            log.warning(
                "review %s: %s not translated to %s: %s", review_id, source_field, target, exc
            )
            notes.append(TRANSLATION_FAILED.format(language=target))
    data["translation_note"] = notes[0] if notes else ""
    data["translated"] = True
    store.set_data(review_id, data)
