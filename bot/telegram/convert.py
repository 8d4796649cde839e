"""Pure converters between Telegram messages and Parley's neutral `IncomingMessage`.

Event ids are `<chat id>:<message id>` (an edit: `...:edit:<edit date>`), so intake deduplicates
a message however often Telegram delivers it, and a reply can find the message it answers.
"""

from __future__ import annotations

import re

from telegram import Message, MessageEntity

from bot.types import IncomingMessage, Intent, MessageKind

PRIVATE = "private"


def event_id_for(message: Message, *, edited: bool = False) -> str:
    """The intake event id of a message (or of one edit of it)."""
    base = f"{message.chat.id}:{message.message_id}"
    if not edited:
        return base
    stamp = int(message.edit_date.timestamp()) if message.edit_date else 0
    return f"{base}:edit:{stamp}"


def message_id_from_event(event_id: str) -> str:
    """The Telegram message id inside an event id made by `event_id_for` ('' if none)."""
    parts = event_id.split(":")
    return parts[1] if len(parts) >= 2 and parts[1].isdigit() else ""


def message_text(message: Message) -> str:
    """The text of a message or the caption of a media message ('' for a sticker)."""
    return message.text or message.caption or ""


def mentions_bot(message: Message, bot_id: int, bot_username: str) -> bool:
    """True when an entity (offsets in UTF-16, resolved by PTB) mentions this bot."""
    handle = f"@{bot_username}".lower()
    entities = message.parse_entities() if message.text else message.parse_caption_entities()
    for entity, text in entities.items():
        if entity.type == MessageEntity.MENTION and text.lower() == handle:
            return True
        if entity.type == MessageEntity.TEXT_MENTION and entity.user and entity.user.id == bot_id:
            return True
    return False


def replies_to_bot(message: Message, bot_id: int) -> bool:
    """True when the message replies to one of this bot's messages."""
    replied = message.reply_to_message
    return bool(replied and replied.from_user and replied.from_user.id == bot_id)


def classify(message: Message, bot_id: int, bot_username: str) -> MessageKind:
    """DM in a private chat; MENTION when addressed in a group; CHANNEL otherwise."""
    if message.chat.type == PRIVATE:
        return MessageKind.DM
    if mentions_bot(message, bot_id, bot_username) or replies_to_bot(message, bot_id):
        return MessageKind.MENTION
    return MessageKind.CHANNEL


def strip_mention(text: str, bot_username: str) -> str:
    """The text without the bot's @handle (case-insensitive), for the question itself."""
    handle = f"@{bot_username}"
    lowered, needle = text.lower(), handle.lower()
    out, start = [], 0
    while (pos := lowered.find(needle, start)) >= 0:
        out.append(text[start:pos])
        start = pos + len(needle)
    out.append(text[start:])
    return re.sub(r"[ \t]{2,}", " ", "".join(out)).strip()


def sender(message: Message) -> tuple[str, str, bool]:
    """(user id, display name, is a bot) of who sent the message (anonymous admins: the chat)."""
    if message.sender_chat is not None:
        chat = message.sender_chat
        return str(chat.id), chat.title or chat.username or "", False
    user = message.from_user
    if user is None:
        return "", "", False
    return str(user.id), user.full_name, user.is_bot


def to_incoming(
    message: Message,
    *,
    kind: MessageKind,
    text: str,
    edited: bool = False,
    language: str | None = None,
    intent: Intent = "auto",
    targets: tuple[str, ...] = (),
) -> IncomingMessage:
    """A neutral IncomingMessage for one Telegram message."""
    user, name, is_bot = sender(message)
    thread = str(message.message_thread_id) if message.is_topic_message else ""
    return IncomingMessage(
        platform="telegram",
        channel=str(message.chat.id),
        user=user,
        text=text,
        event_id=event_id_for(message, edited=edited),
        message_id=str(message.message_id),
        thread=thread if thread != "None" else "",
        kind=kind,
        language=language,
        intent=intent,
        targets=targets,
        is_bot=is_bot,
        user_name=name,
    )
