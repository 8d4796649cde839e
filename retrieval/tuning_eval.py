"""Early stopping for `parley kb tune`: hold out some passages, score every epoch, keep the best.

The held-out share is split by passage, so a validation passage and all of its queries (one
question in several languages) are never trained on, not even as in-batch negatives. The
validation queries are searched against every passage, training and held-out, as the index the
tuned model will serve would hold them. Which epoch to keep is chosen on these pairs only; the
test data of a benchmark never takes part.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from retrieval.tuning_data import TuningConfig

MIN_VALIDATION_PASSAGES = 20
logger = logging.getLogger(__name__)

RECALL_AT = 5
ENCODE_BATCH = 32

Groups = list[tuple[str, list[str]]]


@dataclass(frozen=True)
class EpochScore:
    """Validation figures after one epoch (ranks among all passages; ties count in our favour)."""

    epoch: int
    recall_at_5: float
    mrr: float


@dataclass(frozen=True)
class ValidationSet:
    """Held-out queries, each with the index of its own passage in `passages`."""

    queries: list[str]
    gold: list[int]
    passages: list[str]  # the training passages and the held-out ones
    held_out_passages: int


def split_for_validation(
    groups: Sequence[tuple[str, list[str]]], fraction: float, seed: int
) -> tuple[Groups, ValidationSet | None, str]:
    """The training groups, the held-out set, and why nothing was held out (if so).

    Deterministic for a seed whatever the order of the pairs: the passages are sorted, then
    shuffled with `seed`, and the first `round(len * fraction)` are held out.
    """
    if fraction <= 0:
        return list(groups), None, "validation is off (validation_fraction 0)"
    held = round(len(groups) * fraction)
    if held < MIN_VALIDATION_PASSAGES:
        return (
            list(groups),
            None,
            f"{len(groups)} passages x validation_fraction {fraction:g} = {held} held out, "
            f"fewer than the {MIN_VALIDATION_PASSAGES} needed for a reliable choice",
        )
    if len(groups) - held < 2:
        return list(groups), None, f"holding out {held} passages leaves fewer than 2 to train on"
    order = sorted(groups, key=lambda group: group[0])
    random.Random(seed).shuffle(order)
    held_out, train = order[:held], order[held:]
    passages = [p for p, _ in train] + [p for p, _ in held_out]
    queries = [q for _, qs in held_out for q in qs]
    gold = [len(train) + i for i, (_, qs) in enumerate(held_out) for _ in qs]
    return train, ValidationSet(queries, gold, passages, held), ""


def score_epoch(
    model: Any,
    tokenizer: Any,
    how: tuple[str, str, str],
    validation: ValidationSet,
    config: TuningConfig,
    epoch: int,
) -> EpochScore:
    """Recall@5 and MRR of the held-out queries, encoded in eval mode without gradients."""
    import torch

    pooling, query_prompt, passage_prompt = how
    was_training = model.training
    model.eval()
    with torch.inference_mode():
        queries = [query_prompt + t for t in validation.queries]
        passages = [passage_prompt + t for t in validation.passages]
        q = encode_all(model, tokenizer, pooling, queries, config.max_query_tokens)
        d = encode_all(model, tokenizer, pooling, passages, config.max_passage_tokens)
        scores = q @ d.T
        gold = torch.tensor(validation.gold)
        own = scores[torch.arange(len(gold)), gold]
        ranks = (scores > own[:, None]).sum(dim=1)
        recall = (ranks < RECALL_AT).float().mean().item()
        mrr = (1.0 / (ranks + 1).float()).mean().item()
    model.train(was_training)
    return EpochScore(epoch, round(recall, 4), round(mrr, 4))


class EpochSelector:
    """Scores every epoch on the held-out pairs and keeps a copy of the best one's weights.

    Best = highest MRR; a tie keeps the earlier epoch.
    """

    def __init__(self, validation: ValidationSet, epochs: int) -> None:
        self.validation = validation
        self.epochs = epochs
        self.scores: list[EpochScore] = []
        self.best: EpochScore | None = None
        self._weights: dict[str, Any] = {}

    def after_epoch(
        self, model: Any, tokenizer: Any, how: tuple[str, str, str], config: TuningConfig
    ) -> EpochScore:
        """Score the epoch just trained, log it, and keep its weights if it is the best."""
        score = score_epoch(model, tokenizer, how, self.validation, config, len(self.scores) + 1)
        self.scores.append(score)
        self.offer(score, model)
        logger.info(
            "Epoch %d/%d: validation recall@5 %.3f, MRR %.3f (%d held-out queries, %d passages)",
            score.epoch,
            self.epochs,
            score.recall_at_5,
            score.mrr,
            len(self.validation.queries),
            len(self.validation.passages),
        )
        return score

    def offer(self, score: EpochScore, model: Any) -> bool:
        """Keep a copy of `model`'s weights if `score` beats the best so far."""
        if self.best is not None and score.mrr <= self.best.mrr:
            return False
        self.best = score
        # Only the trained tensors change; a copy of the frozen word embeddings would cost
        # hundreds of MB for a multilingual model and restore nothing.
        self._weights = {
            name: p.detach().clone() for name, p in model.named_parameters() if p.requires_grad
        }
        return True

    def restore(self, model: Any) -> int:
        """Put the best epoch's weights back into `model`; returns that epoch."""
        if self.best is None:
            raise RuntimeError("no epoch was scored")
        result = model.load_state_dict(self._weights, strict=False)
        if result.unexpected_keys:
            raise RuntimeError(f"cannot restore weights: {result.unexpected_keys[:3]}")
        logger.info(
            "Keeping epoch %d of %d: validation recall@5 %.3f, MRR %.3f",
            self.best.epoch,
            self.epochs,
            self.best.recall_at_5,
            self.best.mrr,
        )
        return self.best.epoch


def encode_all(model: Any, tokenizer: Any, pooling: str, texts: list[str], max_len: int) -> Any:
    """Unit vectors for `texts`, in order; batches of similar length waste less on padding."""
    import torch

    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    parts = [
        encode(model, tokenizer, pooling, [texts[i] for i in order[s : s + ENCODE_BATCH]], max_len)
        for s in range(0, len(order), ENCODE_BATCH)
    ]
    stacked = torch.cat(parts)
    vectors = torch.empty_like(stacked)
    vectors[torch.tensor(order)] = stacked
    return vectors


def encode(model: Any, tokenizer: Any, pooling: str, texts: list[str], max_len: int) -> Any:
    """Pooled, L2-normalised embeddings of one batch (with gradients if they are on)."""
    import torch

    batch = tokenizer(texts, padding=True, truncation=True, max_length=max_len, return_tensors="pt")
    hidden = model(**batch).last_hidden_state
    if pooling == "cls":
        pooled = hidden[:, 0]
    else:
        mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
    return torch.nn.functional.normalize(pooled, p=2, dim=1)
