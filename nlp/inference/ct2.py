"""CTranslate2 backend: the model folder converted once into a cached CT2 model, then greedy
batched generation with float32 or int8 (CPU) or float16/bfloat16 (CUDA) weights.

Conversion (once, atomic, cached) is in `nlp.inference.ct2_convert`.

Prompt reuse: requests that carry a shared prefix (`GenerationRequest.prefix_len`: the system
prompt and worked example) run with CT2's `static_prompt` and `cache_static_prompt`, so the
model state after the prefix is computed once per generator and copied into every batch; only
the rest of each prompt is processed. CT2 caches one state per distinct prefix, unbounded:
prefixes must be fixed texts, never per-request ones.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from nlp.inference.ct2_convert import MARKER as MARKER  # re-exported
from nlp.inference.ct2_convert import cache_path as cache_path
from nlp.inference.ct2_convert import convert_once as convert_once
from nlp.inference.hf import model_context, stop_token_ids
from nlp.inference.streaming import text_streams
from nlp.inference.types import (
    BackendUnavailableError,
    GenerationOutput,
    GenerationRequest,
    first_stop,
    prefix_groups,
)

logger = logging.getLogger(__name__)

# Weight types stored on disk per compute type (CT2 converts the rest at load time).
_STORED = {"int8_float32": "int8", "int8_float16": "int8", "int8_bfloat16": "int8"}


def ctranslate2_module() -> Any:
    """The ctranslate2 package, or BackendUnavailableError saying how to install it."""
    try:
        import ctranslate2
    except ImportError as exc:
        raise BackendUnavailableError(
            "the ctranslate2 backend needs the 'ctranslate2' package (pip install ctranslate2)"
        ) from exc
    return ctranslate2


def supports(config_class: str) -> bool:
    """Whether ctranslate2's converter knows this transformers config class (True if unsure)."""
    try:
        from ctranslate2.converters.transformers import _MODEL_LOADERS
    except ImportError:
        return True  # let the conversion say
    return config_class in _MODEL_LOADERS


def length_groups(requests: Sequence[GenerationRequest]) -> list[list[int]]:
    """Indices of `requests` split into groups whose prompt lengths differ by at most half the
    new-token budget.

    CT2 forwards a batch's prompts at once only up to the shortest one; the rest of each longer
    prompt goes through the decoding loop one token per step, like generated tokens. A group
    spanning more prompt tokens than it generates costs more than running it in two batches.
    """
    order = sorted(range(len(requests)), key=lambda i: len(requests[i].prompt_ids))
    groups: list[list[int]] = []
    for i in order:
        length = len(requests[i].prompt_ids)
        if groups:
            group = groups[-1]
            shortest = len(requests[group[0]].prompt_ids)
            budget = max(requests[j].max_new_tokens for j in [*group, i])
            if length - shortest <= max(8, budget // 2):
                group.append(i)
                continue
        groups.append([i])
    return groups


def _after(request: GenerationRequest, prefix_len: int) -> GenerationRequest:
    """`request` with its prompt after the prefix (for grouping by the length still to read)."""
    return GenerationRequest(request.prompt_ids[prefix_len:], request.max_new_tokens)


class CTranslate2Backend:
    """Greedy batched generation with a `ctranslate2.Generator`."""

    def __init__(
        self,
        source: Path,
        tokenizer: Any,
        config: Any,
        *,
        device: str,
        compute_type: str,
        cache_dir: Path,
        threads: int = 0,
    ) -> None:
        ct2 = ctranslate2_module()
        if device == "cuda" and ct2.get_cuda_device_count() == 0:
            raise BackendUnavailableError("ctranslate2 sees no CUDA device")
        supported = ct2.get_supported_compute_types(device)
        if compute_type not in supported:
            raise BackendUnavailableError(
                f"ctranslate2 on {device} supports {sorted(supported)}, not {compute_type}"
            )
        family = type(config).__name__
        if not supports(family):
            raise BackendUnavailableError(f"ctranslate2 cannot convert {family} models")
        quantization = _STORED.get(compute_type, compute_type)
        try:
            folder = convert_once(Path(source), quantization, cache_dir, version=ct2.__version__)
        except (ValueError, NotImplementedError, KeyError) as exc:  # unsupported architecture
            raise BackendUnavailableError(f"ctranslate2 cannot convert {source}: {exc}") from exc
        intra = threads or len(os.sched_getaffinity(0))
        self.generator = ct2.Generator(
            str(folder), device=device, compute_type=compute_type,
            inter_threads=1, intra_threads=intra if device == "cpu" else 0,
        )  # fmt: skip
        self.tokenizer = tokenizer
        self.device = device
        self.name = f"ctranslate2 {compute_type} ({device})"
        self.max_context = model_context(config, tokenizer)
        self._stop_ids = stop_token_ids(tokenizer)

    def generate(self, requests: Sequence[GenerationRequest]) -> list[GenerationOutput]:
        """Generate for `requests` in sub-batches sharing a prefix (`prefix_groups`) and of
        similar length after it (`length_groups`)."""
        outputs: dict[int, GenerationOutput] = {}
        for prefix, members in prefix_groups(requests).items():
            suffixes = [_after(requests[i], len(prefix)) for i in members]
            for group in length_groups(suffixes):
                batch = [requests[members[j]] for j in group]
                for j, out in zip(group, self._generate(batch, prefix), strict=True):
                    outputs[members[j]] = out
        return [outputs[i] for i in range(len(requests))]

    def _generate(
        self, requests: Sequence[GenerationRequest], prefix: tuple[int, ...] = ()
    ) -> list[GenerationOutput]:
        if not requests:
            return []
        convert = self.tokenizer.convert_ids_to_tokens
        tokens = [convert(list(r.prompt_ids[len(prefix) :])) for r in requests]
        static = {"static_prompt": convert(list(prefix)), "cache_static_prompt": True}
        logprobs: list[list[float]] = [[] for _ in requests]
        streams = text_streams(requests, self.tokenizer, self._stop_ids)

        def record(step: Any) -> bool:
            logprobs[step.batch_id].append(float(step.log_prob))
            stream = streams[step.batch_id]
            if stream is not None:
                stream.add(int(step.token_id))
            return False

        started = time.monotonic()
        results = self.generator.generate_batch(
            tokens,
            max_length=max(r.max_new_tokens for r in requests),  # new tokens only, see below
            min_length=max(r.min_new_tokens for r in requests),
            include_prompt_in_result=False,
            end_token=self._stop_ids,
            return_end_token=True,
            sampling_topk=1,
            beam_size=1,
            return_scores=True,  # per-step log_prob in the callback
            callback=record,
            **(static if prefix else {}),
        )
        seconds = time.monotonic() - started
        outputs = []
        for request, result, chosen in zip(requests, results, logprobs, strict=True):
            ids = [int(t) for t in result.sequences_ids[0]][: request.max_new_tokens]
            end = first_stop(ids, self._stop_ids)
            answer = tuple(ids[:end])
            text = str(self.tokenizer.decode(list(answer), skip_special_tokens=True))
            outputs.append(
                GenerationOutput(
                    text, answer, tuple(chosen[: len(answer)]), len(request.prompt_ids),
                    min(end + 1, len(ids)), seconds,
                )
            )  # fmt: skip
        return outputs
