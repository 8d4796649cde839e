"""transformers backends: the loaded model as is (fp32 on CPU, bf16/fp16 on CUDA), or with its
Linear layers quantized to int8 by `torch.ao.quantization.quantize_dynamic` (CPU only).

Prefix reuse: when every request of a batch has the same non-empty `GenerationRequest.prefix`,
the model state after it comes from a `PrefixCache` (computed once, batch of one) and `generate`
computes only the rest. Shorter prompts are then padded between the prefix and the suffix
(ids: prefix, pads, suffix; mask: 1s, 0s, 1s): `generate` derives positions from the mask's
cumulative sum, so each suffix continues right after the prefix, and it feeds the model only the
ids after the cached ones. Without a shared prefix, prompts are left-padded as before.
"""

from __future__ import annotations

import copy
import logging
import time
from collections.abc import Sequence
from typing import Any

from nlp.inference.lookup import empty_cache, lookup_generate, lookup_supported
from nlp.inference.prefix_cache import PrefixCache
from nlp.inference.streaming import TextStream, text_streams
from nlp.inference.types import (
    BackendUnavailableError,
    GenerationOutput,
    GenerationRequest,
    first_stop,
    prefix_groups,
)

logger = logging.getLogger(__name__)

_END_OF_TURN = ("<|im_end|>", "<|endoftext|>", "<|eot_id|>", "<end_of_turn>", "</s>")


def stop_token_ids(tokenizer: Any) -> list[int]:
    """The eos id plus every end-of-turn token the tokenizer knows."""
    ids = {tokenizer.eos_token_id} if tokenizer.eos_token_id is not None else set()
    vocab = tokenizer.get_vocab()
    ids.update(vocab[token] for token in _END_OF_TURN if token in vocab)
    return sorted(ids)


def model_context(config: Any, tokenizer: Any) -> int:
    """Tokens the model attends to: its position embeddings (tokenizers often say 1e30)."""
    for name in ("max_position_embeddings", "n_positions", "seq_length"):
        value = getattr(config, name, None)
        if isinstance(value, int) and value > 0:
            return value
    limit = getattr(tokenizer, "model_max_length", 0)
    return int(limit) if isinstance(limit, int) and 0 < limit < 1_000_000 else 2048


class ChosenTokenLogProbs:
    """A logits processor recording, per row, the log-probability of the greedy choice.

    Cheaper than `output_scores=True` (a vocabulary-sized copy per step); it must run last so
    it sees the scores greedy decoding picks from.
    """

    def __init__(self) -> None:
        self.values: list[list[float]] = []  # [step][row]

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        import torch

        best = torch.log_softmax(scores.float(), dim=-1).max(dim=-1).values
        self.values.append([float(v) for v in best.tolist()])
        return scores


class RowStreamer:
    """A transformers streamer for a whole batch: each row's new token to that row's stream.

    `generate` first puts the prompt ids (2-D), then the batch's chosen tokens (1-D) per step.
    """

    def __init__(self, streams: list[TextStream | None]) -> None:
        self.streams = streams
        self._prompt_seen = False

    def put(self, value: Any) -> None:
        if not self._prompt_seen:
            self._prompt_seen = True
            return
        for row, token in enumerate(value.reshape(-1).tolist()):
            stream = self.streams[row] if row < len(self.streams) else None
            if stream is not None:
                stream.add(int(token))

    def end(self) -> None:
        pass


def padded(
    requests: Sequence[GenerationRequest], pad: int, cut: int
) -> tuple[list[list[int]], list[list[int]]]:
    """Prompt ids and attention masks of one width: the pads (masked) go after each prompt's
    first `cut` tokens (the cached prefix), so with `cut` 0 it is plain left padding."""
    width = max(len(r.prompt_ids) for r in requests)
    ids, mask = [], []
    for request in requests:
        head, tail = list(request.prompt_ids[:cut]), list(request.prompt_ids[cut:])
        gap = width - len(request.prompt_ids)
        ids.append(head + [pad] * gap + tail)
        mask.append([1] * len(head) + [0] * gap + [1] * len(tail))
    return ids, mask


class TransformersBackend:
    """Greedy batched `generate` on a transformers causal LM (left padding; a shared prompt
    prefix's model state computed once, see the module docstring)."""

    def __init__(
        self,
        model: Any,
        tokenizer: Any,
        device: str,
        *,
        label: str,
        static_cache: bool = False,
        prompt_lookup: int = 0,
    ) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.device = device
        self.name = label
        self.max_context = model_context(model.config, tokenizer)
        self._stop_ids = stop_token_ids(tokenizer)
        if tokenizer.pad_token_id is None:
            tokenizer.pad_token = tokenizer.eos_token
        self.prefix_cache = PrefixCache(model, device)
        self.static = StaticDecode(self.max_context) if static_cache else None
        # Prompt-lookup decoding (nlp/inference/lookup.py): at most this many proposed tokens
        # checked per row and pass; 0, or a model it cannot run on: plain `generate`.
        lookup = prompt_lookup > 0 and self.static is None and lookup_supported(model)
        self.prompt_lookup = prompt_lookup if lookup else 0

    def generate(self, requests: Sequence[GenerationRequest]) -> list[GenerationOutput]:
        """One pass of generation per shared prefix in the batch (one in all when reuse is
        off), with prompt lookup when it is on."""
        if self.static is not None:  # one fixed-shape cache: whole prompts, padded batch sizes
            return self._generate(requests)
        run = self._lookup if self.prompt_lookup else self._generate
        groups = prefix_groups(requests)
        if len(groups) < 2 or not self.prefix_cache.supported:
            return run(requests)
        outputs: dict[int, GenerationOutput] = {}
        for members in groups.values():
            done = run([requests[i] for i in members])
            outputs.update(zip(members, done, strict=True))
        return [outputs[i] for i in range(len(requests))]

    def _lookup(self, requests: Sequence[GenerationRequest]) -> list[GenerationOutput]:
        """`_generate`'s results, decoded with prompt lookup (nlp/inference/lookup.py)."""
        if not requests:
            return []
        prefix = requests[0].prefix
        shared = bool(prefix) and all(r.prefix == prefix for r in requests)
        state = self.prefix_cache.state(prefix, len(requests)) if shared else None
        if state is None and shared and not self.prefix_cache.supported:
            return self._generate(requests)  # found out now: this model's state is not plain
        cut = len(prefix) if state is not None else 0
        ids, mask = padded(requests, int(self.tokenizer.pad_token_id), cut)
        return lookup_generate(
            self.model, self.tokenizer, requests, ids=ids, mask=mask, device=self.device,
            stop_ids=self._stop_ids, pad_id=int(self.tokenizer.pad_token_id),
            cache=state if state is not None else empty_cache(self.model), cached=cut,
            cache_argument=self.prefix_cache.argument,
            streams=text_streams(requests, self.tokenizer, self._stop_ids),
            max_proposal=self.prompt_lookup,
        )  # fmt: skip

    def _generate(self, requests: Sequence[GenerationRequest]) -> list[GenerationOutput]:
        import torch
        from transformers import LogitsProcessorList

        if not requests:
            return []
        pad = int(self.tokenizer.pad_token_id)
        width = max(len(r.prompt_ids) for r in requests)
        budget = max(r.max_new_tokens for r in requests)
        recorder = ChosenTokenLogProbs()
        streams = text_streams(requests, self.tokenizer, self._stop_ids)
        streamer = RowStreamer(streams) if any(streams) else None
        started = time.monotonic()
        prefix = requests[0].prefix
        shared = bool(prefix) and all(r.prefix == prefix for r in requests)
        shared = shared and self.static is None
        state = self.prefix_cache.state(prefix, len(requests)) if shared else None
        rows = self.static.rows(requests) if self.static is not None else requests
        ids, mask = padded(rows, pad, len(prefix) if state is not None else 0)
        reuse = {} if state is None else {self.prefix_cache.argument: state}
        if self.static is not None:
            reuse = self.static.arguments()
        with torch.inference_mode():
            out = self.model.generate(
                input_ids=torch.tensor(ids, device=self.device),
                attention_mask=torch.tensor(mask, device=self.device),
                max_new_tokens=budget,
                min_new_tokens=min(max(r.min_new_tokens for r in requests), budget),
                do_sample=False,
                temperature=None,
                top_p=None,
                top_k=None,
                eos_token_id=self._stop_ids,
                pad_token_id=pad,
                logits_processor=LogitsProcessorList([recorder]),
                streamer=streamer,
                **reuse,
            )
        seconds = time.monotonic() - started
        results = []
        for row, request in enumerate(requests):
            tokens = out[row, width:].tolist()[: request.max_new_tokens]
            end = first_stop(tokens, self._stop_ids)
            steps = min(end + 1, len(tokens))
            answer = tuple(int(t) for t in tokens[:end])
            logprobs = tuple(recorder.values[i][row] for i in range(len(answer)))
            text = str(self.tokenizer.decode(list(answer), skip_special_tokens=True))
            results.append(
                GenerationOutput(text, answer, logprobs, len(request.prompt_ids), steps, seconds)
            )
        return results


class StaticDecode:
    """`generate` with a static KV cache: on CUDA, transformers then compiles the decode step
    (`torch.compile`, CUDA graphs), which removes the per-token Python and kernel-launch cost
    that bounds a small model there (bench/probe_static_cache.py). Shapes are kept few so each
    compiles once: the cache has one length, and batches are padded with copies of their first
    request up to the next power of two."""

    def __init__(self, max_context: int, *, max_cache_len: int = 2048) -> None:
        self.max_cache_len = min(max_context, max_cache_len)
        from transformers import GenerationConfig

        self._fixed_length = hasattr(GenerationConfig(), "max_cache_len")  # type: ignore[no-untyped-call]

    def rows(self, requests: Sequence[GenerationRequest]) -> list[GenerationRequest]:
        """`requests` then copies of the first, up to a power of two (extra rows are dropped)."""
        size = 1 << (len(requests) - 1).bit_length()
        return [*requests, *[requests[0]] * (size - len(requests))]

    def arguments(self) -> dict[str, Any]:
        extra: dict[str, Any] = {"cache_implementation": "static"}
        if self._fixed_length:
            extra["max_cache_len"] = self.max_cache_len
        return extra


def quantized_int8(model: Any) -> Any:
    """A copy of `model` with its Linear layers dynamically quantized to int8 (CPU only)."""
    import torch

    if next(model.parameters()).device.type != "cpu":
        raise BackendUnavailableError("int8 dynamic quantization runs on CPU only")
    engines = torch.backends.quantized.supported_engines
    if not any(e in engines for e in ("x86", "fbgemm", "qnnpack", "onednn")):
        raise BackendUnavailableError(f"this torch build has no int8 engine ({engines})")
    started = time.monotonic()
    quantized = torch.ao.quantization.quantize_dynamic(  # type: ignore[no-untyped-call]
        copy.deepcopy(model), {torch.nn.Linear}, dtype=torch.qint8
    )
    logger.info("Quantized Linear layers to int8 in %.1f s", time.monotonic() - started)
    return quantized
