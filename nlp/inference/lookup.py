"""Prompt-lookup decoding (transformers): the same greedy tokens in fewer forward passes.

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

In a batch every row feeds its last token plus its own proposal, padded to the longest one, and
keeps what it accepted: the slots of a row's rejected or padded tokens stay in the shared cache
but are masked out, and positions are passed per row. A row that ends leaves the batch at once
(plain `generate` keeps computing finished rows until the longest answer ends). The tokens
checked per pass are capped (`PASS_TOKENS`): a wide batch proposes less per row, since there
the pass is bound by arithmetic, not by reading the weights.
"""

from __future__ import annotations

import inspect
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from nlp.inference.streaming import TextStream
from nlp.inference.types import GenerationOutput, GenerationRequest, first_stop

logger = logging.getLogger(__name__)

MAX_NGRAM = 3  # the longest run of last tokens looked up
MIN_NGRAM = 1
PASS_TOKENS = 64  # at most this many tokens checked per pass over a batch (a row always has 1)


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


@dataclass
class _Row:
    """One request's progress through the batch."""

    request: GenerationRequest
    index: int  # in the caller's list
    stream: TextStream | None
    position: int  # the next token's position (its real tokens so far)
    size: int  # the next proposal's length: halved after a miss, doubled after a full hit
    last: int = -1  # the chosen token not yet fed to the model
    generated: list[int] = field(default_factory=list)
    logprobs: list[float] = field(default_factory=list)
    steps: int = 0  # generated tokens, the stop token included
    done: bool = False

    def take(self, chosen: Sequence[int], best: Sequence[float], stops: Sequence[int]) -> None:
        """Append the chosen tokens up to a stop token or the budget (then the row is done)."""
        end = first_stop(chosen, stops)
        room = self.request.max_new_tokens - len(self.generated)
        for token, value in zip(chosen[: min(end, room)], best, strict=False):
            self.generated.append(token)
            self.logprobs.append(value)
            if self.stream is not None:
                self.stream.add(token)
        if end < len(chosen) and end < room:  # a stop token within the budget
            self.steps = len(self.generated) + 1
            if self.stream is not None:
                self.stream.add(chosen[end])
            self.done = True
        else:
            self.steps = len(self.generated)
            self.done = len(self.generated) >= self.request.max_new_tokens
        self.last = self.generated[-1] if self.generated else -1

    def proposal(self, cap: int) -> list[int]:
        room = self.request.max_new_tokens - len(self.generated) - 1
        prompt = self.request.prompt_ids
        return propose([*prompt, *self.generated], min(self.size, cap, room))

    def output(self, tokenizer: Any, seconds: float) -> GenerationOutput:
        text = str(tokenizer.decode(self.generated, skip_special_tokens=True))
        return GenerationOutput(
            text,
            tuple(self.generated),
            tuple(self.logprobs),
            len(self.request.prompt_ids),
            self.steps,
            seconds,
        )


def lookup_generate(
    model: Any,
    tokenizer: Any,
    requests: Sequence[GenerationRequest],
    *,
    ids: Sequence[Sequence[int]],
    mask: Sequence[Sequence[int]],
    device: str,
    stop_ids: Sequence[int],
    pad_id: int,
    cache: Any,
    cached: int,
    cache_argument: str,
    streams: Sequence[TextStream | None],
    max_proposal: int,
) -> list[GenerationOutput]:
    """Greedy generation for `requests` with prompt-lookup proposals (the module docstring).

    `ids` and `mask` are the padded prompts (one width); `cache` holds the model state after
    their first `cached` tokens (a shared prefix, one row per request), or is empty with
    `cached` 0.
    """
    import torch

    started = time.monotonic()
    keep_logits = "logits_to_keep" in inspect.signature(model.forward).parameters
    stops = torch.tensor(list(stop_ids), device=device)
    rows = [
        _Row(request, i, streams[i], len(request.prompt_ids), max_proposal)
        for i, request in enumerate(requests)
    ]
    outputs: dict[int, GenerationOutput] = {}
    with torch.inference_mode():
        # The attention mask over the cache plus the fed tokens: 1 real, 0 padding or rejected.
        slots = torch.tensor(mask, device=device)
        feed = torch.tensor(ids, device=device)[:, cached:]
        positions = (slots.cumsum(-1) - 1).clamp(min=0)[:, cached:]
        proposals: list[list[int]] = [[] for _ in rows]
        width = 1  # logits read per row: 1 after the prompt, then the last token + proposal
        prefill = True
        while True:
            extra: dict[str, Any] = {cache_argument: cache}
            if keep_logits:  # not the prompt's logits: a vocabulary-sized row per token
                extra["logits_to_keep"] = width
            out = model(
                input_ids=feed, attention_mask=slots, position_ids=positions, use_cache=True,
                **extra,
            )  # fmt: skip
            logits = out.logits[:, -width:].float()
            for r, row in enumerate(rows):  # no stop before the minimum
                early = row.request.min_new_tokens - len(row.generated)
                if early > 0:
                    logits[r, :early, stops] = float("-inf")
            scores = torch.log_softmax(logits, dim=-1).max(dim=-1)
            chosen, best = scores.indices.tolist(), scores.values.tolist()
            accepted = []  # per row: cache slots of this pass kept (the fed token + its hits)
            for r, row in enumerate(rows):
                proposal = proposals[r]
                kept = 0
                while kept < len(proposal) and proposal[kept] == chosen[r][kept]:
                    kept += 1
                if proposal:
                    full = kept == len(proposal)
                    row.size = min(max_proposal, row.size * 2) if full else max(1, row.size // 2)
                row.take(chosen[r][: kept + 1], best[r][: kept + 1], stop_ids)
                if not prefill:
                    row.position += 1 + kept
                accepted.append(1 + kept)
            if not prefill:  # mask each row's rejected slots, cut the tail no row kept
                base = slots.shape[1] - width
                for r, count in enumerate(accepted):
                    slots[r, base + count :] = 0
                slots = slots[:, : base + max(accepted)]
                truncate(cache, slots.shape[1])
            prefill = False
            live = [r for r, row in enumerate(rows) if not row.done]
            for row in rows:
                if row.done:
                    outputs[row.index] = row.output(tokenizer, time.monotonic() - started)
                    finished(row.request, outputs[row.index])
            if not live:
                break
            if len(live) < len(rows):  # finished rows leave the batch
                select(cache, live, device)
                slots = slots[live]
                rows = [rows[r] for r in live]
            cap = max(0, min(max_proposal, PASS_TOKENS // len(rows) - 1))
            proposals = [row.proposal(cap) for row in rows]
            width = 1 + max(len(p) for p in proposals)
            fed, fed_mask = [], []
            for row, proposal in zip(rows, proposals, strict=True):
                gap = width - 1 - len(proposal)
                fed.append([row.last, *proposal, *[pad_id] * gap])
                fed_mask.append([1] * (1 + len(proposal)) + [0] * gap)
            feed = torch.tensor(fed, device=device)
            slots = torch.cat([slots, torch.tensor(fed_mask, device=device)], dim=1)
            start = torch.tensor([row.position for row in rows], device=device)
            positions = start[:, None] + torch.arange(width, device=device)
    return [outputs[i] for i in range(len(requests))]


def finished(request: GenerationRequest, output: GenerationOutput) -> None:
    """Tell `request.on_done` (a failing callback is logged: the batch goes on)."""
    if request.on_done is None:
        return
    try:
        request.on_done(output)
    except Exception:
        logger.warning("A request's completion callback failed", exc_info=True)


def select(cache: Any, rows: list[int], device: str) -> None:
    """Keep only `rows` of every layer of a `DynamicCache`."""
    import torch

    index = torch.tensor(rows, device=device)
    for layer in cache.layers:
        if getattr(layer, "keys", None) is not None:
            layer.keys = layer.keys.index_select(0, index)
            layer.values = layer.values.index_select(0, index)
