"""`parley summarize` and `parley write` with a real small model (SmolLM2 135M, CTranslate2)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from platformdirs import user_cache_path
from typer.testing import CliRunner

from bot.cli import app

pytestmark = [pytest.mark.slow, pytest.mark.integration]

SMOLLM = "builtin:smollm2-135m-instruct"


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> CliRunner:
    monkeypatch.setenv("PARLEY_DIALOGUE_MODEL", SMOLLM)
    monkeypatch.setenv("PARLEY_TRANSLATION_MODELS", json.dumps({"*": SMOLLM}))
    monkeypatch.setenv("PARLEY_CACHE_DIR", str(user_cache_path("parley")))
    monkeypatch.setenv("PARLEY_DATA_DIR", str(tmp_path / "data"))
    return CliRunner()


def test_summarize_a_thread_file(runner: CliRunner, tmp_path: Path) -> None:
    thread = tmp_path / "thread.jsonl"
    rows = [
        {"author": "Ana", "text": "The CSV export drops the last row since the release."},
        {"author": "Bo", "text": "I can reproduce it and will ship a fix on Thursday."},
        {"author": "bot", "text": "Translated: ...", "is_bot": True},
    ]
    thread.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    result = runner.invoke(app, ["summarize", "--file", str(thread), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout.strip().splitlines()[-1])
    assert data["messages"] == 2 and data["participants"] == ["Ana", "Bo"]
    assert data["text"].strip() and data["chunks"] == 1


def test_write_in_two_languages(runner: CliRunner) -> None:
    result = runner.invoke(
        app, ["write", "Announce that exports are faster now", "--to", "en,es", "--no-grounded",
              "--json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    drafts = [json.loads(line) for line in result.stdout.strip().splitlines()]
    assert [d["language"] for d in drafts] == ["en", "es"]
    assert all(d["text"].strip() for d in drafts) and drafts[1]["translated_from"] == "en"


def test_bad_thread_files_are_clear_errors(runner: CliRunner, tmp_path: Path) -> None:
    missing = runner.invoke(app, ["summarize", "--file", str(tmp_path / "nope.jsonl")])
    assert missing.exit_code == 1 and "No such file" in missing.output
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"author": "Ana", "text": "hi"}\nnot json\n', encoding="utf-8")
    result = runner.invoke(app, ["summarize", "--file", str(bad)])
    assert result.exit_code == 1 and "line 2" in result.output
    bots = tmp_path / "bots.jsonl"
    bots.write_text('{"author": "x", "text": "hi", "is_bot": true}\n', encoding="utf-8")
    result = runner.invoke(app, ["summarize", "--file", str(bots)])
    assert result.exit_code == 1 and "Nothing to summarise" in result.output
