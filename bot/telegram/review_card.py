"""The review card as one Telegram HTML message (parse mode HTML), within 4,096 characters.

The card (`OutgoingMessage.kind == "review"`, `metadata["review"]` per the review contract) shows
who wrote where, the customer's message and the draft (each with its translation into the agent's
language when it differs), the cited passages with their scores, the confidence and, once decided,
the outcome. Telegram counts the visible text (after entity parsing) in UTF-16 units: when the
card is too long, passages are shortened first, then dropped, then the long texts are clipped.
Every value is escaped; passages sit in expandable quotes so the card stays short on screen.
"""

from __future__ import annotations

import datetime as dtm
import html
import re
from collections.abc import Mapping, Sequence
from typing import Any

from bot.telegram.render import MAX_MESSAGE_UTF16, answer_html, escape, utf16_len
from workers.review.card import subject_label, triage_line

ELLIPSIS = "…"
STATUS_LABELS = {
    "pending": "⏳ Waiting for review",
    "approved": "✅ Approved",
    "edited": "✏️ Edited",
    "rejected": "❌ Rejected",
    "expired": "⌛ Expired",
}
# (characters per passage, passages shown, characters per long text); None: no limit.
_PLANS: tuple[tuple[int | None, int | None, int | None], ...] = (
    (None, None, None),
    (600, None, None),
    (250, None, None),
    (80, 5, None),
    (0, 5, None),
    (0, 0, None),
    (0, 0, 1500),
    (0, 0, 700),
    (0, 0, 300),
)
_TAG = re.compile(r"<[^>]+>")


def visible_len(markup: str) -> int:
    """The length Telegram checks: the text without tags, entities decoded, in UTF-16 units."""
    return utf16_len(html.unescape(_TAG.sub("", markup)))


def clip(text: str, limit: int | None) -> str:
    """`text` cut to at most `limit` UTF-16 units (an ellipsis marks the cut)."""
    if limit is None or utf16_len(text) <= limit:
        return text
    used, out = 0, []
    for ch in text:
        used += 2 if ord(ch) > 0xFFFF else 1
        if used > limit - 1:
            break
        out.append(ch)
    return "".join(out).rstrip() + ELLIPSIS


def _str(review: Mapping[str, Any], name: str) -> str:
    value = review.get(name)
    return "" if value is None else str(value)


def _when(value: Any) -> str:
    """A timestamp (epoch seconds, also as text, or ISO text) as `YYYY-MM-DD HH:MM UTC`."""
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        return str(value or "")
    if seconds <= 0 or seconds != seconds or isinstance(value, bool):
        return ""
    return dtm.datetime.fromtimestamp(seconds, tz=dtm.UTC).strftime("%Y-%m-%d %H:%M UTC")


def _who(value: Any) -> str:
    if isinstance(value, Mapping):
        return str(value.get("name") or value.get("user") or "")
    return str(value or "")


def _quote(text: str, limit: int | None, *, expandable: bool = False, draft: bool = False) -> str:
    """A quoted text; a `draft` shows its emphasis as the customer will see it."""
    opening = "<blockquote expandable>" if expandable else "<blockquote>"
    render = answer_html if draft else escape
    return f"{opening}{render(clip(text.strip(), limit) or ' ')}</blockquote>"


def _header(review: Mapping[str, Any]) -> list[str]:
    status = _str(review, "status") or "pending"
    customer = review.get("customer") if isinstance(review.get("customer"), Mapping) else {}
    assert isinstance(customer, Mapping)
    name = str(customer.get("user_name") or customer.get("user") or "unknown")
    ref = f"{customer.get('platform', '')}:{customer.get('user', '')}"
    where = str(customer.get("where") or customer.get("channel") or "")
    lines = [
        f"<b>Review {escape(_str(review, 'review_id'))}</b> · "
        f"{escape(STATUS_LABELS.get(status, status))}",
        f"From <b>{escape(name)}</b> ({escape(ref)})" + (f" in {escape(where)}" if where else ""),
    ]
    facts = []
    confidence = review.get("confidence")
    if review.get("kind") == "content":
        facts.append("Content draft")
    elif isinstance(confidence, int | float) and not isinstance(confidence, bool):
        facts.append(f"Confidence: <b>{confidence:.2f}</b>")
    if _str(review, "reason"):
        facts.append(f"Why: {escape(_str(review, 'reason'))}")
    if facts:
        lines.append(" · ".join(facts))
    triage = triage_line(dict(review))
    if triage:
        urgent = isinstance(review.get("triage"), Mapping) and review["triage"].get("urgency")
        lines.append(f"🚨 <b>{escape(triage)}</b>" if urgent else escape(triage))
    return lines


def _texts(review: Mapping[str, Any], limit: int | None) -> list[str]:
    customer_lang = _str(review, "customer_language") or "?"
    lang = "" if review.get("kind") == "content" else f" ({escape(customer_lang)})"
    agent_lang = _str(review, "agent_language") or "?"
    lines = [
        f"<b>{subject_label(dict(review))}</b>{lang}:",
        _quote(_str(review, "customer_text"), limit),
    ]
    if _str(review, "customer_text_translated"):
        lines += [
            f"<i>Translation ({escape(agent_lang)}):</i>",
            _quote(_str(review, "customer_text_translated"), limit),
        ]
    lines += [f"<b>Draft</b>{lang}:", _quote(_str(review, "draft_text"), limit, draft=True)]
    if _str(review, "draft_translated"):
        lines += [
            f"<i>Draft in {escape(agent_lang)}:</i>",
            _quote(_str(review, "draft_translated"), limit, draft=True),
        ]
    if _str(review, "translation_note"):
        lines.append(f"<i>({escape(_str(review, 'translation_note'))})</i>")
    return lines


def _passage_title(index: int, passage: Mapping[str, Any]) -> str:
    title = str(passage.get("title") or passage.get("source") or "passage")
    score = passage.get("score")
    scored = f" ({score:.2f})" if isinstance(score, int | float) else ""
    url = passage.get("url")
    if isinstance(url, str) and url.startswith(("https://", "http://")):
        return f'{index}. <a href="{html.escape(url, quote=True)}">{escape(title)}</a>{scored}'
    return f"{index}. {escape(title)}{scored}"


def _passages(review: Mapping[str, Any], chars: int | None, count: int | None) -> list[str]:
    raw = review.get("passages")
    passages = [p for p in raw if isinstance(p, Mapping)] if isinstance(raw, Sequence) else []
    if not passages or count == 0:
        return []
    shown = passages if count is None else passages[:count]
    lines = ["<b>Passages</b>:"]
    for index, passage in enumerate(shown, start=1):
        lines.append(_passage_title(index, passage))
        text = str(passage.get("text") or "").strip()
        if text and chars != 0:
            lines.append(_quote(text, chars, expandable=True))
    if len(shown) < len(passages):
        lines.append(f"<i>(+{len(passages) - len(shown)} more)</i>")
    return lines


def _outcome(review: Mapping[str, Any], limit: int | None) -> list[str]:
    status = _str(review, "status") or "pending"
    lines = []
    if _str(review, "send_error"):
        lines.append(f"⚠️ Not delivered to the customer: {escape(_str(review, 'send_error'))}")
    if status == "pending":
        taken = _who(review.get("taken_by"))
        lines += [f"Taken by <b>{escape(taken)}</b>."] if taken else []
        expires = _when(review.get("expires_at"))
        return lines + ([f"<i>Expires {escape(expires)}.</i>"] if expires else [])
    by, at = _who(review.get("decided_by")), _when(review.get("decided_at"))
    label = STATUS_LABELS.get(status, status)
    detail = (f" by {escape(by)}" if by else "") + (f" at {escape(at)}" if at else "")
    lines.append(f"<b>{escape(label)}</b>{detail}.")
    if _str(review, "reject_reason"):
        lines.append(f"Reason: {escape(clip(_str(review, 'reject_reason'), limit))}")
    final, sent = _str(review, "final_text"), _str(review, "final_text_sent")
    if final and final.strip() != sent.strip():
        lines += ["Written:", _quote(final, limit)]
    if sent:
        lines += ["<b>Sent to the customer</b>:", _quote(sent, limit)]
    return lines


def _compose(review: Mapping[str, Any], plan: tuple[int | None, int | None, int | None]) -> str:
    chars, count, limit = plan
    sections = [_header(review), _texts(review, limit), _passages(review, chars, count)]
    sections.append(_outcome(review, limit))
    return "\n\n".join("\n".join(lines) for lines in sections if lines)


def render_card(text: str, metadata: Mapping[str, Any]) -> str:
    """The card's HTML; the plain-text fallback `text` (clipped) without review metadata."""
    review = metadata.get("review")
    if isinstance(review, Mapping):
        for plan in _PLANS:
            card = _compose(review, plan)
            if visible_len(card) <= MAX_MESSAGE_UTF16:
                return card
    return escape(clip(text or " ", MAX_MESSAGE_UTF16))
