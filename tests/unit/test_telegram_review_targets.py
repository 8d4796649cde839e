"""Finding the review a Telegram interaction is about: callback data, cards, prompts, commands."""

from __future__ import annotations

from typing import Any

from telegram import Message, User

from bot.telegram import commands
from bot.telegram.review_targets import (
    Target,
    agent_of,
    parse_callback,
    prompt_text,
    reject_now_button,
    target_of,
)
from tests import fake_telegram as tg
from workers.preferences import ChannelSettings

RID = "3f9c2a1b7d4e6f80"
GROUP = -1001234567890


def _message(text: str, *, keyboard: list[str] | None = None, sender: int = tg.BOT_ID) -> Message:
    raw: dict[str, Any] = tg.sent_message(GROUP, 55, text)
    if sender != tg.BOT_ID:
        raw["from"] = tg.user_json(sender)
    if keyboard:
        raw["reply_markup"] = {
            "inline_keyboard": [[{"text": d, "callback_data": d} for d in keyboard]]
        }
    message = Message.de_json(raw, None)
    assert message is not None
    return message


def test_parse_callback() -> None:
    assert parse_callback(f"review:approve:{RID}") == ("approve", RID)
    assert parse_callback(f"review:reject-now:{RID}") == ("reject-now", RID)
    for bad in ("", "review", "review:approve", f"review:delete:{RID}", f"x:approve:{RID}",
                f"review:approve:{RID}:extra", "review:approve:a b", "review:approve:your",
                f"review:approve:{RID.upper()}"):  # fmt: skip
        assert parse_callback(bad) is None, bad


def test_target_of_card_prompts_and_others() -> None:
    card = _message(f"Review {RID} · ⏳", keyboard=[f"review:approve:{RID}"])
    assert target_of(card, tg.BOT_ID) == Target(RID, "card")
    assert target_of(_message(f"Review {RID} · ✅ Approved"), tg.BOT_ID) == Target(RID, "card")
    edit = prompt_text("edit", RID, "ana")
    assert edit.startswith("@ana, reply to this message with the new answer for review")
    assert target_of(_message(edit), tg.BOT_ID) == Target(RID, "edit")
    reject = prompt_text("reject", RID, None)
    assert reject.startswith("Reply to this message with a reason for rejecting review")
    assert target_of(_message(reject), tg.BOT_ID) == Target(RID, "reject")
    with_button = _message(reject, keyboard=[f"review:reject-now:{RID}"])
    assert target_of(with_button, tg.BOT_ID) == Target(RID, "reject")
    # Someone else's message, a card quoting a prompt, or no message: not a review target.
    assert target_of(_message(f"Review {RID}", sender=42), tg.BOT_ID) is None
    assert target_of(_message("Hello\n" + prompt_text("edit", RID, None)), tg.BOT_ID) is None
    assert target_of(None, tg.BOT_ID) is None
    # An ordinary answer of the bot that happens to start with "Review": a follow-up, not an edit.
    assert target_of(_message("Review your settings, then retry."), tg.BOT_ID) is None


def test_agent_and_button() -> None:
    user = User(7, "Ana", False, last_name="Lima", language_code="pt")
    agent = agent_of(user)
    assert (agent.platform, agent.user, agent.name, agent.language) == (
        "telegram",
        "7",
        "Ana Lima",
        "pt",
    )
    button = reject_now_button(RID)
    assert f"{button.action}:{button.value}" == f"review:reject-now:{RID}"


def test_settings_review_destination_and_threshold() -> None:
    assert commands.settings_change("review", "telegram:-1001234") == {
        "review_destination": "telegram:-1001234"
    }
    assert commands.settings_change("review", "slack:c0review") == {
        "review_destination": "slack:C0REVIEW"
    }
    assert commands.settings_change("review", "none") == {"review_destination": ""}
    assert commands.settings_change("review", "discord:1") is None
    assert commands.settings_change("review", "telegram:abc") is None
    assert commands.settings_change("threshold", "0.6") == {"confidence_threshold": 0.6}
    assert commands.settings_change("threshold", "default") == {"confidence_threshold": None}
    assert commands.settings_change("threshold", "2") is None
    described = commands.describe(ChannelSettings(review_destination="slack:C1"))
    assert "Drafts reviewed in: slack:C1." in described
