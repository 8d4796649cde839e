"""Thread summaries: prose on who said what, then quoted decisions and open questions.

Messages are rendered as `Name: text` lines and cut into chunks that fit the token budget (a
message longer than the budget is split, never dropped). The body is the model's answer to a
plain "Summarize this conversation" prompt: the 0.5B default writes fuller, better-attributed
prose that way than when asked for a structured layout (bench/bench_content.py). All chunks are
submitted at once, so the micro-batcher runs them as one batch, and the partial summaries are
merged by the same model until one remains. Decisions and open questions are quoted from the
messages (`nlp.content.points`). The model writes English; the result is translated into the
asker's language.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence

from bot.errors import InvalidInputError
from nlp.content.points import extract_points
from nlp.content.types import ChatModel, Summary, ThreadMessage
from nlp.prompts import LANGUAGE_NAMES

log = logging.getLogger(__name__)

PROMPT = "Summarize this conversation:\n"
MERGE = "These are summaries of consecutive parts of one conversation. Merge them into one summary."

Translate = Callable[[list[str], str], list[str]]
_LABEL = re.compile(r"^\s*\**summary\**\s*:\s*", re.I)


def _lines(messages: Sequence[ThreadMessage]) -> list[str]:
    lines = []
    for m in messages:
        text = " ".join(m.text.split())
        if m.is_bot or not text:
            continue
        lines.append(f"{m.author}: {text}")
    return lines


def _body(output: str) -> str:
    """The model's prose without a leading "Summary:" label."""
    return _LABEL.sub("", output.strip(), count=1).strip()


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

    def _summarise(self, prompts: list[str], max_new_tokens: int) -> list[str]:
        """One completion per prompt, all submitted together so they run as one batch."""
        chats = [[{"role": "user", "content": p}] for p in prompts]
        return [_body(out) for out in self._model.complete(chats, max_new_tokens=max_new_tokens)]

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
        # A partial summary only feeds the merge: half the tokens keep the merge prompt short.
        first = self._max_new if len(chunks) == 1 else max(64, self._max_new // 2)
        partial = self._summarise([PROMPT + c for c in chunks], first)
        while len(partial) > 1:  # merge in groups that fit the budget
            groups = self.chunk(partial)
            if len(groups) >= len(partial):  # summaries too long to pair up: merge two at a time
                groups = ["\n\n".join(partial[i : i + 2]) for i in range(0, len(partial), 2)]
            partial = self._summarise([f"{MERGE}\n\n{g}" for g in groups], self._max_new)
        points = extract_points(messages)
        text, decisions, questions = partial[0], list(points.decisions), list(points.open_questions)
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
