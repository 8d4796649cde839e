"""The settings object: environment, validation messages, masking, `parley config`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app
from bot.errors import ConfigurationError
from bot.settings import load_settings


def test_reads_prefixed_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PARLEY_KB_DIR", str(tmp_path / "kb"))
    monkeypatch.setenv("PARLEY_CONFIDENCE_THRESHOLD", "0.7")
    settings = load_settings()
    assert settings.knowledge_base_dir == tmp_path / "kb"
    assert settings.confidence_threshold == 0.7
    assert settings.embedded


def test_invalid_value_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PARLEY_TASK_TIME_LIMIT", "abc")
    with pytest.raises(ConfigurationError, match="PARLEY_TASK_TIME_LIMIT"):
        load_settings()


def test_inconsistent_limits_are_refused() -> None:
    with pytest.raises(ConfigurationError, match="visibility_timeout"):
        load_settings(task_time_limit=100, task_soft_time_limit=50, visibility_timeout=60)


def test_secrets_and_url_passwords_are_masked() -> None:
    settings = load_settings(
        slack_bot_token="xoxb-secret", redis_url="redis://:hunter2@redis.example:6379/0"
    )
    masked = settings.masked()
    assert masked["slack_bot_token"] == "**********"
    assert "hunter2" not in json.dumps(masked)
    assert masked["redis_url"].endswith("redis.example:6379/0")


def test_config_command_masks_secrets_and_exits_2_on_bad_settings() -> None:
    runner = CliRunner()
    ok = runner.invoke(app, ["config", "--json"], env={"PARLEY_TELEGRAM_BOT_TOKEN": "123:secret"})
    assert ok.exit_code == 0, ok.output
    assert "123:secret" not in ok.output
    assert json.loads(ok.output)["telegram_bot_token"] == "**********"
    bad = runner.invoke(app, ["config"], env={"PARLEY_CONFIDENCE_THRESHOLD": "2"})
    assert bad.exit_code == 2
    assert "PARLEY_CONFIDENCE_THRESHOLD" in bad.output
