"""Decisions and open questions of a thread, quoted from its messages (no model call).

The 0.5B default model lists decisions and questions poorly (it invents or repeats them), so they
are picked from the messages and quoted with their author: a sentence that commits or agrees
("let's", "I'll", "agreed", "de acuerdo", "machen wir") is a decision, and so is the message a
short reply only agrees to ("OK", "Will do"); a question with no later message from anyone
else is open. Cues cover EN, ES, DE, FR, PT, SV and ZH; other languages get questions only.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from nlp.content.types import ThreadMessage

MAX_POINTS = 5  # per list; the most recent are kept

_DECIDE = re.compile(
    r"^(?:ok(?:ay)?|alright|fine)\b|\b(?:let['\u2019]s|let us|we['\u2019]ll|we will|"
    r"we are going to|i['\u2019]ll|i will|will do|agreed|decided|decision|go with|"
    r"vamos a|lo haremos|har[ée]|de acuerdo|acordad[oa]|decidimos|hemos decidido|"
    r"queda decidido|machen wir|wir werden|ich werde|ich mache|einverstanden|abgemacht|"
    r"entschieden|beschlossen|on va|nous allons|je vais|d'accord|c'est décidé|"
    r"nous avons décidé|on a décidé|vou|combinado|decidido|vi kör|jag fixar|jag ska|vi ska|"
    r"överens|bestämt|beslutat|vi gör så)\b|决定|同意|就这么办|我来|我们会",
    re.IGNORECASE,
)
_AGREE = re.compile(
    r"^(?:ok(?:ay)?|agreed|deal|sounds good|will do|yes|sure|de acuerdo|vale|hecho|"
    r"einverstanden|machen wir|d'accord|entendu|combinado|fechado|okej|kör|好的?|同意|可以)"
    r"[.!\u3002\uff01]?$",
    re.IGNORECASE,
)
_SENTENCE = re.compile(r"(?<=[.!?])\s+|(?<=[\u3002\uff01\uff1f])")


@dataclass(frozen=True, slots=True)
class Points:
    """Quoted decisions and open questions, oldest first, each as `Author: sentence(s)`."""

    decisions: tuple[str, ...] = ()
    open_questions: tuple[str, ...] = ()


def sentences(text: str) -> list[str]:
    """`text` cut after sentence-ending punctuation."""
    return [s.strip() for s in _SENTENCE.split(" ".join(text.split())) if s.strip()]


def _is_question(sentence: str) -> bool:
    return sentence.endswith(("?", "\uff1f"))


def extract_points(messages: Sequence[ThreadMessage]) -> Points:
    """Decisions and open questions quoted from the people's messages (bots skipped)."""
    said = [m for m in messages if not m.is_bot and m.text.strip()]
    decided: dict[int, set[str]] = {}
    questions: list[str] = []
    for i, message in enumerate(said):
        parts = sentences(message.text)
        for sentence in parts:
            if _AGREE.match(sentence.rstrip()):
                _agree_to_previous(said, i, decided)
            elif _DECIDE.search(sentence) and not _is_question(sentence):
                decided.setdefault(i, set()).add(sentence)
        asked = [s for s in parts if _is_question(s)]
        if asked and all(later.author == message.author for later in said[i + 1 :]):
            questions.append(f"{message.author}: {' '.join(asked)}")
    decisions = [
        f"{said[i].author}: {' '.join(s for s in sentences(said[i].text) if s in decided[i])}"
        for i in sorted(decided)
    ]
    return Points(tuple(decisions[-MAX_POINTS:]), tuple(questions[-MAX_POINTS:]))


def _agree_to_previous(said: Sequence[ThreadMessage], i: int, decided: dict[int, set[str]]) -> None:
    """A bare "OK" decides the latest earlier message of someone else (its statements)."""
    for j in range(i - 1, -1, -1):
        if said[j].author != said[i].author:
            for sentence in sentences(said[j].text):
                if not _is_question(sentence) and not _AGREE.match(sentence):
                    decided.setdefault(j, set()).add(sentence)
            return
