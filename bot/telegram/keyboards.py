"""Reply markup for outgoing messages: inline keyboards from `Button`s, ForceReply prompts.

A button whose value is a URL becomes a link button; any other button a callback button with
`callback_data = f"{action}:{value}"` (Telegram allows 1-64 bytes; longer ones are dropped and
logged). A message may instead ask for a reply (`metadata["force_reply"]`, with an optional
`metadata["placeholder"]`, and `metadata["selective"]` to aim it at the @mentioned user only):
Telegram's clients then open the reply field on that message.
"""

from __future__ import annotations

import logging

from telegram import ForceReply, InlineKeyboardButton, InlineKeyboardMarkup

from bot.types import Button, OutgoingMessage

log = logging.getLogger(__name__)

MAX_CALLBACK_BYTES = 64
MAX_PLACEHOLDER = 64

ReplyMarkup = InlineKeyboardMarkup | ForceReply


def callback_data(button: Button) -> str:
    """The callback data Telegram sends back when `button` is tapped."""
    return f"{button.action}:{button.value}"


def inline_keyboard(buttons: tuple[Button, ...]) -> InlineKeyboardMarkup | None:
    """One row of inline buttons, or None when there are none to show."""
    row: list[InlineKeyboardButton] = []
    for button in buttons:
        if button.value.startswith(("https://", "http://")):
            row.append(InlineKeyboardButton(button.label, url=button.value))
        elif 0 < len(callback_data(button).encode()) <= MAX_CALLBACK_BYTES:
            row.append(InlineKeyboardButton(button.label, callback_data=callback_data(button)))
        else:
            log.warning("button %r dropped: callback data over 64 bytes", button.label)
    return InlineKeyboardMarkup([row]) if row else None


def reply_markup(outgoing: OutgoingMessage) -> ReplyMarkup | None:
    """The markup of a new message: a ForceReply prompt, its buttons, or none."""
    if outgoing.metadata.get("force_reply"):
        placeholder = str(outgoing.metadata.get("placeholder") or "")[:MAX_PLACEHOLDER]
        return ForceReply(
            selective=bool(outgoing.metadata.get("selective")),
            input_field_placeholder=placeholder or None,
        )
    return inline_keyboard(outgoing.buttons)


def edited_markup(outgoing: OutgoingMessage) -> InlineKeyboardMarkup | None:
    """The markup of an edited message: a review card's keyboard is replaced, an empty one
    (`buttons=()`) removes it; other edits keep Telegram's default (None)."""
    keyboard = inline_keyboard(outgoing.buttons)
    if outgoing.kind == "review" and keyboard is None:
        return InlineKeyboardMarkup([])
    return keyboard
