"""The answering pipeline as plain functions (the Celery tasks are thin wrappers around these)."""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded

from bot.errors import ParleyError, TransientError
from bot.settings import Settings
from bot.types import IncomingMessage, OutgoingMessage, Turn
from nlp.answering import streams
from nlp.content.suggest import suggest_articles
from nlp.handoff import handoff_note
from nlp.types import Answerer, Draft
from retrieval.types import Hit
from workers.keys import event_key
from workers.preferences import ChannelSettings
from workers.review.notes import review_note
from workers.state import ConversationStore

log = logging.getLogger(__name__)

EMPTY_REPLY = "Your message was empty. Please type a question and I will look it up."
TRUNCATED_NOTE = "(Your message was long: I read only its first {limit} characters.)"
FAILED_REPLY = "Sorry, I could not answer this right now: {reason}"


def clean_text(text: str) -> str:
    """Drop invisible format characters (zero-width, bidi controls) and surrounding space."""
    return "".join(ch for ch in text if unicodedata.category(ch) != "Cf").strip()


def reply_key(message: IncomingMessage) -> str:
    """The idempotency key of the reply to `message`: one reply per incoming event."""
    return f"reply:{event_key(message.platform, message.event_id)}"


def make_reply(
    message: IncomingMessage,
    text: str,
    *,
    draft: dict[str, Any] | None = None,
    error: str | None = None,
    note: str | None = None,
) -> OutgoingMessage:
    """An OutgoingMessage answering `message` (draft, error and note ride in metadata)."""
    metadata: dict[str, Any] = {"reply_to": message.event_id, "draft": draft}
    if error is not None:
        metadata["error"] = error
    if note is not None:
        metadata["note"] = note
    return OutgoingMessage(
        platform=message.platform,
        channel=message.channel,
        thread=message.thread,
        text=text,
        idempotency_key=reply_key(message),
        metadata=metadata,
        reply_to_message=message.message_id,
    )


def _draft_text(draft: dict[str, Any], note: str | None) -> str:
    text = str(draft.get("text", ""))
    return f"{note}\n\n{text}" if note else text


def _apply_channel(draft: Draft, channel: ChannelSettings) -> Draft:
    if draft.action == "answer" and channel.policy == "review":
        # Every draft goes to an agent; the customer hears that a person will reply.
        return replace(
            draft,
            text=review_note(draft.language),
            action="escalate",
            reason="the channel reviews every draft",
            draft_text=draft.draft_text or draft.text,
        )
    threshold = channel.confidence_threshold
    if draft.action == "answer" and threshold is not None and draft.confidence < threshold:
        # The customer gets the handoff note; the draft stays for the reviewing agent.
        return Draft(
            text=handoff_note(draft.language),
            language=draft.language,
            action="escalate",
            confidence=draft.confidence,
            citations=draft.citations,
            reason=f"confidence {draft.confidence:.2f} below the channel threshold {threshold}",
            draft_text=draft.draft_text or draft.text,
        )
    return draft


def draft_reply(
    message: IncomingMessage,
    *,
    settings: Settings,
    store: ConversationStore,
    answerer: Callable[[], Answerer],
    channel: ChannelSettings,
    on_text: Callable[[str], None] | None = None,
) -> OutgoingMessage | None:
    """Answer one incoming message and remember the exchange; idempotent per event.

    Transient errors (Redis away, TransientError) propagate so the task retries; other Parley
    errors and bugs become a user-facing error reply. Returns None when the channel is off.
    `on_text` streams the answer as it is drafted, when the answerer takes it (`streams`).
    """
    ids = (message.platform, message.channel, message.event_id)
    key = event_key(message.platform, message.event_id)
    if channel.policy == "off":
        log.info("channel off, not answering platform=%s channel=%s event=%s", *ids)
        return None
    text = clean_text(message.text)
    if not text:
        log.info("empty message platform=%s channel=%s event=%s", *ids)
        return make_reply(message, EMPTY_REPLY, error="empty")
    limit = settings.max_input_chars
    note = TRUNCATED_NOTE.format(limit=limit) if len(text) > limit else None
    text = text[:limit]
    stored = store.answered(key)
    if stored is not None:
        log.info("reusing stored answer platform=%s channel=%s event=%s", *ids)
        return make_reply(message, _draft_text(stored, note), draft=stored, note=note)
    try:
        model = answerer()
        history = store.load_history(message.thread_ref, exclude_event=key)
        if on_text is not None and streams(model):
            draft = model.answer(text, history=history, language=message.language, on_text=on_text)
        else:
            draft = model.answer(text, history=history, language=message.language)
    except TransientError:
        raise
    except ParleyError as exc:
        log.warning("cannot answer platform=%s channel=%s event=%s: %s", *ids, exc)
        return make_reply(message, FAILED_REPLY.format(reason=exc), error=type(exc).__name__)
    except SoftTimeLimitExceeded:
        log.error("answer timed out platform=%s channel=%s event=%s", *ids)
        reason = "it took too long. Please try again."
        return make_reply(message, FAILED_REPLY.format(reason=reason), error="timeout")
    draft = _apply_channel(draft, channel)
    data = draft.to_dict()
    passages = data.pop("passages", None)
    data["suggestions"] = suggestions(passages or (), data, settings.min_retrieval_score)
    store.record_exchange(
        key,
        message.thread_ref,
        question=Turn(role="user", text=text, at=message.received_at),
        reply=Turn(role="assistant", text=draft.text),
        draft=data,
    )
    log.info(
        "answered platform=%s channel=%s event=%s action=%s confidence=%.2f",
        *ids,
        draft.action,
        draft.confidence,
    )
    reply = make_reply(message, _draft_text(data, note), draft=data, note=note)
    if draft.action == "escalate" and passages:
        # For the review card only: the answering task takes them out before delivery.
        reply.metadata["passages"] = [_passage(p) for p in passages]
    return reply


def suggestions(
    passages: Iterable[dict[str, Any]], draft: dict[str, Any], min_score: float
) -> list[dict[str, Any]]:
    """Up to three related articles from the retrieved passages that the draft did not cite."""
    hits = [
        Hit(
            doc_id=str(p["doc_id"]),
            chunk_id=str(p.get("chunk_id") or ""),
            source=str(p.get("source") or ""),
            title=str(p.get("title") or ""),
            score=float(p.get("score") or 0.0),
            text="",
            url=p.get("url"),
        )
        for p in passages
        if p.get("doc_id")
    ]
    cited = [str(c.get("doc_id")) for c in draft.get("citations") or ()]
    return [s.to_dict() for s in suggest_articles(hits, cited=cited, min_score=min_score)]


def _passage(hit: dict[str, Any]) -> dict[str, Any]:
    keys = ("doc_id", "title", "source", "url", "score", "text")
    return {k: hit.get(k) for k in keys}
