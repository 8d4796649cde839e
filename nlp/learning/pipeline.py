"""One learning run: dataset -> fine-tune (in a temp folder) -> evaluate -> register -> promote.

The trained model is saved in a staging folder inside the registry; the folder becomes a version
(by rename) only after the weights, tokenizer and report are written, so a killed run leaves a
`.tmp-*` folder that is never listed or promoted.
"""

from __future__ import annotations

import logging
import shutil
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from bot.errors import InvalidInputError
from bot.settings import Settings
from nlp.learning.datasets import LoadedDataset, load_dataset
from nlp.learning.errors import NotEnoughDataError
from nlp.learning.evaluation import (
    dialogue_scores,
    gate,
    save_chart,
    summarize,
    translation_scores,
)
from nlp.learning.examples import Example, Kind
from nlp.learning.models import (
    Trainable,
    base_model_ref,
    generate,
    load_trainable,
    to_samples,
)
from nlp.learning.registry import (
    commit_version,
    current_model,
    list_versions,
    new_version_name,
    promote,
    staging_dir,
    write_json_atomic,
)
from nlp.learning.training import Method, TrainConfig, Trainer, wrap_lora

log = logging.getLogger(__name__)

MIN_TEST_EXAMPLES = 1


@dataclass(frozen=True, slots=True)
class RunOptions:
    kind: Kind
    data: Path | None = None  # a dataset version folder; default: the current dataset
    base: str | None = None  # model to start from; default: the current (promoted) model
    max_examples: int | None = None
    epochs: int | None = None
    batch_size: int | None = None
    method: Method | None = None  # default: lora (causal), full (seq2seq)
    promote: bool = True
    progress: bool = True


@dataclass(slots=True)
class RunReport:
    kind: Kind
    version: str
    path: Path
    promoted: bool
    reason: str
    before: dict[str, float]
    after: dict[str, float]
    data: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)


def check_enough(dataset: LoadedDataset, minimum: int, kind: Kind) -> None:
    train, test = len(dataset.splits["train"]), len(dataset.splits["test"])
    if train < minimum or test < MIN_TEST_EXAMPLES:
        raise NotEnoughDataError(
            f"Too little {kind} data to train: {train} training and {test} test examples "
            f"(dataset {dataset.version or 'empty'}); at least {minimum} training examples "
            f"(PARLEY_LEARNING_MIN_EXAMPLES) and {MIN_TEST_EXAMPLES} test example are needed. "
            "Collect more (`parley data stats`) or import pairs (`parley data import FILE`)."
        )


def _score(kind: Kind, trainable: Trainable, test: list[Example], batch: int) -> dict[str, float]:
    outputs = generate(kind, trainable, test, batch)
    refs = [e.output for e in test]
    return (
        translation_scores(outputs, refs)
        if kind == "translation"
        else dialogue_scores(outputs, refs)
    )


def train_config(settings: Settings, options: RunOptions, trainable: Trainable) -> TrainConfig:
    seq2seq = trainable.seq2seq
    positions = int(getattr(trainable.model.config, "max_position_embeddings", 0) or 1 << 20)
    return TrainConfig(
        method=options.method or ("full" if seq2seq else "lora"),
        learning_rate=settings.learning_rate,
        epochs=options.epochs or settings.learning_epochs,
        batch_size=options.batch_size or settings.learning_batch_size,
        max_length=min(settings.learning_max_length, positions),
        seed=settings.learning_seed,
        progress=options.progress,
    )


def already_trained(settings: Settings, kind: Kind) -> str | None:
    """The version already trained on the current dataset from the current model, if any: a
    re-delivered or repeated task has nothing new to learn."""
    dataset = load_dataset(settings, kind)
    current = current_model(kind, settings)
    reference = str(current) if current is not None else base_model_ref(settings, kind)
    for version in reversed(list_versions(settings, kind)):
        data = version.info.get("data", {})
        if data.get("version") == dataset.version and version.info.get("base_model") in (
            reference,
            str(version.path),
        ):
            return version.version
        if version.path == current and data.get("version") == dataset.version:
            return version.version
    return None


def run_training(settings: Settings, options: RunOptions) -> RunReport:
    """Train, evaluate against the current model, save the version; promote if it passes."""
    kind, timings = options.kind, {}
    dataset = load_dataset(settings, kind, options.data)
    for problem in dataset.corrupt:
        log.warning("skipped a corrupt dataset line: %s", problem)
    check_enough(dataset, settings.learning_min_examples, kind)
    train = dataset.splits["train"][: options.max_examples or None]
    validation, test = dataset.splits["validation"], dataset.splits["test"]
    current = current_model(kind, settings)
    reference = str(current) if current is not None else base_model_ref(settings, kind)
    base = options.base or reference
    started = time.monotonic()
    if options.max_examples is not None and options.max_examples < settings.learning_min_examples:
        raise NotEnoughDataError(
            f"--max-examples {options.max_examples} is below the minimum of "
            f"{settings.learning_min_examples} training examples (PARLEY_LEARNING_MIN_EXAMPLES)"
        )
    trainable = load_trainable(base, settings)
    if kind == "dialogue" and trainable.seq2seq:
        raise InvalidInputError(f"{base!r} is a seq2seq model; dialogue needs an instruct model")
    config = train_config(settings, options, trainable)
    before = _score(
        kind,
        load_trainable(reference, settings) if base != reference else trainable,
        test,
        config.batch_size,
    )
    timings["score_before_s"] = round(time.monotonic() - started, 1)
    staging = staging_dir(settings, kind)
    try:
        report = _train_and_save(
            settings,
            options,
            dataset,
            trainable,
            config,
            staging,
            (train, validation, test),
            before,
            reference,
        )
    finally:
        shutil.rmtree(staging, ignore_errors=True)  # gone by rename on success
    report.timings = {**timings, **report.timings}
    return report


def _train_and_save(
    settings: Settings,
    options: RunOptions,
    dataset: LoadedDataset,
    trainable: Trainable,
    config: TrainConfig,
    staging: Path,
    splits: tuple[list[Example], list[Example], list[Example]],
    before: dict[str, float],
    reference: str,
) -> RunReport:
    kind, (train, validation, test) = options.kind, splits
    model = trainable.model
    if config.method == "lora":
        model = wrap_lora(model, config, seq2seq=trainable.seq2seq)
    trainer = Trainer(
        model, trainable.tokenizer, config, trainable.device, seq2seq=trainable.seq2seq
    )
    result = trainer.fit(
        to_samples(kind, train, trainable), to_samples(kind, validation, trainable)
    )
    if config.method == "lora":
        model = model.merge_and_unload()  # a plain model folder the runtime loads as it is
    tuned = replace(trainable, model=model, ref=f"{kind}-candidate")
    started = time.monotonic()
    after = _score(kind, tuned, test, config.batch_size)
    decision = gate(kind, before, after, settings.learning_margin)
    model.save_pretrained(str(staging))
    trainable.tokenizer.save_pretrained(str(staging))
    version = new_version_name()
    data = {
        "version": dataset.version,
        "train": len(train),
        "validation": len(validation),
        "test": len(test),
        "corrupt_lines": dataset.corrupt[:100],
    }
    info = {
        "version": version,
        "kind": kind,
        "base_model": trainable.ref,
        "compared_with": reference,
        "data": data,
        "config": asdict(config),
        "metrics": {"before": before, "after": after},
        "passed": decision.promote,
        "reason": decision.reason,
        "promoted": False,
        "training": {
            "steps": result.steps,
            "seconds": round(result.seconds, 1),
            "train_loss": result.train_loss,
            "val_loss": result.val_loss,
            "best_epoch": result.best_epoch,
            "stopped_early": result.stopped_early,
        },
        "device": trainable.device,
        "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    write_json_atomic(staging / "report.json", info)
    save_chart(staging / "report.png", result.train_loss, result.val_loss, before, after)
    path = commit_version(settings, kind, staging, info)
    promoted = False
    if decision.promote and options.promote:
        promote(settings, kind, version)
        promoted = True
    log.info(
        "%s model %s: %s; %s -> %s; promoted=%s",
        kind,
        version,
        decision.reason,
        summarize(before),
        summarize(after),
        promoted,
    )
    timings = {
        "train_s": round(result.seconds, 1),
        "score_after_s": round(time.monotonic() - started, 1),
    }
    return RunReport(kind, version, path, promoted, decision.reason, before, after, data, timings)
