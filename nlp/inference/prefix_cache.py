"""The model state after a fixed prompt prefix, computed once and reused (transformers).

Draft prompts start with the same ~170 tokens (the rules and the worked example). `PrefixCache`
runs the model over such a prefix once, with a batch of one, keeps the key/value tensors of every
layer in a small LRU, and hands `generate` a fresh `DynamicCache` holding them for each row of a
batch: generate then computes only the rest of each prompt, and the kept tensors stay untouched.

Only models whose cache is a plain `DynamicCache` of full-attention `DynamicLayer`s qualify:
sliding-window, linear-attention or KV-sharing layers keep state that a copy of the prefix keys
would not reproduce once padding sits after the prefix. Other models get no state (`None`) and
generate as before. Nor do models with dynamically quantized (int8) Linear layers: they quantize
activations with one scale per input tensor, so the prefix alone (batch of one) gets other numbers
than inside the whole prompt and the answers would change. The state belongs to the weights it was
computed with: a backend whose model changes in place needs a new `PrefixCache`.
"""

from __future__ import annotations

import inspect
import logging
from collections import OrderedDict
from typing import Any

logger = logging.getLogger(__name__)

Layers = list[tuple[Any, Any]]  # per layer: keys, values [1, heads, prefix, head_dim]


def quantized_dynamically(model: Any) -> bool:
    """Whether `model` has Linear layers from `torch.ao.quantization.quantize_dynamic`."""
    import torch

    dynamic = torch.ao.nn.quantized.dynamic.Linear
    return any(isinstance(module, dynamic) for module in model.modules())


def cache_argument(model: Any) -> str:
    """The keyword `forward` and `generate` take a cache by (older 5.x: `past_key_values`)."""
    return "cache" if "cache" in inspect.signature(model.forward).parameters else "past_key_values"


class PrefixCache:
    """An LRU of per-layer key/value tensors after prompt prefixes, for one model.

    `computed` counts the forward passes over a prefix, `hits` the times a kept state was reused.
    """

    def __init__(self, model: Any, device: str, *, capacity: int = 16) -> None:
        self.model = model
        self.device = device
        self.capacity = capacity
        self.argument = cache_argument(model)
        self.computed = 0
        self.hits = 0
        self._states: OrderedDict[tuple[int, ...], Layers] = OrderedDict()
        supports = getattr(model, "_supports_default_dynamic_cache", None)
        dynamic_cache = bool(supports is not None and supports())
        self._supported = dynamic_cache and not quantized_dynamically(model)

    def __len__(self) -> int:
        return len(self._states)

    @property
    def supported(self) -> bool:
        """Whether this model's prefix state can be reused (False once found not to be)."""
        return self._supported

    def state(self, prefix: tuple[int, ...], rows: int) -> Any | None:
        """A new `DynamicCache` with the state after `prefix` in each of `rows` rows, for
        `generate(..., **{self.argument: state})`; None when this model's cache cannot be reused."""
        import torch
        from transformers import DynamicCache

        if not prefix or not self._supported:
            return None
        with torch.inference_mode():
            layers = self._layers(prefix)
            if layers is None:
                return None
            # Each layer's first update concatenates onto an empty tensor: a copy, so generate's
            # appends never reach the kept tensors.
            expanded = [(k.expand(rows, -1, -1, -1), v.expand(rows, -1, -1, -1)) for k, v in layers]
            return DynamicCache(expanded, config=self.model.config)

    def _layers(self, prefix: tuple[int, ...]) -> Layers | None:
        kept = self._states.get(prefix)
        if kept is not None:
            self._states.move_to_end(prefix)
            self.hits += 1
            return kept
        computed = self._compute(prefix)
        if computed is None:
            return None
        self._states[prefix] = computed
        if len(self._states) > self.capacity:
            self._states.popitem(last=False)
        return computed

    def _compute(self, prefix: tuple[int, ...]) -> Layers | None:
        import torch
        from transformers import DynamicCache
        from transformers.cache_utils import DynamicLayer

        cache = DynamicCache(config=self.model.config)
        extra: dict[str, Any] = {self.argument: cache}
        if "logits_to_keep" in inspect.signature(self.model.forward).parameters:
            extra["logits_to_keep"] = 1  # the prefix's logits are never read
        self.model(input_ids=torch.tensor([prefix], device=self.device), use_cache=True, **extra)
        self.computed += 1
        layers: list[Any] = list(cache.layers)
        if not layers or any(
            type(layer) is not DynamicLayer or layer.get_seq_length() != len(prefix)
            for layer in layers
        ):
            logger.info(
                "Prefix reuse is off for this model (cache layers %s)",
                sorted({type(layer).__name__ for layer in layers}),
            )
            self._supported = False
            return None
        return [(layer.keys, layer.values) for layer in layers]
