"""Rendering replies as Slack text: escaping, citations, escalation notes, splitting."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.markdown import spans
from bot.types import Button, OutgoingMessage

# Marks the handoff note (the pipeline writes it in the asker's language) as an escalation.
ESCALATION_MARK = ":raising_hand:"


def escape(text: str) -> str:
    """Escape `&`, `<`, `>` so text cannot form Slack markup (`<!channel>`, `<@U..>`, links)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def answer_mrkdwn(text: str) -> str:
    """A drafted answer as Slack mrkdwn: escaped, its `**bold**` as `*bold*` (`bot.markdown`)."""
    marks = {"text": "", "bold": "*", "code": "`"}
    return "".join(f"{marks[kind]}{escape(part)}{marks[kind]}" for kind, part in spans(text))


def _link_label(text: str) -> str:
    return escape(text).replace("|", "/")


def render_citations(citations: list[Mapping[str, Any]]) -> str:
    """`Sources: <url|title>, name` (links where the source has a URL)."""
    rendered = []
    for cite in citations:
        label = str(cite.get("title") or cite.get("source") or cite.get("doc_id") or "")
        url = str(cite.get("url") or "")
        if url.startswith(("https://", "http://")) and not any(c in url for c in "<>| "):
            rendered.append(f"<{url}|{_link_label(label or url)}>")
        elif label:
            rendered.append(escape(label))
    unique = list(dict.fromkeys(rendered))
    return "Sources: " + ", ".join(unique) if unique else ""


def render_reply(outgoing: OutgoingMessage) -> str:
    """The Slack text of a reply: escaped text (an answer's emphasis as mrkdwn), then its sources.

    An escalation's text is the handoff note: it is marked, and shows no sources (the draft
    they belong to goes to the reviewers, not to the asker).
    """
    draft = outgoing.metadata.get("draft") or {}
    answer = draft.get("action") == "answer"
    text = answer_mrkdwn(outgoing.text) if answer else escape(outgoing.text)
    if draft.get("action") == "escalate":
        return f"{ESCALATION_MARK} {text}"
    sources = render_citations(list(draft.get("citations") or ()))
    related = render_citations(list(draft.get("suggestions") or ())).replace(
        "Sources: ", "See also: ", 1
    )
    tail = "\n".join(part for part in (sources, related) if part)
    return f"{text}\n\n{tail}" if tail else text


def _safe_cut(text: str, limit: int) -> int:
    """Where to cut `text` (<= limit): a paragraph, line or word boundary, never inside markup."""
    window = text[:limit]
    cut = -1
    for sep in ("\n\n", "\n", " "):
        cut = window.rfind(sep)
        if cut > limit // 2:
            break
    if cut <= 0:
        cut = limit
    head = text[:cut]
    opened = head.rfind("<")
    if opened > head.rfind(">"):
        cut = opened  # do not split a `<url|label>` link
    amp = text[:cut].rfind("&")
    if amp != -1 and ";" not in text[amp:cut] and cut - amp < 8:
        cut = amp  # nor an `&amp;` entity
    return max(cut, 1)


def split_text(text: str, limit: int) -> list[str]:
    """Split `text` into posts of at most `limit` characters at safe boundaries."""
    parts = []
    rest = text
    while len(rest) > limit:
        cut = _safe_cut(rest, limit)
        parts.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest or not parts:
        parts.append(rest)
    return [p for p in parts if p] or [""]


SECTION_LIMIT = 3000  # Block Kit's limit on a section's text


def render_blocks(text: str, buttons: tuple[Button, ...]) -> list[dict[str, Any]] | None:
    """Block Kit for a post with buttons (the text stays as the notification fallback)."""
    if not buttons:
        return None
    actions = [b.action for b in buttons]
    elements = [
        {
            "type": "button",
            "text": {"type": "plain_text", "text": button.label[:75], "emoji": True},
            # action_ids must be unique within a block: repeated actions get their position
            "action_id": (
                button.action if actions.count(button.action) == 1 else f"{button.action}:{i}"
            )[:255],
            "value": button.value[:2000],
        }
        for i, button in enumerate(buttons[:25])
    ]
    blocks: list[dict[str, Any]] = []
    if text:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": text[:SECTION_LIMIT]}})
    blocks.append({"type": "actions", "elements": elements})
    return blocks
