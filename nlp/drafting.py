"""The drafter: one retrieval-augmented generation with the dialogue model.

`LLMDrafter` turns (question, passages, recent turns, language) into a `DraftResult`: the cleaned
answer, the passages it cites, whether it declined, and the geometric-mean probability the model
gave its own answer tokens (the model's share of the confidence, see `nlp.confidence`).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from bot.errors import InvalidInputError
from bot.types import Turn
from nlp.answer_text import shown_answer
from nlp.inference import GenerationBackend, GenerationRequest, backend_for
from nlp.inference.hf import stop_token_ids as stop_token_ids  # re-exported
from nlp.inference.streaming import notify
from nlp.inference.types import PartialText
from nlp.loading import LoadedModel
from nlp.partial_drafts import CITATION_MARK, partial_answers
from nlp.partial_drafts import visible_partial as visible_partial  # re-exported
from nlp.prompts import (
    MIN_PASSAGE_CHARS,
    attribute_citations,
    build_messages,
    clean_answer,
    fixed_messages,
    is_refusal,
    parse_citations,
    passage_text,
)
from retrieval.types import Hit

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Generation:
    """Raw output of one greedy generation."""

    text: str
    token_probability: float
    new_tokens: int
    prompt_tokens: int
    seconds: float
    cut: bool = False  # the token budget ended it, not the model


@dataclass(frozen=True, slots=True)
class DraftResult:
    """A drafted answer before the escalation decision.

    `text` is what the customer is shown (`nlp.answer_text.shown_answer`); `whole` is everything
    the model wrote, cleaned, when that is more (the confidence reads it; "" when the same).
    """

    text: str
    cited: tuple[int, ...]
    refused: bool
    token_probability: float
    new_tokens: int
    seconds: float
    whole: str = ""


class Drafter(Protocol):
    """Drafts an answer from passages; counts tokens the way its model does.

    `on_text`, when given, is called with "" when generation starts and then with the
    customer-visible answer so far (`visible_partial`) as it grows.
    """

    def draft(
        self,
        question: str,
        hits: Sequence[Hit],
        *,
        history: Sequence[Turn] = (),
        language: str | None = None,
        on_text: PartialText | None = None,
    ) -> DraftResult: ...

    def count_tokens(self, text: str) -> int: ...


def mean_token_probability(logprobs: Sequence[float]) -> float:
    """Geometric mean of the chosen tokens' probabilities (1.0 for an empty answer)."""
    if not logprobs:
        return 1.0
    return math.exp(sum(logprobs) / len(logprobs))


def encode_chat(tokenizer: Any, messages: list[dict[str, str]]) -> tuple[int, ...]:
    """Token ids of a chat with the generation prompt appended (the model's chat template)."""
    text = tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
    return tuple(int(i) for i in tokenizer(str(text), add_special_tokens=False)["input_ids"])


def fixed_prefix(tokenizer: Any, language: str | None = "en") -> tuple[int, ...]:
    """Token ids every draft prompt in `language` starts with: the rules and the worked example."""
    text = tokenizer.apply_chat_template(fixed_messages(language), tokenize=False)
    return tuple(int(i) for i in tokenizer(str(text), add_special_tokens=False)["input_ids"])


def shared_prefix_len(ids: Sequence[int], prefix: Sequence[int]) -> int:
    """len(prefix) when `ids` starts with it (chat templates that rewrite earlier turns do not)."""
    return len(prefix) if tuple(ids[: len(prefix)]) == tuple(prefix) else 0


def as_backend(model: LoadedModel | GenerationBackend) -> GenerationBackend:
    """A loaded model's shared batched backend (the process's configured one); backends as is."""
    if isinstance(model, LoadedModel):
        return backend_for(model)
    return model


class LLMDrafter:
    """`Drafter` backed by a causal chat LM (greedy decoding, deterministic).

    Generation goes through an inference backend (`nlp.inference`): pass a `LoadedModel` to use
    the process's configured backend and batcher, or a backend directly.
    """

    def __init__(
        self,
        model: LoadedModel | GenerationBackend,
        *,
        max_new_tokens: int = 200,
        max_context_chars: int = 2400,
        min_new_tokens: int = 0,
        reuse_prefix: bool = True,
    ) -> None:
        self.backend = as_backend(model)
        self.reuse_prefix = reuse_prefix  # benchmarks turn it off for their baseline
        self.tokenizer = self.backend.tokenizer
        self.max_new_tokens = max_new_tokens
        self.min_new_tokens = min_new_tokens  # benchmarks only: fixes the answer length
        self.max_context_chars = max_context_chars
        self._prefixes: dict[str | None, tuple[int, ...]] = {}  # per reply language

    def count_tokens(self, text: str) -> int:
        """Number of tokens `text` takes in this model's tokenizer."""
        return len(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    def generate(self, messages: list[dict[str, str]], *, max_new_tokens: int) -> Generation:
        """Greedy generation for one chat, with the mean probability of the generated tokens."""
        ids = encode_chat(self.tokenizer, messages)
        return self.generate_ids(ids, max_new_tokens=max_new_tokens)

    def generate_ids(
        self,
        ids: tuple[int, ...],
        *,
        max_new_tokens: int,
        on_text: PartialText | None = None,
        prefix_len: int = 0,
    ) -> Generation:
        """Greedy generation from prompt token ids (batched with concurrent requests);
        `on_text` receives the raw text so far as it is generated; the first `prefix_len`
        tokens are the fixed prefix the backend may reuse."""
        budget = min(max_new_tokens, self.backend.max_context - len(ids))
        if budget < 1:
            raise InvalidInputError(
                f"The prompt takes {len(ids)} tokens; the model reads at most "
                f"{self.backend.max_context}"
            )
        min_new = min(self.min_new_tokens, budget)
        request = GenerationRequest(ids, budget, min_new, on_text, prefix_len=prefix_len)
        out = self.backend.generate([request])[0]
        probability = mean_token_probability(out.logprobs)
        cut = len(out.token_ids) >= budget
        return Generation(
            out.text, probability, out.new_tokens, out.prompt_tokens, out.seconds, cut
        )

    def prompt_ids(
        self, question: str, hits: Sequence[Hit], history: Sequence[Turn], language: str | None
    ) -> tuple[int, ...]:
        """The draft prompt, its passages cut until prompt + answer fit the model's context."""
        chars = self.max_context_chars
        limit = self.backend.max_context - self.max_new_tokens
        while True:
            messages = build_messages(
                question, hits, history=history, language=language, max_context_chars=chars
            )
            ids = encode_chat(self.tokenizer, messages)
            if len(ids) <= limit or chars <= MIN_PASSAGE_CHARS:
                return ids
            # about 4 characters a token; cut the overflow and a little more
            chars = max(MIN_PASSAGE_CHARS, chars - 4 * (len(ids) - limit) - 100)
            logger.info("Draft prompt over the context (%d tokens): passages cut", len(ids))

    def prefix_len(self, ids: Sequence[int], language: str | None) -> int:
        """How many of `ids` are the fixed prefix of drafts in `language` (0: none)."""
        if language not in self._prefixes:
            self._prefixes[language] = fixed_prefix(self.tokenizer, language)
        return shared_prefix_len(ids, self._prefixes[language])

    def draft(
        self,
        question: str,
        hits: Sequence[Hit],
        *,
        history: Sequence[Turn] = (),
        language: str | None = None,
        on_text: PartialText | None = None,
    ) -> DraftResult:
        """Draft an answer to `question` from the numbered `hits`, in `language`; `on_text`
        gets "" at the start, then the visible answer so far (see `Drafter`)."""
        ids = self.prompt_ids(question, hits, history, language)
        partial = None
        if on_text is not None:
            notify(on_text, "")
            partial = partial_answers(on_text, [hit.title for hit in hits])
        gen = self.generate_ids(
            ids,
            max_new_tokens=self.max_new_tokens,
            on_text=partial,
            prefix_len=self.prefix_len(ids, language) if self.reuse_prefix else 0,
        )
        logger.info(
            "Drafted %d tokens in %.1f s (%d prompt tokens, p=%.2f, %s)",
            gen.new_tokens,
            gen.seconds,
            gen.prompt_tokens,
            gen.token_probability,
            self.backend.name,
        )
        whole = clean_answer(gen.text, [hit.title for hit in hits])
        text = shown = shown_answer(whole, cut=gen.cut)
        cited = parse_citations(text, len(hits))
        sources = [f"{hit.title}\n{passage_text(hit)}" for hit in hits]
        attributed = attribute_citations(text, sources, cited)
        if attributed != cited:
            # The markers must name the passage the facts came from, like the citation list.
            text = CITATION_MARK.sub("", text).rstrip()
            marks = "".join(f"[{n}]" for n in attributed)
            text = f"{text[:-1]} {marks}." if text.endswith(".") else f"{text} {marks}"
        return DraftResult(
            text=text,
            cited=attributed,
            refused=is_refusal(text),
            token_probability=gen.token_probability,
            new_tokens=gen.new_tokens,
            seconds=gen.seconds,
            whole=whole if whole != shown else "",
        )
