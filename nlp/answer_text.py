"""What a customer is shown of a draft: its first section, in whole lines and whole sentences.

The 0.5B dialogue model sometimes copies its source instead of answering from it. Asked "How do
I reset my password?", it wrote the passwords page's `## Forgotten password` heading, that
section (the answer), then every following section of the page and of the next passage, until
the token budget cut it mid-sentence; and it keeps the source file's hard line breaks, so
sentences break in the middle in Slack and Telegram. The shown answer is therefore:

- the draft's first section: a leading Markdown heading is dropped and the text stops at the
  next heading (what follows it is another topic, copied on);
- its paragraphs re-flowed: a line break inside a paragraph becomes a space, except before a
  list item, a quote, a table row or inside a code block;
- when the budget cut the draft, ended at its last whole sentence.

The confidence still reads everything the model wrote (`nlp.confidence`): a model that copies on
into other topics is less often right, and on the answer eval the whole draft's score kept such
drafts escalated where the first section alone scored high (docs/models.md, "Shown answers").
"""

from __future__ import annotations

import re

_HEADING = re.compile(r"^[ \t]*#{1,6}[ \t]+\S")
_BARE_HASHES = re.compile(r"^[ \t]*#{1,6}[ \t]*$")
_FENCE = re.compile(r"^[ \t]*(?:```|~~~)")
# A line that starts a block of its own: a list item, a quote, a table row, a heading, a fence.
_BLOCK_START = re.compile(r"^[ \t]*(?:[-*+•][ \t]|\d{1,3}[.)][ \t]|>|\||#|```|~~~)")
_CITATIONS = r"(?:[ \t]*\[\d{1,2}(?:[ \t]*,[ \t]*\d{1,2})*\])*"
_MARKS = r"(?:\[\d{1,2}(?:[ \t]*,[ \t]*\d{1,2})*\][ \t]*)+"
_DOUBLE_STOP = re.compile(rf"([.!?。\uff01\uff1f])[ \t]*({_MARKS})\.(?=\s|$)")  # "the period. [1]."
_SENTENCE_END = re.compile(rf"[.!?。\uff01\uff1f](?:\*\*|[\"'\u201d\u2019)»])?{_CITATIONS}(?=\s|$)")


def first_section(text: str) -> tuple[str, bool]:
    """The text up to its second Markdown heading, without a heading it starts with, and whether
    anything after it was left out. A draft that is nothing but headings is kept as it was.
    """
    kept: list[str] = []
    rest = False
    for line in text.strip().splitlines():
        if _BARE_HASHES.match(line):
            continue  # a heading still being written (streaming), or a stray marker
        if _HEADING.match(line):
            if any(part.strip() for part in kept):
                rest = True
                break
            continue
        kept.append(line)
    section = "\n".join(kept).strip()
    return (section, rest) if section else (text.strip(), False)


def reflow(text: str) -> str:
    """Join lines broken inside a paragraph; blank lines, list items and code stay as they are."""
    out: list[str] = []
    in_code = False
    for line in text.splitlines():
        fence = bool(_FENCE.match(line))
        joinable = (
            not in_code
            and not fence
            and out
            and out[-1].strip()
            and line.strip()
            and not _BLOCK_START.match(line)
            and not _FENCE.match(out[-1])
            and not _HEADING.match(out[-1])
            and not out[-1].lstrip().startswith("|")
        )
        if joinable:
            out[-1] = f"{out[-1].rstrip()} {line.strip()}"
        else:
            out.append(line.rstrip())
        if fence:
            in_code = not in_code
    return "\n".join(out)


def whole_sentences(text: str) -> str:
    """The text up to its last sentence end (with the citations right after it), or the text
    with an ellipsis when no sentence has ended."""
    ends = list(_SENTENCE_END.finditer(text))
    if not ends:
        return text.rstrip() + " …"
    return text[: ends[-1].end()].rstrip()


def shown_answer(text: str, *, cut: bool = False) -> str:
    """What the customer reads of a cleaned draft (`nlp.prompts.clean_answer`); `cut`: the token
    budget ended the draft, not the model."""
    section, rest = first_section(text)
    shown = _DOUBLE_STOP.sub(lambda m: f" {m[2].strip()}{m[1]}", reflow(section))
    # A budget cut inside a later section, which is left out, leaves the first one whole.
    return whole_sentences(shown) if cut and not rest else shown
