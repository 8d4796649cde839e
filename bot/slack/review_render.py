"""Block Kit for review cards (`metadata["review"]`, docs/review.md) and the Edit/Reject modals."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from bot.slack.render import answer_mrkdwn, escape
from workers.review.card import subject_label, triage_line

SECTION_LIMIT = 3000
INPUT_LIMIT = 3000  # Slack's maximum for a plain_text_input
EDIT_VIEW = "review_edit"
REJECT_VIEW = "review_reject"
STATUS_MARK = {
    "pending": ":hourglass_flowing_sand:",
    "approved": ":white_check_mark:",
    "edited": ":pencil2:",
    "rejected": ":no_entry_sign:",
    "expired": ":alarm_clock:",
}


def _quote(text: str, limit: int = 1400, render: Callable[[str], str] = escape) -> str:
    text = text if len(text) <= limit else text[: limit - 1] + "…"
    return "\n".join("> " + render(line) if line else ">" for line in text.splitlines() or [""])


def _link(passage: dict[str, Any]) -> str:
    title = escape(str(passage.get("title") or passage.get("source") or "untitled"))
    title = title.replace("|", "/")
    url = str(passage.get("url") or "")
    if url.startswith(("https://", "http://")) and not any(c in url for c in "<>| "):
        return f"<{url}|{title}>"
    return title


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text[:SECTION_LIMIT]}}


def _pair(
    title: str,
    text: str,
    translated: str,
    language: str,
    original: str,
    render: Callable[[str], str] = escape,
) -> str:
    """A text and its translation, quoted; a draft's `render` shows its emphasis as the
    customer will see it (`answer_mrkdwn`)."""
    out = f"*{title}* ({original or '?'})\n{_quote(text, render=render)}"
    if translated:
        out += f"\n_In {escape(language)}:_\n{_quote(translated, render=render)}"
    return out


def _outcome(card: dict[str, Any], status_line: str) -> str:
    status = str(card["status"])
    lines = [f"{STATUS_MARK.get(status, '')} *{escape(status_line)}*"]
    if status in ("approved", "edited", "rejected"):
        if card.get("final_text_sent"):
            lines.append("Sent to the customer:\n" + _quote(str(card["final_text_sent"])))
        elif status == "rejected":
            lines.append("Nothing was sent to the customer.")
        if card.get("reject_reason"):
            lines.append(f"Reason: {escape(str(card['reject_reason']))}")
    if card.get("send_error"):
        lines.append(f":warning: Not delivered to the customer: {escape(str(card['send_error']))}")
    return "\n".join(lines)


def review_blocks(card: dict[str, Any], status_line: str) -> list[dict[str, Any]]:
    """The card: customer message, draft (with translations), sources, state, buttons."""
    customer = card["customer"]
    who = escape(str(customer.get("user_name") or customer.get("user") or ""))
    language = str(card.get("agent_language") or "en")
    rid = str(card["review_id"])
    facts = (
        "content draft"
        if card.get("kind") == "content"
        else f"confidence *{float(card.get('confidence') or 0):.2f}*"
    )
    head = f"*Review* `{rid}`: {who} on {escape(str(customer.get('where') or ''))} · {facts}"
    triage = triage_line(card)
    if triage:
        urgent = bool((card.get("triage") or {}).get("urgency"))
        head += f"\n:rotating_light: *{escape(triage)}*" if urgent else f"\n{escape(triage)}"
    blocks: list[dict[str, Any]] = [
        _section(head),
        _section(
            _pair(
                subject_label(card),
                card["customer_text"],
                card.get("customer_text_translated", ""),
                language,
                card.get("customer_language", ""),
            )
        ),
        _section(
            _pair(
                "Draft",
                card["draft_text"] or "(no draft)",
                card.get("draft_translated", ""),
                language,
                card.get("customer_language", ""),
                answer_mrkdwn,
            )
        ),
    ]
    context = [
        f"{i}. {_link(p)} ({float(p.get('score') or 0):.2f})"
        for i, p in enumerate(card.get("passages") or [], 1)
    ]
    notes = [escape(str(card[k])) for k in ("reason", "translation_note") if card.get(k)]
    if context or notes:
        elements = [
            {"type": "mrkdwn", "text": text[:SECTION_LIMIT]}
            for text in (" · ".join(context), " · ".join(notes))
            if text
        ]
        blocks.append({"type": "context", "elements": elements})
    blocks.append(_section(_outcome(card, status_line)))
    if card["status"] == "pending":
        blocks.append(
            {
                "type": "actions",
                "block_id": f"review:{rid}",
                "elements": [
                    _button("Approve", "review:approve", rid, "primary"),
                    _button("Edit", "review:edit", rid),
                    _button("Reject", "review:reject", rid, "danger"),
                ],
            }
        )
    return blocks


def _button(label: str, action: str, value: str, style: str = "") -> dict[str, Any]:
    button: dict[str, Any] = {
        "type": "button",
        "text": {"type": "plain_text", "text": label},
        "action_id": action,
        "value": value,
    }
    if style:
        button["style"] = style
    return button


def _input(
    block: str, label: str, *, initial: str = "", optional: bool, hint: str = ""
) -> dict[str, Any]:
    element: dict[str, Any] = {
        "type": "plain_text_input",
        "action_id": "text",
        "multiline": True,
        "max_length": INPUT_LIMIT,
    }
    if initial:
        element["initial_value"] = initial[:INPUT_LIMIT]
    block_json: dict[str, Any] = {
        "type": "input",
        "block_id": block,
        "optional": optional,
        "label": {"type": "plain_text", "text": label},
        "element": element,
    }
    if hint:
        block_json["hint"] = {"type": "plain_text", "text": hint[:150]}
    return block_json


def _modal(
    callback: str, title: str, submit: str, meta: dict[str, str], blocks: list[dict[str, Any]]
) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": callback,
        "private_metadata": json.dumps(meta),
        "title": {"type": "plain_text", "text": title},
        "submit": {"type": "plain_text", "text": submit},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": blocks,
    }


def edit_view(review_id: str, channel: str, draft: str, customer_language: str) -> dict[str, Any]:
    """The Edit modal, prefilled with the draft."""
    target = customer_language or "the customer's language"
    hint = f"Write in any language: it is translated into {target} before it is sent."
    meta = {"review_id": review_id, "channel": channel}
    block = _input("answer", "Answer to the customer", initial=draft, optional=False, hint=hint)
    return _modal(EDIT_VIEW, "Edit the answer", "Send", meta, [block])


def reject_view(review_id: str, channel: str) -> dict[str, Any]:
    """The Reject modal: an optional reason and an optional answer to send instead."""
    meta = {"review_id": review_id, "channel": channel}
    blocks = [
        _input("reason", "Why is the draft wrong? (optional)", optional=True),
        _input(
            "answer",
            "Write the answer instead (optional)",
            optional=True,
            hint="Sent to the customer, translated into their language.",
        ),
    ]
    return _modal(REJECT_VIEW, "Reject the draft", "Reject", meta, blocks)


def view_value(view: dict[str, Any], block: str) -> str:
    """The text typed into input `block` of a submitted view ("" when empty)."""
    values = ((view.get("state") or {}).get("values") or {}).get(block) or {}
    return str((values.get("text") or {}).get("value") or "")
