"""Rendering replies for Telegram's HTML parse mode: escaping, citations, splitting at 4096.

Telegram measures text in UTF-16 code units after entity parsing, so the limit is checked on the
plain text (an escaped `&amp;` counts as one character once parsed) and chunks are escaped after
splitting. HTML mode is used because only `<`, `>` and `&` need escaping (MarkdownV2 has 18
special characters); Telegram's HTML has no `<br>`: line breaks stay plain newlines.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping
from typing import Any

from bot.markdown import spans

MAX_MESSAGE_UTF16 = 4096
PARSE_MODE = "HTML"
ESCALATION_NOTE = "I have passed your question to a person on our support team."
_CITATIONS_HEADER = "Sources:"
MAX_CITATIONS = 10


def utf16_len(text: str) -> int:
    """Length as Telegram counts it: UTF-16 code units (astral characters count two)."""
    return sum(2 if ord(ch) > 0xFFFF else 1 for ch in text)


def escape(text: str) -> str:
    """Escape text for parse_mode=HTML (only `<`, `>`, `&`; quotes are fine outside tags)."""
    return html.escape(text, quote=False)


def answer_html(text: str) -> str:
    """A drafted answer in HTML mode: escaped, its `**bold**` and `` `code` `` as tags."""
    tags = {"text": "", "bold": "b", "code": "code"}
    return "".join(
        f"<{tags[kind]}>{escape(part)}</{tags[kind]}>" if tags[kind] else escape(part)
        for kind, part in spans(text)
    )


def _cut(text: str, limit: int) -> int:
    """Index of the longest prefix of `text` within `limit` UTF-16 units."""
    used = 0
    for index, ch in enumerate(text):
        used += 2 if ord(ch) > 0xFFFF else 1
        if used > limit:
            return index
    return len(text)


def split_text(text: str, limit: int = MAX_MESSAGE_UTF16) -> list[str]:
    """Split plain text into chunks of at most `limit` UTF-16 units.

    Prefers paragraph, then line, then word boundaries in the last half of a chunk; never splits
    a character (a surrogate pair stays whole).
    """
    chunks: list[str] = []
    rest = text
    while utf16_len(rest) > limit:
        cut = _cut(rest, limit)
        window = rest[:cut]
        split_at = -1
        for sep in ("\n\n", "\n", " "):
            pos = window.rfind(sep)
            if pos >= cut // 2:
                split_at = pos
                break
        if split_at <= 0:
            chunks.append(window)
            rest = rest[cut:]
        else:
            chunks.append(window[:split_at].rstrip())
            rest = rest[split_at:].lstrip()
    if rest.strip() or not chunks:
        chunks.append(rest)
    return chunks


def _citation_line(index: int, citation: Mapping[str, Any]) -> str:
    title = str(citation.get("title") or citation.get("source") or citation.get("doc_id") or "")
    url = citation.get("url")
    if isinstance(url, str) and url.startswith(("http://", "https://")):
        return f'{index}. <a href="{html.escape(url, quote=True)}">{escape(title)}</a>'
    source = str(citation.get("source") or "")
    suffix = f" ({escape(source)})" if source and source != title else ""
    return f"{index}. {escape(title)}{suffix}"


def citation_block(citations: Iterable[Mapping[str, Any]]) -> str:
    """An HTML block listing the sources, or '' when there are none."""
    lines = [_citation_line(i, c) for i, c in enumerate(citations, start=1)]
    if not lines:
        return ""
    return "<b>" + _CITATIONS_HEADER + "</b>\n" + "\n".join(lines)


def render_reply(
    text: str, metadata: Mapping[str, Any], *, answer: bool | None = None
) -> list[str]:
    """The HTML messages for one reply: the text, split to fit, then its sources.

    An answer (`answer`, by default: the draft's action is `answer`) shows its Markdown
    emphasis as HTML (`answer_html`); other texts are only escaped.

    An escalation (draft action `escalate`) is the pipeline's handoff note in the customer's
    language: it is set in italics as a visible note, without sources (they belonged to an answer
    Parley did not trust). The sources close the last chunk, or get their own message.
    """
    draft = metadata.get("draft") if isinstance(metadata.get("draft"), Mapping) else None
    if draft and draft.get("action") == "escalate":
        note = text.strip() or ESCALATION_NOTE
        return [f"<i>{escape(chunk)}</i>" for chunk in split_text(note)]
    citations = list(draft.get("citations") or ())[:MAX_CITATIONS] if draft else []
    if answer is None:
        answer = draft is not None and draft.get("action") == "answer"
    chunks = split_text(text or " ")
    messages = [answer_html(chunk) if answer else escape(chunk) for chunk in chunks]
    block = citation_block(citations)
    related = list(draft.get("suggestions") or ())[:MAX_CITATIONS] if draft else []
    if related:
        lines = [_citation_line(i, c) for i, c in enumerate(related, start=1)]
        block = "\n\n".join(p for p in (block, "<b>See also</b>\n" + "\n".join(lines)) if p)
    if block:
        # The visible length of the block is at most its HTML length: tags are not counted.
        if utf16_len(chunks[-1]) + 2 + utf16_len(block) <= MAX_MESSAGE_UTF16:
            messages[-1] = f"{messages[-1]}\n\n{block}"
        else:
            messages.append(block)
    return messages
