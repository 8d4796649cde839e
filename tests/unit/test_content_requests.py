"""Argument parsing of the summarize and write commands (shared by every adapter)."""

from __future__ import annotations

import pytest

from bot.errors import InvalidInputError
from workers.content import SummaryRequest, WriteRequest, parse_summarize, parse_write


def test_parse_summarize() -> None:
    assert parse_summarize("") == SummaryRequest()
    assert parse_summarize(" 120 ") == SummaryRequest(limit=120)
    assert parse_summarize("2h", now=10_000.0) == SummaryRequest(limit=500, since=10_000.0 - 7200)
    assert parse_summarize("30M", now=100.0).since == 100.0 - 1800
    for bad in ("0", "501", "yesterday", "2 weeks"):
        with pytest.raises(InvalidInputError):
            parse_summarize(bad)


def test_parse_write() -> None:
    assert parse_write("announce SSO") == WriteRequest("announce SSO")
    assert parse_write("--to ES,de --tone formal new plans") == WriteRequest(
        "new plans", "formal", ("es", "de")
    )
    assert parse_write("--review --to en note") == WriteRequest("note", "friendly", ("en",), True)
    assert parse_write("--to en --review note").review
    assert not parse_write("note --review").review  # options come before the brief
    with pytest.raises(InvalidInputError, match="Usage"):
        parse_write("--lang es hi")
    with pytest.raises(InvalidInputError, match="Cannot write in xx"):
        parse_write("--to xx hi")
