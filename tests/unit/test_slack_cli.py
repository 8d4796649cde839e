"""`parley slack` refuses to start without the credentials its mode needs."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from bot.cli import app


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, "PARLEY_SLACK_BOT_TOKEN"),
        ({"PARLEY_SLACK_BOT_TOKEN": "xoxb-1", "PARLEY_SLACK_MODE": "socket"}, "APP_TOKEN"),
        ({"PARLEY_SLACK_BOT_TOKEN": "xoxb-1"}, "PARLEY_SLACK_SIGNING_SECRET"),
    ],
)
def test_missing_credentials_are_named(
    env: dict[str, str], expected: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("BOT_TOKEN", "APP_TOKEN", "SIGNING_SECRET", "MODE"):
        monkeypatch.delenv(f"PARLEY_SLACK_{name}", raising=False)
    result = CliRunner().invoke(app, ["slack"], env=env)
    assert result.exit_code == 1
    assert expected in result.output.replace("\n", "")
