"""Slack rendering of review cards and modals, review notes, destinations, settings."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bot.errors import ConfigurationError
from bot.settings import load_settings
from bot.slack.review_commands import parse_review_destination
from bot.slack.review_render import edit_view, reject_view, review_blocks, view_value
from workers.review.notes import REVIEW_NOTES, review_note


def card(status: str = "pending", **extra: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "review_id": "3f9c2a1b7d4e6f80",
        "status": status,
        "customer": {
            "platform": "telegram",
            "channel": "-100",
            "user": "42",
            "user_name": "<!channel> Lucía",
            "where": "telegram -100",
        },
        "customer_text": "¿Cuánto cuesta?",
        "customer_language": "es",
        "customer_text_translated": "How much is it?",
        "agent_language": "en",
        "draft_text": "49 € al mes",
        "draft_translated": "49 € a month",
        "passages": [{"title": "Plans", "url": "https://x.io/p", "score": 0.8, "text": "t"}],
        "confidence": 0.42,
        "reason": "",
        "decided_by": "",
        "decided_at": "",
        "final_text": "",
        "final_text_sent": "",
        "reject_reason": "",
        "expires_at": 0,
    }
    values.update(extra)
    return values


def test_pending_card_has_translations_sources_and_three_buttons() -> None:
    blocks = review_blocks(card(), "Waiting for an agent.")
    text = json.dumps(blocks, ensure_ascii=False)
    assert "&lt;!channel&gt; Lucía" in text and "<!channel>" not in text
    assert "How much is it?" in text and "49 € a month" in text
    assert "<https://x.io/p|Plans> (0.80)" in text and "0.42" in text
    actions = blocks[-1]
    assert actions["type"] == "actions"
    assert [(e["action_id"], e["value"]) for e in actions["elements"]] == [
        ("review:approve", "3f9c2a1b7d4e6f80"),
        ("review:edit", "3f9c2a1b7d4e6f80"),
        ("review:reject", "3f9c2a1b7d4e6f80"),
    ]
    assert all(len(b["text"]["text"]) <= 3000 for b in blocks if b["type"] == "section")


def test_decided_card_has_no_buttons_and_shows_what_was_sent() -> None:
    blocks = review_blocks(
        card("edited", final_text_sent="Son 49 €", decided_by="Ana"), "Edited by Ana at 14:02."
    )
    text = json.dumps(blocks, ensure_ascii=False)
    assert all(b["type"] != "actions" for b in blocks)
    assert "Edited by Ana at 14:02." in text and "Son 49 €" in text
    long = review_blocks(card(customer_text="x" * 10_000), "Waiting.")
    assert all(len(b["text"]["text"]) <= 3000 for b in long if b["type"] == "section")


def test_modals_carry_the_review_and_read_back_values() -> None:
    view = edit_view("3f9c2a1b7d4e6f80", "C0REVIEW", "draft " * 1000, "es")
    assert view["callback_id"] == "review_edit"
    assert json.loads(view["private_metadata"]) == {
        "review_id": "3f9c2a1b7d4e6f80",
        "channel": "C0REVIEW",
    }
    assert len(view["blocks"][0]["element"]["initial_value"]) == 3000
    reject = reject_view("3f9c2a1b7d4e6f80", "C0REVIEW")
    assert [b["block_id"] for b in reject["blocks"]] == ["reason", "answer"]
    assert all(b["optional"] for b in reject["blocks"])
    state = {"state": {"values": {"answer": {"text": {"value": "hi"}}, "reason": {"text": {}}}}}
    assert view_value(state, "answer") == "hi" and view_value(state, "reason") == ""


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("slack:C0REVIEW", "slack:C0REVIEW"),
        ("telegram:-1001234", "telegram:-1001234"),
        ("<#C0RV2|reviews>", "slack:C0RV2"),
        ("email:ops", None),
        ("slack:", None),
    ],
)
def test_review_destinations(text: str, expected: str | None) -> None:
    assert parse_review_destination(text) == expected


def test_review_notes_and_agents_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    assert review_note("es-MX") == REVIEW_NOTES["es"] and review_note("xx") == REVIEW_NOTES["en"]
    assert review_note("no") == REVIEW_NOTES["nb"]
    monkeypatch.setenv("PARLEY_REVIEW_AGENTS", "slack:U1, telegram:42")
    assert load_settings(_env_file=None).review_agents == ("slack:U1", "telegram:42")
    monkeypatch.setenv("PARLEY_REVIEW_AGENTS", "U1")
    with pytest.raises(ConfigurationError, match="PARLEY_REVIEW_AGENTS"):
        load_settings(_env_file=None)


def test_content_card_shows_the_brief_without_confidence() -> None:
    blocks = review_blocks(
        card(kind="content", customer_text="announce SSO", customer_text_translated="",
             customer_language="", confidence=1.0, passages=[]),
        "Waiting for an agent.",
    )  # fmt: skip
    text = json.dumps(blocks, ensure_ascii=False)
    assert "content draft" in text and "confidence" not in text
    assert "*Brief*" in text and "announce SSO" in text


def test_the_draft_shows_its_emphasis_as_the_customer_will_see_it() -> None:
    blocks = review_blocks(
        card(draft_text="Abre **Ajustes > Plan**", customer_text="**¿Cuánto?**"), "Waiting."
    )
    text = json.dumps(blocks, ensure_ascii=False)
    assert "> Abre *Ajustes &gt; Plan*" in text  # the draft, as mrkdwn
    assert "> **¿Cuánto?**" in text  # the customer's own words, as typed
