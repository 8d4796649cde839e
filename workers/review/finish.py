"""What happens after a decision or an expiry: the answer to the customer (once), the card
update, the escalation notice and the audit entry. Every step is idempotent, so the tasks that
call these may run twice.

The customer's answer goes out under the key `review:<id>:answer` (at most once per review).
An agent's text in another language than the customer's is translated first; the text and its
language are stored once (`final_text_sent`, `final_language`), so a re-run sends the same.
A rejection without an agent-written answer sends nothing: the customer already has the note
that a person will reply, and the agent who rejected is expected to follow up.
"""

from __future__ import annotations

import json
import logging
import time

from bot.errors import ParleyError, TransientError
from bot.types import OutgoingMessage, ThreadRef
from workers.delivery import deliverer_for
from workers.review.audit import record_decision
from workers.review.card import card_message, parse_destination
from workers.review.store import Review, ReviewStore
from workers.runtime import Runtime

log = logging.getLogger(__name__)

NOT_TRANSLATED = "could not translate the answer into {language} ({error}); nothing was sent"
EXPIRED_NOTICE = (
    "Review {rid} for {who} on {where} expired after {minutes} min without a decision. "
    "The customer was told a person would reply: please answer them directly."
)
CONTENT_EXPIRED_NOTICE = (
    "Content review {rid} requested by {who} on {where} expired after {minutes} min without a "
    "decision: nothing was posted."
)


def deliver(runtime: Runtime, outgoing: OutgoingMessage, what: str) -> str:
    """Deliver through the platform's deliverer: "" when done, else the permanent error (a
    transient one propagates so the task retries)."""
    try:
        deliverer_for(runtime.deliverers, outgoing.platform).deliver(outgoing)
    except TransientError:
        raise
    except ParleyError as exc:
        log.error("%s not delivered to %s:%s: %s", what, outgoing.platform, outgoing.channel, exc)
        return str(exc)
    return ""


def _lang(code: str | None) -> str:
    return (code or "").lower().replace("_", "-").split("-")[0]


def final_answer(runtime: Runtime, store: ReviewStore, review: Review) -> tuple[str, str, str]:
    """(text for the customer, its language, error) stored once; empty text: send nothing."""
    if review.get("final_text_sent") or review.get("send_error"):
        return review.get("final_text_sent"), review.get("final_language"), review.get("send_error")
    customer_language = _lang(review.data.get("customer_language"))
    if review.status == "approved":
        text, language = str(review.data.get("draft_text") or ""), customer_language
    else:
        text = review.get("final_text")
        if not text:
            return "", "", ""
        language = customer_language
        try:
            translator = runtime.translator()
            hint = review.get("agent_language_hint") or review.data.get("agent_language")
            source = _lang(translator.detect(text) or hint)
            if customer_language and source and source != customer_language:
                result = translator.translate_messages(
                    [text], target=customer_language, source=source
                )[0]
                text = result.text if result.translated else text
        except TransientError:
            raise
        except Exception as exc:
            error = NOT_TRANSLATED.format(language=customer_language, error=exc)
            log.error("review %s: %s", review.review_id, error)
            return "", "", store.set_once(review.review_id, "send_error", error)
    stored = store.set_once(review.review_id, "final_text_sent", text)
    store.set_once(review.review_id, "final_language", language)
    return stored, language, ""


def customer_answer(review: Review, text: str) -> OutgoingMessage:
    """The answer to the customer, in reply to their message."""
    data = review.data
    customer = data["customer"]
    citations = data.get("citations", []) if review.status == "approved" else []
    return OutgoingMessage(
        platform=customer["platform"],
        channel=customer["channel"],
        thread=data.get("thread", ""),
        text=text,
        idempotency_key=f"review:{review.review_id}:answer",
        reply_to_message=data.get("message_id", ""),
        # a private question (a slash command) gets a private answer
        ephemeral_to=customer["user"] if data.get("private") else "",
        metadata={
            "reply_to": data.get("event_id", ""),
            "review_id": review.review_id,
            "draft": {"action": "answer", "citations": citations},
        },
    )


_REMEMBER = """
if redis.call('HSETNX', KEYS[1], 'remembered', '1') == 0 then return 0 end
redis.call('RPUSH', KEYS[2], ARGV[1])
redis.call('LTRIM', KEYS[2], -tonumber(ARGV[2]), -1)
redis.call('EXPIRE', KEYS[2], ARGV[3])
return 1
"""


def remember(runtime: Runtime, review: Review, text: str) -> None:
    """Append the answer the customer got to their conversation memory, once (so follow-up
    questions and `history` see it)."""
    settings = runtime.settings
    if settings.history_turns == 0 or review.data.get("kind") == "content":
        return
    customer = review.data["customer"]
    thread = ThreadRef(customer["platform"], customer["channel"], review.data.get("thread", ""))
    turn = {
        "role": "assistant",
        "text": text[: settings.max_input_chars],
        "at": time.time(),
        "event": f"review:{review.review_id}",
    }
    script = runtime.redis.register_script(_REMEMBER)
    script(
        keys=[runtime.keys.review(review.review_id), runtime.keys.conversation(thread)],
        args=[json.dumps(turn), settings.history_turns, settings.conversation_ttl],
    )


def refresh_card(runtime: Runtime, review: Review, version: str) -> str:
    """Post (version "") or update the card; "" or the permanent error."""
    error = deliver(
        runtime, card_message(review, version=version), f"review {review.review_id} card"
    )
    if error and not version:
        log.error(
            "review %s: the card could not be posted to %s (%s). The draft is kept and the review "
            "stays pending: agents can list it with `/parley review pending` and take it; fix the "
            "destination (`/parley channel review ...`) or invite the bot there.",
            review.review_id,
            review.data["destination"],
            error,
        )
    return error


def finish_decision(runtime: Runtime, store: ReviewStore, review_id: str) -> None:
    """Send the decided answer, update the card, audit; safe to run again."""
    review = store.get(review_id)
    if review is None or review.status not in ("approved", "edited", "rejected"):
        log.info("review %s: nothing to finish (%s)", review_id, review and review.status)
        return
    text, _, error = final_answer(runtime, store, review)
    if text and not review.get("sent_at"):
        error = deliver(runtime, customer_answer(review, text), f"review {review_id} answer")
        if error:
            store.set_once(review_id, "send_error", error)
        else:
            store.set_once(review_id, "sent_at", f"{time.time():.3f}")
            remember(runtime, review, text)
    review = store.get(review_id) or review
    refresh_card(runtime, review, review.status)
    record_decision(runtime.redis, runtime.settings.namespace, review)


def expire(runtime: Runtime, store: ReviewStore, review_id: str) -> bool:
    """Expire a pending review that is due: card update, escalation notice, audit. False when it
    is not due yet (or no longer pending)."""
    move = store.decide(review_id, "expired", by="", name="", expired_at=time.time())
    review = store.get(review_id)
    if review is None or review.status != "expired":
        return False
    if move.won:
        log.warning("review %s expired without a decision", review_id)
    refresh_card(runtime, review, "expired")
    target = runtime.settings.review_escalation or review.data["destination"]
    platform, channel = parse_destination(target) or ("local", "-")
    customer = review.data["customer"]
    minutes = round((review.expires_at - float(review.data["created_at"])) / 60)
    template = CONTENT_EXPIRED_NOTICE if review.data.get("kind") == "content" else EXPIRED_NOTICE
    notice = OutgoingMessage(
        platform=platform,  # type: ignore[arg-type]
        channel=channel,
        text=template.format(
            rid=review_id,
            who=customer.get("user_name") or customer["user"],
            where=customer["where"],
            minutes=minutes,
        ),
        idempotency_key=f"review:{review_id}:expired",
        kind="notice",
        metadata={"reply_to": f"review:{review_id}", "review_id": review_id},
    )
    deliver(runtime, notice, f"review {review_id} escalation")
    record_decision(runtime.redis, runtime.settings.namespace, review)
    return True
