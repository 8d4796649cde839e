"""The review card: `metadata["review"]` (the contract's fields) and its plain-text rendering.

The card is an ordinary `OutgoingMessage(kind="review")` to the review destination. The first
post has idempotency key `review:<id>:card`; later states replace it (`replaces`) under a key
per state, so each update is delivered once.
"""

from __future__ import annotations

import time
from typing import Any

from bot.types import Button, OutgoingMessage
from workers.review.store import Review
from workers.review.types import REVIEW_ACTION_PREFIX

STATUS_LINES = {
    "pending": "Waiting for an agent.",
    "approved": "Approved by {by} at {at}.",
    "edited": "Edited by {by} at {at}.",
    "rejected": "Rejected by {by} at {at}.",
    "expired": "Expired at {at} without a decision.",
}


def card_key(review_id: str) -> str:
    """Idempotency key of the card's first post (what updates replace)."""
    return f"review:{review_id}:card"


def parse_destination(value: str) -> tuple[str, str] | None:
    """`"slack:C0REVIEW"` -> `("slack", "C0REVIEW")`; None when malformed."""
    platform, _, channel = value.partition(":")
    if platform not in ("slack", "telegram", "local") or not channel or " " in channel:
        return None
    return platform, channel


def clock(at: str | float) -> str:
    """`14:02` (UTC) for a Unix time; empty when unknown."""
    try:
        return time.strftime("%H:%M", time.gmtime(float(at)))
    except (TypeError, ValueError):
        return ""


def card_metadata(review: Review) -> dict[str, Any]:
    """The contract's `metadata["review"]` dict for the review's current state."""
    data, state = review.data, review.state
    return {
        "review_id": review.review_id,
        "status": review.status,
        "customer": dict(data["customer"]),
        "customer_text": data.get("customer_text", ""),
        "customer_language": data.get("customer_language", ""),
        "customer_text_translated": data.get("customer_text_translated", ""),
        "agent_language": data.get("agent_language", "en"),
        "draft_text": data.get("draft_text", ""),
        "draft_translated": data.get("draft_translated", ""),
        "passages": list(data.get("passages", [])),
        "confidence": float(data.get("confidence", 0.0)),
        "reason": data.get("reason", ""),
        "decided_by": state.get("decided_name") or state.get("decided_by", ""),
        "decided_at": state.get("decided_at", ""),
        "final_text": state.get("final_text", ""),
        "final_text_sent": state.get("final_text_sent", ""),
        "reject_reason": state.get("reject_reason", ""),
        "expires_at": data.get("expires_at", 0.0),
        # additions beyond the contract
        "taken_by": state.get("taken_name") or state.get("taken_by", ""),
        "translation_note": data.get("translation_note", ""),
        "send_error": state.get("send_error", ""),
        "triage": dict(data.get("triage") or {}),
        "suggestions": list(data.get("suggestions") or ()),
        "kind": data.get("kind") or "answer",
    }


def subject_label(card: dict[str, Any]) -> str:
    """What the card's first text is: the customer's message, or a content request's brief."""
    return "Brief" if card.get("kind") == "content" else "Customer"


def triage_line(card: dict[str, Any]) -> str:
    """`URGENT (payment), negative 0.93`; empty when the message was not triaged."""
    triage = card.get("triage") or {}
    if not triage:
        return ""
    mood = f"{triage.get('sentiment', '?')} {float(triage.get('sentiment_confidence') or 0):.2f}"
    flags = ", ".join(triage.get("urgency") or ())
    return f"URGENT ({flags}), {mood}" if flags else f"Sentiment: {mood}"


def status_line(card: dict[str, Any]) -> str:
    """One line on the card's state: who decided when, or who took it."""
    status = str(card["status"])
    line = STATUS_LINES.get(status, status).format(
        by=card.get("decided_by") or "an agent", at=clock(card.get("decided_at") or time.time())
    )
    if status == "pending" and card.get("taken_by"):
        line = f"Taken by {card['taken_by']}."
    return line


def _language_pair(original: str, translated: str, language: str) -> list[str]:
    lines = [original or "(empty)"]
    if translated:
        lines.append(f"[{language}] {translated}")
    return lines


def card_text(card: dict[str, Any]) -> str:
    """Plain-text fallback of the whole card (no markup: adapters escape it)."""
    customer = card["customer"]
    who = customer.get("user_name") or customer.get("user", "")
    agent_language = str(card.get("agent_language") or "en")
    facts = (
        "content draft"
        if card.get("kind") == "content"
        else f"({card.get('customer_language') or '?'}), confidence {card['confidence']:.2f}"
    )
    lines = [
        f"Review {card['review_id']}: {who} on {customer.get('where', '')} {facts}",
        "",
        f"{subject_label(card)}:",
        *_language_pair(card["customer_text"], card["customer_text_translated"], agent_language),
        "",
        "Draft:",
        *_language_pair(
            card["draft_text"] or "(no draft)", card["draft_translated"], agent_language
        ),
    ]
    if card.get("translation_note"):
        lines.append(f"({card['translation_note']})")
    if triage_line(card):
        lines.insert(1, triage_line(card))
    if card["passages"]:
        lines.append("")
        lines.append("Sources:")
        for i, passage in enumerate(card["passages"], 1):
            title = passage.get("title") or passage.get("source") or "untitled"
            lines.append(f"{i}. {title} ({float(passage.get('score') or 0):.2f})")
    if card.get("reason"):
        lines.append(f"Why review: {card['reason']}")
    lines.append("")
    lines.append(status_line(card))
    if card["status"] in ("approved", "edited", "rejected"):
        if card.get("final_text_sent"):
            lines.append(f"Sent to the customer: {card['final_text_sent']}")
        elif card["status"] == "rejected":
            lines.append("Nothing was sent to the customer.")
        if card.get("reject_reason"):
            lines.append(f"Reason: {card['reject_reason']}")
    if card.get("send_error"):
        lines.append(f"Not delivered to the customer: {card['send_error']}")
    return "\n".join(lines)


def review_buttons(review_id: str) -> tuple[Button, ...]:
    """Approve, Edit, Reject (the contract's actions)."""
    return (
        Button("Approve", f"{REVIEW_ACTION_PREFIX}approve", review_id),
        Button("Edit", f"{REVIEW_ACTION_PREFIX}edit", review_id),
        Button("Reject", f"{REVIEW_ACTION_PREFIX}reject", review_id),
    )


def card_message(review: Review, *, version: str = "") -> OutgoingMessage:
    """The card as an OutgoingMessage: the first post, or (with `version`) an update of it."""
    platform, channel = parse_destination(review.data["destination"]) or ("local", "-")
    card = card_metadata(review)
    key = card_key(review.review_id)
    return OutgoingMessage(
        platform=platform,  # type: ignore[arg-type]
        channel=channel,
        text=card_text(card),
        idempotency_key=f"{key}:{version}" if version else key,
        buttons=review_buttons(review.review_id) if review.status == "pending" else (),
        metadata={"review": card, "reply_to": f"review:{review.review_id}"},
        kind="review",
        replaces=key if version else "",
    )
