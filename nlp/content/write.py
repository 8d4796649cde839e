"""Multilingual content drafting: one brief, a tone, several languages at once.

The model drafts once, in the first requested language it writes well (English when asked for,
else the first target), grounded in knowledge-base passages when a retriever is given; the other
languages are translations of that draft through the chat-safe translator, so glossary terms,
mentions, links and code survive in every language.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from bot.errors import InvalidInputError
from nlp.content.types import TONES, ChatModel, ContentDraft, Tone
from nlp.prompts import LANGUAGE_NAMES

MAX_BRIEF_CHARS = 2000
KINDS = ("announcement", "release note", "help-centre answer", "reply")

SYSTEM = (
    "You write content for a software company's customers. Write in {language}, in a {tone} "
    "tone. Use only facts from the brief and from the numbered knowledge-base passages; never "
    "invent prices, dates or features. Reply with the content only, no title line, no notes."
)
TONE_HINTS: dict[Tone, str] = {
    "formal": "formal and polite",
    "friendly": "warm and friendly",
    "concise": "short and direct (at most three sentences)",
}

Translate = Callable[[list[str], str], list[str]]
Retrieve = Callable[[str], Sequence[str]]


def check_languages(languages: Sequence[str]) -> list[str]:
    """Normalise and validate target languages (clear message listing the supported ones)."""
    codes = list(dict.fromkeys(c.strip().lower() for c in languages if c.strip()))
    if not codes:
        raise InvalidInputError("Name at least one language, e.g. --to en,es")
    unknown = [c for c in codes if c not in LANGUAGE_NAMES]
    if unknown:
        raise InvalidInputError(
            f"Cannot write in {', '.join(unknown)}; supported: " + ", ".join(sorted(LANGUAGE_NAMES))
        )
    return codes


class Writer:
    """Drafts content from a brief in several languages."""

    def __init__(
        self, model: ChatModel, *, translate: Translate, retrieve: Retrieve | None = None,
        max_new_tokens: int = 300,
    ) -> None:  # fmt: skip
        self._model = model
        self._translate = translate
        self._retrieve = retrieve
        self._max_new = max_new_tokens

    def write(
        self, brief: str, *, languages: Sequence[str], tone: str = "friendly"
    ) -> list[ContentDraft]:
        """One draft per language, in the order given."""
        brief = brief.strip()
        if not brief:
            raise InvalidInputError(
                "The brief is empty: say what to write, e.g. 'announce the new SSO'"
            )
        if len(brief) > MAX_BRIEF_CHARS:
            raise InvalidInputError(
                f"The brief is {len(brief)} characters; keep it under {MAX_BRIEF_CHARS}"
            )
        if tone not in TONES:
            raise InvalidInputError(f"Unknown tone {tone!r}; use one of {', '.join(TONES)}")
        codes = check_languages(languages)
        first = "en" if "en" in codes else codes[0]
        passages = list(self._retrieve(brief)) if self._retrieve is not None else []
        context = "".join(f"[{i}] {p}\n" for i, p in enumerate(passages, 1))
        user = (
            f"Knowledge-base passages:\n{context}\nBrief: {brief}" if context else f"Brief: {brief}"
        )
        system = SYSTEM.format(language=LANGUAGE_NAMES[first], tone=TONE_HINTS[tone])  # type: ignore[index]
        text = self._model.complete(
            [[{"role": "system", "content": system}, {"role": "user", "content": user}]],
            max_new_tokens=self._max_new,
        )[0].strip()
        drafts = {first: ContentDraft(first, text)}
        for code in codes:
            if code not in drafts:
                drafts[code] = ContentDraft(code, self._translate([text], code)[0], first)
        return [drafts[c] for c in codes]
