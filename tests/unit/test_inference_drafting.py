"""The drafter on a backend: prompts budgeted in tokens to the model's context, probabilities."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import pytest

from bot.errors import InvalidInputError
from nlp.drafting import LLMDrafter
from nlp.inference import GenerationOutput, GenerationRequest
from retrieval.types import Hit


class WordTokenizer:
    """One token per whitespace-separated word; the chat template joins the contents."""

    def apply_chat_template(self, messages: list[dict[str, str]], **_: Any) -> str:
        return "\n".join(m["content"] for m in messages)

    def __call__(self, text: str, add_special_tokens: bool = False) -> dict[str, list[int]]:
        return {"input_ids": [len(w) for w in text.split()]}


class RecordingBackend:
    name = "recording"
    device = "cpu"

    def __init__(self, max_context: int) -> None:
        self.max_context = max_context
        self.tokenizer = WordTokenizer()
        self.requests: list[GenerationRequest] = []

    def generate(self, requests: Sequence[GenerationRequest]) -> list[GenerationOutput]:
        self.requests.extend(requests)
        return [
            GenerationOutput("It costs 49 euros [1].", (1, 2), (-0.1, -0.3), len(r.prompt_ids),
                             3, 0.01)
            for r in requests
        ]  # fmt: skip


def hits(words: int) -> list[Hit]:
    text = " ".join(["word"] * words)
    return [Hit(f"d{i}", f"d{i}#0", "kb.md", f"Doc {i}", 0.9, text) for i in range(3)]


def test_prompts_fit_the_context_with_room_for_the_answer() -> None:
    backend = RecordingBackend(max_context=600)
    drafter = LLMDrafter(backend, max_new_tokens=100, max_context_chars=20000)
    result = drafter.draft("How much is it?", hits(400), language="en")
    prompt = len(backend.requests[0].prompt_ids)
    assert prompt + 100 <= 600
    assert backend.requests[0].max_new_tokens == 100
    assert result.token_probability == pytest.approx(math.exp(-0.2))
    assert result.cited == (1,)


def test_short_prompts_are_left_alone() -> None:
    backend = RecordingBackend(max_context=32768)
    drafter = LLMDrafter(backend, max_new_tokens=100, max_context_chars=20000)
    drafter.draft("How much is it?", hits(50), language="en")
    assert len(backend.requests[0].prompt_ids) > 150  # all three passages are there


def test_a_prompt_that_cannot_fit_is_refused_not_truncated() -> None:
    backend = RecordingBackend(max_context=40)
    drafter = LLMDrafter(backend, max_new_tokens=10)
    with pytest.raises(InvalidInputError, match="model reads at most 40"):
        drafter.draft("How much is it?", hits(400), language="en")
    assert backend.requests == []


def test_drafts_mark_their_languages_fixed_prefix_for_reuse() -> None:
    """Each draft carries the length of the rules + worked example of its reply language; a
    template that does not reproduce that prefix (and the benchmarks' baseline) gets none."""
    from nlp.drafting import fixed_prefix

    backend = RecordingBackend(max_context=4000)
    drafter = LLMDrafter(backend, max_new_tokens=50)
    drafter.draft("How much is it?", hits(5), language="en")
    drafter.draft("Was kostet das?", hits(5), language="de")
    en, de = backend.requests
    assert en.prefix_len == len(fixed_prefix(backend.tokenizer, "en")) > 0
    assert de.prefix == de.prompt_ids[: len(fixed_prefix(backend.tokenizer, "de"))]
    assert en.prefix != de.prefix  # "English" and "German" differ in length here
    plain = LLMDrafter(backend, max_new_tokens=50, reuse_prefix=False)
    plain.draft("How much is it?", hits(5), language="en")
    assert backend.requests[-1].prefix_len == 0
