"""The drafting setup before bench/bench_answers.py existed: its `current` variant.

The old prompt (rules + all five passages with their raw text), the old drafter and the old
confidence formula, kept here so the benchmark compares before and after in one run.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import nlp.answering
from bot.types import Turn
from nlp.drafting import DraftResult, LLMDrafter
from nlp.prompts import (
    clean_answer,
    is_refusal,
    language_name,
    parse_citations,
    ungrounded_numbers,
)
from retrieval.types import Hit

LEGACY_SYSTEM = """You are Parley, a customer support assistant.
Rules:
- Answer only from the numbered passages the user gives you. Never use other knowledge.
- Cite the passages you used by number in square brackets, like [1] or [2].
- Answer in {language}.
- If the passages do not contain the answer, reply only with: NO_ANSWER
- Be brief: at most three sentences."""


def legacy_messages(question: str, hits: Sequence[Hit], language: str | None) -> Any:
    """The prompt before this benchmark: rules, all passages with their raw text, question."""
    blocks, remaining = [], 2400
    for n, hit in enumerate(hits, start=1):
        if remaining < 200 and blocks:
            break
        text = hit.text.strip()
        if len(text) > remaining:
            text = text[:remaining].rsplit(" ", 1)[0] + " ..."
        remaining -= len(text)
        blocks.append(f"[{n}] {hit.title}\n{text}")
    passages = "\n\n".join(blocks)
    return [
        {"role": "system", "content": LEGACY_SYSTEM.format(language=language_name(language))},
        {"role": "user", "content": f"Passages:\n{passages}\n\nQuestion: {question}"},
    ]


class LegacyDrafter(LLMDrafter):
    """The drafter with the old prompt (history is not used by this eval)."""

    def draft(
        self,
        question: str,
        hits: Sequence[Hit],
        *,
        history: Sequence[Turn] = (),
        language: str | None = None,
    ) -> DraftResult:
        gen = self.generate(legacy_messages(question, hits, language), max_new_tokens=200)
        text = clean_answer(gen.text, [h.title for h in hits])
        return DraftResult(
            text, parse_citations(text, len(hits)), is_refusal(text), gen.token_probability,
            gen.new_tokens, gen.seconds,
        )  # fmt: skip


def legacy_confidence(result: DraftResult, passages: Sequence[str]) -> tuple[float, str]:
    """The old formula: p_model x 0.8 without a citation x 0.5 with an unfound number."""
    if result.refused:
        return 0.0, "refused"
    c = result.token_probability * (1.0 if result.cited else 0.8)
    return c * (0.5 if ungrounded_numbers(result.text, passages) else 1.0), ""


@contextmanager
def legacy_scoring() -> Iterator[None]:
    """Swap the old confidence formula into the answerer for the `current` variant."""
    saved = nlp.answering.draft_confidence
    nlp.answering.draft_confidence = legacy_confidence
    try:
        yield
    finally:
        nlp.answering.draft_confidence = saved
