"""The generation interface every inference backend implements, and the options that pick one.

A backend takes already templated, tokenized chat prompts and decodes them greedily, a batch at
a time, stopping at the end-of-turn tokens. It returns the generated token ids (stop token
excluded), their decoded text, and the log-probability of each chosen token (the drafter's
confidence needs it). Backends are not thread-safe: one `MicroBatcher` thread drives each.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from bot.errors import ModelUnavailableError

# Called with the decoded text generated so far (from the batcher's thread; keep it quick).
PartialText = Callable[[str], None]
# Called with a request's output once it is done, while its batch may still run.
Finished = Callable[["GenerationOutput"], None]

BackendName = Literal["auto", "transformers", "int8", "ctranslate2"]
COMPUTE_TYPES = (
    "auto",
    "float32",
    "float16",
    "bfloat16",
    "int8",
    "int8_float32",
    "int8_float16",
    "int8_bfloat16",
)


class BackendUnavailableError(ModelUnavailableError):
    """A backend cannot run this model here (not installed, unsupported family or device)."""


@dataclass(frozen=True, slots=True)
class GenerationRequest:
    """One prompt (token ids, chat template applied) and how many tokens it may add.

    `on_text`, when set, receives the decoded text so far as tokens are generated (streaming);
    a failing callback is logged and dropped, never failing the generation.
    `on_done`, when set, may be called with the request's output as soon as it is finished,
    before the rest of its batch (backends that drop finished rows do; the batcher resolves
    the caller's future with it).
    `prefix_len` says that the first tokens of the prompt are a fixed prefix many requests
    share (the system prompt and the worked example): backends that can keep the model state
    after it compute it once and reuse it (0: no shared prefix).
    """

    prompt_ids: tuple[int, ...]
    max_new_tokens: int
    min_new_tokens: int = 0
    on_text: PartialText | None = field(default=None, compare=False, repr=False)
    prefix_len: int = 0
    on_done: Finished | None = field(default=None, compare=False, repr=False)

    @property
    def prefix(self) -> tuple[int, ...]:
        """The shared prefix, when it leaves at least one prompt token after it (else empty)."""
        if 0 < self.prefix_len < len(self.prompt_ids):
            return self.prompt_ids[: self.prefix_len]
        return ()

    @property
    def group(self) -> int:
        """Requests only share a batch with others of the same group (min length forces it)."""
        return self.min_new_tokens


@dataclass(frozen=True, slots=True)
class GenerationOutput:
    """What one greedy generation produced."""

    text: str
    token_ids: tuple[int, ...]  # without the stop token
    logprobs: tuple[float, ...]  # one per token in token_ids
    prompt_tokens: int
    new_tokens: int  # generated steps, the stop token included
    seconds: float  # wall time of the batch it ran in


class GenerationBackend(Protocol):
    """Greedy batch generation over one model."""

    @property
    def name(self) -> str:
        """What runs it, e.g. "ctranslate2 int8_float32 (cpu)"."""

    @property
    def tokenizer(self) -> Any: ...

    @property
    def device(self) -> str: ...

    @property
    def max_context(self) -> int:
        """Prompt plus new tokens the model can attend to."""

    def generate(self, requests: Sequence[GenerationRequest]) -> list[GenerationOutput]: ...


@dataclass(frozen=True, slots=True)
class InferenceOptions:
    """Which backend runs generation, with what numbers, and how requests are batched."""

    backend: BackendName = "auto"
    compute_type: str = "auto"
    threads: int = 0  # 0: all cores
    max_batch: int = 16
    batch_wait_ms: float = 30.0
    static_cache: bool = False  # CUDA, transformers: fixed-shape KV cache, compiled decode step
    prompt_lookup: int = 16  # transformers: proposed tokens per request and pass (0: off)

    @classmethod
    def from_settings(cls, settings: Any) -> InferenceOptions:
        return cls(
            backend=settings.inference_backend,
            compute_type=settings.inference_compute_type,
            threads=settings.inference_threads,
            max_batch=settings.inference_max_batch,
            batch_wait_ms=settings.inference_batch_wait_ms,
            static_cache=settings.inference_static_cache,
            prompt_lookup=settings.inference_prompt_lookup,
        )


def prefix_groups(requests: Sequence[GenerationRequest]) -> dict[tuple[int, ...], list[int]]:
    """Indices of `requests` by shared prefix (an empty tuple: no prefix), in first-seen order."""
    groups: dict[tuple[int, ...], list[int]] = {}
    for i, request in enumerate(requests):
        groups.setdefault(request.prefix, []).append(i)
    return groups


def first_stop(token_ids: Sequence[int], stop_ids: Sequence[int]) -> int:
    """Index of the first stop token in `token_ids` (its length when there is none)."""
    stops = set(stop_ids)
    for i, token in enumerate(token_ids):
        if token in stops:
            return i
    return len(token_ids)
