"""The drafter: one retrieval-augmented generation with the dialogue model.

`LLMDrafter` turns (question, passages, recent turns, language) into a `DraftResult`: the cleaned
answer, the passages it cites, whether it declined, and the geometric-mean probability the model
gave its own answer tokens (the model's share of the confidence, see `nlp.confidence`).
"""

from __future__ import annotations

import logging
import math
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from bot.types import Turn
from nlp.loading import LoadedModel
from nlp.prompts import (
    attribute_citations,
    build_messages,
    clean_answer,
    is_refusal,
    parse_citations,
    passage_text,
)
from retrieval.types import Hit

logger = logging.getLogger(__name__)

_CITATION_MARK = re.compile(r"\s*\[\d{1,2}(?:\s*,\s*\d{1,2})*\]")

# End-of-turn tokens of common chat templates; generation stops at any that the vocabulary has.
_END_OF_TURN = ("<|im_end|>", "<|endoftext|>", "<|eot_id|>", "<end_of_turn>", "</s>")


@dataclass(frozen=True, slots=True)
class Generation:
    """Raw output of one greedy generation."""

    text: str
    token_probability: float
    new_tokens: int
    prompt_tokens: int
    seconds: float


@dataclass(frozen=True, slots=True)
class DraftResult:
    """A drafted answer before the escalation decision."""

    text: str
    cited: tuple[int, ...]
    refused: bool
    token_probability: float
    new_tokens: int
    seconds: float


class Drafter(Protocol):
    """Drafts an answer from passages; counts tokens the way its model does."""

    def draft(
        self,
        question: str,
        hits: Sequence[Hit],
        *,
        history: Sequence[Turn] = (),
        language: str | None = None,
    ) -> DraftResult: ...

    def count_tokens(self, text: str) -> int: ...


def stop_token_ids(tokenizer: Any) -> list[int]:
    """The eos id plus every end-of-turn token the tokenizer knows."""
    ids = {tokenizer.eos_token_id} if tokenizer.eos_token_id is not None else set()
    vocab = tokenizer.get_vocab()
    ids.update(vocab[token] for token in _END_OF_TURN if token in vocab)
    return sorted(ids)


class ChosenTokenLogProbs:
    """A logits processor that records the log-probability of the greedy choice at each step.

    Cheaper than `output_scores=True` (which keeps a vocabulary-sized copy per step); it must run
    last so it sees the scores greedy decoding picks from.
    """

    def __init__(self) -> None:
        self.values: list[float] = []

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        import torch

        self.values.append(float(torch.log_softmax(scores[0].float(), dim=-1).max()))
        return scores


def mean_token_probability(logprobs: Sequence[float]) -> float:
    """Geometric mean of the chosen tokens' probabilities (1.0 for an empty answer)."""
    if not logprobs:
        return 1.0
    return math.exp(sum(logprobs) / len(logprobs))


class LLMDrafter:
    """`Drafter` backed by a causal chat LM (greedy decoding, deterministic)."""

    def __init__(
        self,
        loaded: LoadedModel,
        *,
        max_new_tokens: int = 200,
        max_context_chars: int = 2400,
        min_new_tokens: int = 0,
    ) -> None:
        self.loaded = loaded
        self.max_new_tokens = max_new_tokens
        self.min_new_tokens = min_new_tokens  # benchmarks only: fixes the answer length
        self.max_context_chars = max_context_chars
        self._stop_ids = stop_token_ids(loaded.tokenizer)

    def count_tokens(self, text: str) -> int:
        """Number of tokens `text` takes in this model's tokenizer."""
        return len(self.loaded.tokenizer(text, add_special_tokens=False)["input_ids"])

    def generate(self, messages: list[dict[str, str]], *, max_new_tokens: int) -> Generation:
        """Greedy generation for one chat, with the mean probability of the generated tokens."""
        import torch
        from transformers import LogitsProcessorList

        tokenizer, model = self.loaded.tokenizer, self.loaded.model
        inputs = tokenizer.apply_chat_template(
            messages, add_generation_prompt=True, return_tensors="pt", return_dict=True
        ).to(self.loaded.device)
        prompt_tokens = int(inputs["input_ids"].shape[1])
        recorder = ChosenTokenLogProbs()
        started = time.monotonic()
        with torch.inference_mode():
            out = model.generate(
                **inputs,
                max_new_tokens=max_new_tokens,
                min_new_tokens=min(self.min_new_tokens, max_new_tokens),
                do_sample=False,
                temperature=None,
                top_p=None,
                top_k=None,
                eos_token_id=self._stop_ids,
                pad_token_id=tokenizer.pad_token_id,
                logits_processor=LogitsProcessorList([recorder]),
            )
        seconds = time.monotonic() - started
        tokens = out[0, prompt_tokens:]
        ends = [i for i, t in enumerate(tokens.tolist()) if t in self._stop_ids]
        answer_len = ends[0] if ends else len(tokens)
        probability = mean_token_probability(recorder.values[:answer_len])
        text = tokenizer.decode(tokens[:answer_len], skip_special_tokens=True)
        return Generation(text, probability, len(tokens), prompt_tokens, seconds)

    def draft(
        self,
        question: str,
        hits: Sequence[Hit],
        *,
        history: Sequence[Turn] = (),
        language: str | None = None,
    ) -> DraftResult:
        """Draft an answer to `question` from the numbered `hits`, in `language`."""
        messages = build_messages(
            question,
            hits,
            history=history,
            language=language,
            max_context_chars=self.max_context_chars,
        )
        gen = self.generate(messages, max_new_tokens=self.max_new_tokens)
        logger.info(
            "Drafted %d tokens in %.1f s (%d prompt tokens, p=%.2f)",
            gen.new_tokens,
            gen.seconds,
            gen.prompt_tokens,
            gen.token_probability,
        )
        text = clean_answer(gen.text, [hit.title for hit in hits])
        cited = parse_citations(text, len(hits))
        sources = [f"{hit.title}\n{passage_text(hit)}" for hit in hits]
        attributed = attribute_citations(text, sources, cited)
        if attributed != cited:
            # The markers must name the passage the facts came from, like the citation list.
            text = _CITATION_MARK.sub("", text).rstrip()
            marks = "".join(f"[{n}]" for n in attributed)
            text = f"{text[:-1]} {marks}." if text.endswith(".") else f"{text} {marks}"
        return DraftResult(
            text=text,
            cited=attributed,
            refused=is_refusal(text),
            token_probability=gen.token_probability,
            new_tokens=gen.new_tokens,
            seconds=gen.seconds,
        )
