"""`parley kb` commands through Typer's CliRunner, with a fake embedder patched in."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import retrieval.factory
from bot.cli import app
from bot.settings import Settings
from retrieval.lexical import tokenize


class WordHashEmbedder:
    def __init__(self, name: str) -> None:
        self.name = name
        self.dim = 32

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self.embed_passages(texts)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        out = np.full((len(texts), self.dim), 1e-3, dtype=np.float32)
        for row, text in enumerate(texts):
            for word in tokenize(text):
                out[row, int(hashlib.md5(word.encode()).hexdigest(), 16) % self.dim] += 1.0
        return out / np.linalg.norm(out, axis=1, keepdims=True)


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    def fake_build_embedder(settings: Settings) -> WordHashEmbedder:
        return WordHashEmbedder(settings.embedding_model)

    monkeypatch.setattr(retrieval.factory, "build_embedder", fake_build_embedder)
    return CliRunner(env={"PARLEY_KB_DIR": str(tmp_path / "kb"), "PARLEY_LOG_LEVEL": "WARNING"})


@pytest.fixture
def docs(tmp_path: Path) -> Path:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "passwords.md").write_text("# Passwords\n\nReset the password.", encoding="utf-8")
    (folder / "refunds.md").write_text("# Refunds\n\nRefunds take ten days.", encoding="utf-8")
    (folder / "broken.txt").write_bytes(b"\x00\x00binary")
    return folder


def test_ingest_list_search_remove(runner: CliRunner, docs: Path, tmp_path: Path) -> None:
    result = runner.invoke(app, ["kb", "ingest", str(docs)])
    assert result.exit_code == 0, result.output
    assert "2 added" in result.stdout and "1 skipped" in result.stdout
    assert "broken.txt" in result.stderr

    listed = runner.invoke(app, ["kb", "list", "--json"])
    assert [json.loads(line)["doc_id"] for line in listed.stdout.splitlines()] == [
        "passwords.md",
        "refunds.md",
    ]

    found = runner.invoke(app, ["kb", "search", "reset password", "-k", "1", "--json"])
    assert found.exit_code == 0, found.output
    [hit] = json.loads(found.stdout)["hits"]
    assert set(hit) == {"doc_id", "chunk_id", "source", "title", "score", "text"}
    assert hit["doc_id"] == "passwords.md"

    text = runner.invoke(app, ["kb", "search", "refunds"])
    assert "1. [" in text.stdout and "Refunds" in text.stdout

    removed = runner.invoke(app, ["kb", "remove", "refunds.md"])
    assert removed.exit_code == 0 and "removed refunds.md" in removed.stdout
    assert runner.invoke(app, ["kb", "remove", "refunds.md"]).exit_code == 1
    assert "refunds.md" not in runner.invoke(app, ["kb", "list"]).stdout


def test_kb_option_overrides_env(runner: CliRunner, docs: Path, tmp_path: Path) -> None:
    other = tmp_path / "other-kb"
    assert (
        runner.invoke(app, ["kb", "ingest", str(docs / "refunds.md"), "--kb", str(other)]).exit_code
        == 0
    )
    assert (other / "manifest.json").exists()
    assert not (tmp_path / "kb").exists()


def test_batch_search_jsonl(runner: CliRunner, docs: Path, tmp_path: Path) -> None:
    runner.invoke(app, ["kb", "ingest", str(docs)])
    queries = tmp_path / "queries.jsonl"
    queries.write_text(
        '{"id": "q1", "text": "reset password"}\n\n{"id": 7, "text": "refunds days"}\n',
        encoding="utf-8",
    )
    result = runner.invoke(app, ["kb", "search", "--queries", str(queries), "-k", "2", "--json"])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["id"] for line in lines] == ["q1", 7]
    assert [set(line) for line in lines] == [{"id", "hits"}, {"id", "hits"}]
    assert lines[0]["hits"][0]["doc_id"] == "passwords.md"
    assert lines[1]["hits"][0]["doc_id"] == "refunds.md"
    assert len(lines[0]["hits"]) == 2
    assert set(lines[0]["hits"][0]) == {"doc_id", "chunk_id", "source", "title", "score", "text"}


def test_errors_are_one_line_with_exit_code(runner: CliRunner, docs: Path, tmp_path: Path) -> None:
    missing = runner.invoke(app, ["kb", "search", "hello"])
    assert missing.exit_code == 1 and "parley kb ingest" in missing.stderr
    runner.invoke(app, ["kb", "ingest", str(docs)])
    empty = runner.invoke(app, ["kb", "search", "   "])
    assert empty.exit_code == 1 and "Empty query" in empty.stderr
    neither = runner.invoke(app, ["kb", "search"])
    assert neither.exit_code == 1 and "--queries" in neither.stderr
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "no id"}\n', encoding="utf-8")
    result = runner.invoke(app, ["kb", "search", "--queries", str(bad), "--json"])
    assert result.exit_code == 1 and "line 1" in result.stderr
    only_bad = runner.invoke(app, ["kb", "ingest", str(docs / "broken.txt")])
    assert only_bad.exit_code == 1 and "binary" in only_bad.stderr
