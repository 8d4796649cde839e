"""What embedder tuning reads and reports: training pairs (from JSONL), settings, the report."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from bot.errors import InvalidInputError
from retrieval.tuning_eval import EpochScore


@dataclass(frozen=True)
class TrainingPair:
    """A query and the passage that answers it."""

    query: str
    passage: str


@dataclass
class TuningConfig:
    """Training settings; the defaults suit a few hundred pairs on a small CPU."""

    epochs: int = 4  # the most; with validation, the best epoch on the held-out pairs is kept
    batch_size: int = 32
    learning_rate: float = 5e-5
    warmup_ratio: float = 0.1
    scale: float = 20.0  # cosine similarities x scale are the logits, as in sentence-transformers
    max_query_tokens: int = 64
    max_passage_tokens: int = 256
    freeze_word_embeddings: bool = True
    seed: int = 13
    validation_fraction: float = 0.1  # share of passages held out to choose the epoch; 0: off


@dataclass
class TuningReport:
    """What a tuning run did; also written to `parley_tuning.json` in the model folder."""

    base_model: str
    pairs: int
    steps: int
    seconds: float
    config: TuningConfig
    losses: list[float] = field(default_factory=list)
    train_pairs: int = 0
    validation_pairs: int = 0
    validation_passages: int = 0
    validation: list[EpochScore] = field(default_factory=list)  # one per epoch
    chosen_epoch: int = 0  # the epoch whose weights were saved
    validation_note: str = ""  # why no pairs were held out, if none were

    @property
    def chosen(self) -> EpochScore | None:
        """The saved epoch's validation figures (None when nothing was held out)."""
        return next((s for s in self.validation if s.epoch == self.chosen_epoch), None)


def read_pairs(path: Path) -> list[TrainingPair]:
    """Pairs from JSONL: `{"query", "passage"}` or FAQ rows `{"question", "answer"}` (or q/a)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInputError(f"{path}: cannot read training pairs ({exc})") from exc
    pairs = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = {str(k).lower(): v for k, v in json.loads(line).items()}
        except (ValueError, AttributeError) as exc:
            raise InvalidInputError(f"{path} line {number}: not a JSON object ({exc})") from exc
        query = row.get("query", row.get("question", row.get("q")))
        passage = row.get("passage", row.get("answer", row.get("a")))
        if not isinstance(query, str) or not isinstance(passage, str):
            raise InvalidInputError(
                f'{path} line {number}: expected {{"query": ..., "passage": ...}} '
                'or {"question": ..., "answer": ...}'
            )
        if query.strip() and passage.strip():
            pairs.append(TrainingPair(query.strip(), passage.strip()))
    if not pairs:
        raise InvalidInputError(f"{path}: no training pairs")
    return pairs
