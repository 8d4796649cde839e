"""Prompt-lookup decoding for one request at a time (transformers): the same greedy tokens in
fewer forward passes.

A drafted answer copies much of its wording from the passages in its prompt (product names,
steps, prices, links), and a translation copies mentions, code and links. At each step the last
few generated tokens are looked up in the prompt and the answer so far; where they occur, the
tokens that followed are proposed as the continuation, and one forward pass over the last chosen
token plus the proposal checks them all: the model's greedy choice at each position is kept up
to the first disagreement, plus the choice after it. On a CPU the decode step costs about the
same for one token as for ten (it is bound by reading the weights and by per-step overhead,
not by arithmetic), so every accepted proposal is a step saved. Nothing is sampled and every
kept token is the model's own greedy choice, so the answer is the one plain greedy decoding
gives, up to float rounding between a one-token and a many-token product.

Without a match a step is a plain one-token step. Only batches of one use it: in a batch the
rows would accept different lengths.
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Sequence
from typing import Any

from nlp.inference.streaming import TextStream
from nlp.inference.types import GenerationOutput, GenerationRequest, first_stop

MAX_NGRAM = 3  # the longest run of last tokens looked up
MIN_NGRAM = 1


def propose(tokens: Sequence[int], count: int, *, max_ngram: int = MAX_NGRAM) -> list[int]:
    """Up to `count` tokens that followed the latest earlier occurrence of the longest
    (at most `max_ngram`) run of last tokens of `tokens`; empty when none occurs."""
    if count < 1:
        return []
    length = len(tokens)
    for n in range(min(max_ngram, length - 1), MIN_NGRAM - 1, -1):
        tail = list(tokens[length - n :])
        first = tail[0]
        # Latest match first: the answer so far usually continues like its nearest twin.
        for start in range(length - n - 1, -1, -1):
            if tokens[start] == first and list(tokens[start : start + n]) == tail:
                return list(tokens[start + n : start + n + count])
    return []


def lookup_supported(model: Any) -> bool:
    """Whether `model`'s cache is plain full-attention `DynamicLayer`s (a sliding window or a
    recurrent state cannot be cut back to drop a rejected proposal) and its Linear layers are
    not dynamically quantized (their activation scale spans all the tokens of a pass, so a
    many-token pass would choose other tokens than one token at a time)."""
    from transformers import DynamicCache
    from transformers.cache_utils import DynamicLayer

    from nlp.inference.prefix_cache import quantized_dynamically

    try:
        layers = list(DynamicCache(config=model.config).layers)
    except Exception:
        return False
    plain = bool(layers) and all(type(layer) is DynamicLayer for layer in layers)
    return plain and not quantized_dynamically(model)


def empty_cache(model: Any) -> Any:
    from transformers import DynamicCache

    return DynamicCache(config=model.config)


def truncate(cache: Any, length: int) -> None:
    """Keep the first `length` positions of every layer of a `DynamicCache` (whose `crop`
    changed meaning between transformers releases)."""
    for layer in cache.layers:
        if getattr(layer, "keys", None) is not None and layer.keys.shape[-2] > length:
            layer.keys = layer.keys[..., :length, :]
            layer.values = layer.values[..., :length, :]


def lookup_generate(
    model: Any,
    tokenizer: Any,
    request: GenerationRequest,
    *,
    device: str,
    stop_ids: Sequence[int],
    cache: Any,
    cached: int,
    cache_argument: str,
    stream: TextStream | None,
    max_proposal: int,
) -> GenerationOutput:
    """Greedy generation for `request` with prompt-lookup proposals (see the module docstring).

    `cache` holds the model state after the first `cached` prompt tokens (a shared prefix), or
    is an empty cache with `cached` 0.
    """
    import torch

    started = time.monotonic()
    keep_logits = "logits_to_keep" in inspect.signature(model.forward).parameters
    prompt = list(request.prompt_ids)
    stops = torch.tensor(list(stop_ids), device=device)
    limit = request.max_new_tokens
    generated: list[int] = []
    logprobs: list[float] = []
    steps = 0  # generated tokens, the stop token included
    with torch.inference_mode():
        feed = prompt[cached:]
        length = cached  # tokens in the cache
        proposal: list[int] = []
        size = max_proposal  # the next proposal's length: halved after a miss, doubled after a hit
        while len(generated) < limit:
            extra: dict[str, Any] = {cache_argument: cache}
            if keep_logits:  # not the prompt's logits: a vocabulary-sized row per token
                extra["logits_to_keep"] = len(proposal) + 1
            out = model(input_ids=torch.tensor([feed], device=device), use_cache=True, **extra)
            logits = out.logits[0, -(len(proposal) + 1) :].float()
            if len(generated) < request.min_new_tokens:  # no stop before the minimum
                logits[: request.min_new_tokens - len(generated), stops] = float("-inf")
            scores = torch.log_softmax(logits, dim=-1).max(dim=-1)
            chosen, best = scores.indices.tolist(), scores.values.tolist()
            kept = 0
            while kept < len(proposal) and proposal[kept] == chosen[kept]:
                kept += 1
            if proposal:
                size = min(max_proposal, size * 2) if kept == len(proposal) else max(1, size // 2)
            new = chosen[: kept + 1]
            length += len(feed)
            end = first_stop(new, stop_ids)
            for token, value in zip(new[:end], best[:end], strict=False):
                generated.append(token)
                logprobs.append(value)
                if stream is not None:
                    stream.add(token)
            if end < len(new):
                steps = len(generated) + 1
                if stream is not None:
                    stream.add(new[end])
                break
            steps = len(generated)
            # The cache holds every fed token; the rejected part of the proposal goes.
            length -= len(proposal) - kept
            truncate(cache, length)
            proposal = propose(prompt + generated, min(size, limit - len(generated) - 1))
            feed = [generated[-1], *proposal]
    text = str(tokenizer.decode(generated, skip_special_tokens=True))
    seconds = time.monotonic() - started
    return GenerationOutput(
        text, tuple(generated), tuple(logprobs), len(request.prompt_ids), steps, seconds
    )
