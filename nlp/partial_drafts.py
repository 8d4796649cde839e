"""What a customer may see of a draft while the model is still writing it (streaming)."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from nlp.answer_text import shown_answer
from nlp.inference.types import PartialText
from nlp.prompts import NO_ANSWER, clean_answer, is_refusal

CITATION_MARK = re.compile(r"\s*\[\d{1,2}(?:\s*,\s*\d{1,2})*\]")
_OPEN_MARK = re.compile(r"\s*\[[\d,\s]*$")  # a citation marker still being written


def visible_partial(raw: str, titles: Sequence[str] = ()) -> str:
    """What a customer may see of a draft still being generated: cleaned like the final answer,
    without citation markers (the final answer re-attributes them), nothing while it is or may
    become a refusal ("NO_ANSWER")."""
    text = shown_answer(clean_answer(raw, titles))
    if is_refusal(text) or NO_ANSWER.startswith(text.upper()[: len(NO_ANSWER)]):
        return ""
    text = _OPEN_MARK.sub("", CITATION_MARK.sub("", text))
    return text.rstrip()


def partial_answers(on_text: PartialText, titles: Sequence[str]) -> Callable[[str], None]:
    """A generation callback forwarding `visible_partial` of the raw text, once per change."""
    shown = [""]

    def forward(raw: str) -> None:
        text = visible_partial(raw, titles)
        if text and text != shown[0]:
            shown[0] = text
            on_text(text)

    return forward
