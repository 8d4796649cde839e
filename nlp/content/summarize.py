"""Thread summaries: who said what, decisions and open questions, chunked past the context.

Messages are rendered as `Name: text` lines and cut into chunks that fit the token budget (a
message longer than the budget is split, never dropped); each chunk is summarised, and the
partial summaries are merged by the same model until one remains. The model writes English (the
0.5B default writes it best); the result is translated into the asker's language.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence

from bot.errors import InvalidInputError
from nlp.content.types import ChatModel, Summary, ThreadMessage
from nlp.prompts import LANGUAGE_NAMES

log = logging.getLogger(__name__)

SYSTEM = (
    "You summarise support and team chat threads. Write in English. Use the people's names. "
    "Reply in exactly this format:\n"
    "Summary: <two to four sentences on who said what>\n"
    "Decisions: <one per line starting with '- ', or '- none'>\n"
    "Open questions: <one per line starting with '- ', or '- none'>"
)
MERGE = "These are summaries of consecutive parts of one thread. Merge them into one summary."

Translate = Callable[[list[str], str], list[str]]
_SECTION = re.compile(r"^\s*(summary|decisions|open questions)\s*:\s*", re.I | re.M)


def _lines(messages: Sequence[ThreadMessage]) -> list[str]:
    lines = []
    for m in messages:
        text = " ".join(m.text.split())
        if m.is_bot or not text:
            continue
        lines.append(f"{m.author}: {text}")
    return lines


def _parse(output: str) -> tuple[str, list[str], list[str]]:
    sections: dict[str, str] = {}
    matches = list(_SECTION.finditer(output))
    for i, match in enumerate(matches):
        end = matches[i + 1].start() if i + 1 < len(matches) else len(output)
        sections[match.group(1).lower()] = output[match.end() : end].strip()
    if not sections:
        return output.strip(), [], []

    def items(name: str) -> list[str]:
        rows = [r.strip().lstrip("-*• ").strip() for r in sections.get(name, "").splitlines()]
        return [r for r in rows if r and r.lower().rstrip(".") not in {"none", "n/a"}]

    return sections.get("summary", "").strip(), items("decisions"), items("open questions")


class Summarizer:
    """Summarises threads with a chat model; `budget` is the tokens of thread text per call."""

    def __init__(
        self, model: ChatModel, *, translate: Translate | None = None, budget: int = 1200,
        max_new_tokens: int = 220,
    ) -> None:  # fmt: skip
        self._model = model
        self._translate = translate
        self._budget = budget
        self._max_new = max_new_tokens

    def chunk(self, lines: Sequence[str]) -> list[str]:
        """Consecutive lines packed into chunks of at most `budget` tokens."""
        chunks: list[str] = []
        current: list[str] = []
        used = 0
        for line in lines:
            pieces = [line]
            if self._model.count_tokens(line) > self._budget:  # one huge message: split it
                words = line.split()
                step = max(1, len(words) * self._budget // (2 * self._model.count_tokens(line)))
                pieces = [" ".join(words[i : i + step]) for i in range(0, len(words), step)]
            for piece in pieces:
                cost = self._model.count_tokens(piece) + 1
                if current and used + cost > self._budget:
                    chunks.append("\n".join(current))
                    current, used = [], 0
                current.append(piece)
                used += cost
        if current:
            chunks.append("\n".join(current))
        return chunks

    def _summarise(self, texts: list[str], system_extra: str = "") -> list[str]:
        chats = [
            [{"role": "system", "content": SYSTEM}, {"role": "user", "content": system_extra + t}]
            for t in texts
        ]
        return self._model.complete(chats, max_new_tokens=self._max_new)

    def summarize(self, messages: Sequence[ThreadMessage], *, language: str = "en") -> Summary:
        """Summarise `messages` in `language`; InvalidInputError when there is nothing to read."""
        if language not in LANGUAGE_NAMES:
            raise InvalidInputError(
                f"Cannot write summaries in {language!r}; supported: "
                + ", ".join(sorted(LANGUAGE_NAMES))
            )
        lines = _lines(messages)
        if not lines:
            raise InvalidInputError(
                "Nothing to summarise: the thread is empty or has only bot messages and files."
            )
        chunks = self.chunk(lines)
        log.info("summarising %d messages in %d chunk(s)", len(lines), len(chunks))
        partial = self._summarise([f"Thread:\n{c}" for c in chunks])
        while len(partial) > 1:  # merge in groups that fit the budget
            groups = self.chunk(partial)
            if len(groups) >= len(partial):  # summaries too long to pair up: merge two at a time
                groups = ["\n\n".join(partial[i : i + 2]) for i in range(0, len(partial), 2)]
            partial = self._summarise(groups, MERGE + "\n\n")
        text, decisions, questions = _parse(partial[0])
        if language != "en" and self._translate is not None:
            translated = self._translate([text, *decisions, *questions], language)
            text = translated[0]
            decisions = translated[1 : 1 + len(decisions)]
            questions = translated[1 + len(decisions) :]
        authors = dict.fromkeys(m.author for m in messages if not m.is_bot and m.text.strip())
        return Summary(
            language=language if self._translate is not None or language == "en" else "en",
            text=text,
            decisions=tuple(decisions),
            open_questions=tuple(questions),
            messages=len(lines),
            chunks=len(chunks),
            participants=tuple(authors),
        )
