"""`parley translate` and `parley detect` with a fake translator (no model)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app

FAKE = "tests.fakes_translation:build_tagging_translator"


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("PARLEY_TRANSLATOR_FACTORY", FAKE)
    return CliRunner()


def test_translate_text_json(runner: CliRunner) -> None:
    result = runner.invoke(
        app, ["translate", "Hi <@U1>, see `code`", "--to", "es", "--from", "en", "--json"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["translation"] == "[es] HI <@U1>, SEE `code`"
    assert data["source_language"] == "en" and data["target_language"] == "es"


def test_translate_batch_file(runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    path.write_text('{"id": 1, "text": "How much does it cost?"}\n\n{"id": "b", "text": "👍"}\n')
    result = runner.invoke(app, ["translate", "--file", str(path), "--to", "de", "--json"])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["id"] for r in rows] == [1, "b"]
    assert rows[0]["source_language"] == "en" and rows[0]["translation"].startswith("[de]")
    assert rows[1]["translation"] == "👍"


def test_bad_input_is_a_clear_error(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(app, ["translate", "hi", "--to", "klingon"])
    assert result.exit_code == 1 and "not a supported language" in result.output
    path = tmp_path / "in.jsonl"
    path.write_text('{"id": 1, "text": "ok"}\n{"id": 2}\n')
    result = runner.invoke(app, ["translate", "--file", str(path), "--to", "de"])
    assert result.exit_code == 1 and "line 2" in result.output
    bad = tmp_path / "g.jsonl"
    bad.write_text('{"term": 1}\n')
    result = runner.invoke(app, ["translate", "hi there", "--to", "de", "--glossary", str(bad)])
    assert result.exit_code == 1 and "line 1" in result.output


def test_detect(runner: CliRunner) -> None:
    result = runner.invoke(app, ["detect", "Hur mycket kostar det här?", "--json"])
    assert result.exit_code == 0
    assert json.loads(result.stdout)["language"] == "sv"
    result = runner.invoke(app, ["detect", "ok"])
    assert "unknown" in result.stdout
