"""Which review a Telegram interaction is about: callback data, the card, and the bot's prompts.

Pure functions over PTB objects, so the handlers stay a few lines:
- callback data `review:<action>:<review id>`; `approve`, `edit` and `reject` come from the card
  (`f"{button.action}:{button.value}"`), `reject-now` from the reject prompt's button;
- a message an agent replies to: the card (found by its inline keyboard, or by its first line
  `Review <id>` once the keyboard is gone), the Edit prompt or the Reject prompt (found by their
  wording, which names the review).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from telegram import InlineKeyboardMarkup, Message, User

from bot.types import Button
from workers.review import REVIEW_ACTION_PREFIX, Agent

Action = Literal["approve", "edit", "reject", "reject-now"]
Mode = Literal["card", "edit", "reject"]

REVIEW_ID = r"[0-9a-f]{16}"  # the contract: 16 hex characters
ACTIONS: tuple[Action, ...] = ("approve", "edit", "reject", "reject-now")
_CALLBACK = re.compile(rf"^{re.escape(REVIEW_ACTION_PREFIX)}([a-z-]+):({REVIEW_ID})$")
# Anchored at the start: a customer's words quoted inside a card can never pose as a prompt.
_PROMPT_START = r"\A(?:@\w+, )?[Rr]eply to this message with "
_EDIT_MARK = re.compile(rf"{_PROMPT_START}the new answer for review ({REVIEW_ID})\b")
_REJECT_MARK = re.compile(rf"{_PROMPT_START}a reason for rejecting review ({REVIEW_ID})\b")
_CARD_MARK = re.compile(rf"\AReview ({REVIEW_ID})\b")
_MARKS: tuple[tuple[re.Pattern[str], Mode], ...] = (
    (_CARD_MARK, "card"),
    (_EDIT_MARK, "edit"),
    (_REJECT_MARK, "reject"),
)

EDIT_PROMPT = (
    "{mention}reply to this message with the new answer for review {review_id}. "
    "Write it in your language if you like: it is translated for the customer."
)
REJECT_PROMPT = (
    "{mention}reply to this message with a reason for rejecting review {review_id} "
    "(optional), or with /answer <your answer> to send your own answer instead. "
    "Or tap the button to reject without a reason."
)
REJECT_NOW_LABEL = "Reject without reason"


@dataclass(frozen=True, slots=True)
class Target:
    """A review and how a reply to this message acts on it."""

    review_id: str
    mode: Mode


def parse_callback(data: str) -> tuple[Action, str] | None:
    """(action, review id) from callback data; None when it is not a valid review button."""
    match = _CALLBACK.match(data)
    if match is None or match.group(1) not in ACTIONS:
        return None
    action = next(a for a in ACTIONS if a == match.group(1))
    return action, match.group(2)


def reject_now_button(review_id: str) -> Button:
    """The reject prompt's button (callback `review:reject-now:<id>`)."""
    return Button(REJECT_NOW_LABEL, REVIEW_ACTION_PREFIX + "reject-now", review_id)


def prompt_text(mode: Literal["edit", "reject"], review_id: str, username: str | None) -> str:
    """The Edit or Reject prompt, @mentioning the agent (ForceReply then targets only them)."""
    mention = f"@{username}, " if username else ""
    template = EDIT_PROMPT if mode == "edit" else REJECT_PROMPT
    text = template.format(mention=mention, review_id=review_id)
    return text if mention else text[0].upper() + text[1:]


def _keyboard_target(markup: InlineKeyboardMarkup | None) -> Target | None:
    if markup is None:
        return None
    for row in markup.inline_keyboard:
        for button in row:
            parsed = parse_callback(str(button.callback_data or ""))
            if parsed is not None:
                action, review_id = parsed
                return Target(review_id, "reject" if action == "reject-now" else "card")
    return None


def target_of(message: Message | None, bot_id: int) -> Target | None:
    """The review a message of this bot (the card or a prompt) is about, else None."""
    if message is None or message.from_user is None or message.from_user.id != bot_id:
        return None
    found = _keyboard_target(message.reply_markup)
    if found is not None:
        return found
    text = message.text or ""
    for pattern, mode in _MARKS:
        match = pattern.match(text)
        if match is not None:
            return Target(match.group(1), mode)
    return None


def agent_of(user: User) -> Agent:
    """The acting agent, as the review contract names them."""
    return Agent(
        platform="telegram", user=str(user.id), name=user.full_name, language=user.language_code
    )
