"""The Markdown emphasis a drafted answer carries, split out for each platform to render.

Knowledge-base pages are Markdown, and the dialogue model copies their `**Settings > Security**`
menu paths and `code` spans into its answers. Slack's mrkdwn shows `**` as typed (its bold is
`*...*`) and Telegram's HTML mode shows every asterisk, so each adapter renders these spans in
its own markup and escapes the rest as before. Links stay as written: a label the model wrote
must not hide where a link goes.
"""

from __future__ import annotations

import re
from typing import Literal

SpanKind = Literal["text", "bold", "code"]

_SPAN = re.compile(r"`([^`\n]+)`|\*\*(?=\S)([^*\n]+?)(?<=\S)\*\*")


def spans(text: str) -> list[tuple[SpanKind, str]]:
    """`text` as runs of plain text, `**bold**` and `` `code` `` (markers removed, in order).

    Only closed spans on one line count; an unclosed `**` (a streamed answer still being
    written) stays text.
    """
    out: list[tuple[SpanKind, str]] = []
    pos = 0
    for match in _SPAN.finditer(text):
        if match.start() > pos:
            out.append(("text", text[pos : match.start()]))
        if match[1] is not None:
            out.append(("code", match[1]))
        else:
            out.append(("bold", match[2]))
        pos = match.end()
    if pos < len(text):
        out.append(("text", text[pos:]))
    return out
