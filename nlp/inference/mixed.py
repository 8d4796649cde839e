"""Mixed precision for transformers on CPU ("bfloat16_float32"): every Linear layer keeps its
weight in bfloat16 and multiplies bfloat16 inputs with float32 accumulation; everything else
(embeddings, norms, the residual stream, attention, the KV cache) stays float32.

Plain bfloat16 (the whole model cast) also rounds the residual stream, the norms and the cached
keys and values at every layer. Here only the inputs and outputs of the matrix products are
rounded, and the products, which are nearly all the time of a step, run at the bfloat16 rate:
half the bytes per decode step, twice the arithmetic of the prompt on a CPU with AVX-512 BF16
or AMX. docs/models.md has the speed and answer quality of each.
"""

from __future__ import annotations

import copy
import logging
import time
from typing import Any

import torch

logger = logging.getLogger(__name__)


class BFloat16Linear(torch.nn.Module):
    """A Linear layer whose product runs in bfloat16 and returns the input's dtype."""

    def __init__(self, linear: torch.nn.Linear) -> None:
        super().__init__()
        weight = linear.weight.detach().to(torch.bfloat16)
        self.weight = torch.nn.Parameter(weight, requires_grad=False)
        bias = None if linear.bias is None else linear.bias.detach().clone()
        self.bias = None if bias is None else torch.nn.Parameter(bias, requires_grad=False)
        self.in_features = linear.in_features
        self.out_features = linear.out_features

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # One 2-D product: F.linear on a 3-D slice (the last position's hidden state) can become
        # a batched product that copies the whole weight first.
        flat = x.reshape(-1, self.in_features).to(torch.bfloat16)
        y = torch.mm(flat, self.weight.t()).to(x.dtype).view(*x.shape[:-1], self.out_features)
        return y if self.bias is None else y + self.bias


def bfloat16_matmuls(model: Any) -> Any:
    """A copy of float32 `model` with every Linear layer (the output head included) replaced by a
    `BFloat16Linear`; `model` itself is left as it was. The copy shares the other parameters
    (embeddings, norms) with `model` rather than holding a second float32 copy of them."""
    started = time.monotonic()
    shared = {id(p): p for p in model.parameters()}
    mixed = copy.deepcopy(model, shared)
    replaced = 0
    for module in list(mixed.modules()):
        for name, child in list(module.named_children()):
            if isinstance(child, torch.nn.Linear):
                setattr(module, name, BFloat16Linear(child))
                replaced += 1
    mixed.eval()
    seconds = time.monotonic() - started
    logger.info("bfloat16 matrix products in %d Linear layers (%.1f s)", replaced, seconds)
    return mixed
