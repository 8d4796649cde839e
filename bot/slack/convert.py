"""Pure converters: Slack payloads (as Slack sends them) to Parley's `IncomingMessage`.

Like bolt's adapters, the converters know nothing about transport: the listeners in `app.py`
call them and hand the result to intake. Every function here is tested on real payloads.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from typing import Any

from bot.types import IncomingMessage, Intent, MessageKind

# Subtypes that are ordinary human messages; anything else (joins, topic changes...) is ignored.
_HUMAN_SUBTYPES = frozenset({"", "thread_broadcast", "file_share", "me_message"})
_LINK = re.compile(r"<([^<>|]*)(?:\|([^<>]*))?>")


def plain_text(text: str, *, bot_user_id: str = "") -> str:
    """Slack markup as plain text: the bot's own mention dropped, links and mentions readable."""

    def replace(match: re.Match[str]) -> str:
        target, label = match.group(1), match.group(2)
        if bot_user_id and target == f"@{bot_user_id}":
            return ""
        if target.startswith(("@", "#")):
            return target[0] + label if label else target
        if target.startswith("!"):
            return "@" + (label or target[1:].split("^")[0])
        return f"{label} ({target})" if label and label != target else target

    return html.unescape(_LINK.sub(replace, text)).strip()


def mentions(text: str, user_id: str) -> bool:
    """Whether raw Slack text mentions `user_id`."""
    return bool(user_id) and f"<@{user_id}>" in text


def message_event_id(channel: str, ts: str) -> str:
    """Dedupe id of a new message: `app_mention` and `message` for one post share it, as do
    Slack's retries of either."""
    return f"{channel}:{ts}"


def _is_bot(event: Mapping[str, Any]) -> bool:
    return bool(event.get("bot_id")) or event.get("subtype") == "bot_message"


def message_from_event(
    body: Mapping[str, Any], *, bot_user_id: str = "", active_thread: bool = False
) -> IncomingMessage | None:
    """An `event_callback` envelope (`message.*` or `app_mention`) as an IncomingMessage.

    Returns None for events Parley does not act on (joins, unfurls that leave text unchanged,
    messages without a channel). Bot messages come back with `is_bot=True`. `active_thread`
    says Parley is already talking in the message's thread: a reply there counts as a mention.
    """
    event = body.get("event") or {}
    subtype = str(event.get("subtype") or "")
    if subtype == "message_changed":
        return _edit(body, event)
    if subtype == "message_deleted":
        return _delete(body, event)
    channel = str(event.get("channel") or "")
    ts = str(event.get("ts") or "")
    if (subtype not in _HUMAN_SUBTYPES and subtype != "bot_message") or not channel or not ts:
        return None
    raw = str(event.get("text") or "")
    thread_ts = str(event.get("thread_ts") or "")
    if event.get("channel_type") == "im" or channel.startswith("D"):
        kind, thread = MessageKind.DM, thread_ts
    elif event.get("type") == "app_mention" or mentions(raw, bot_user_id):
        kind, thread = MessageKind.MENTION, thread_ts or ts
    else:
        mention = active_thread and bool(thread_ts) and not _is_bot(event)
        kind, thread = (MessageKind.MENTION if mention else MessageKind.CHANNEL), thread_ts or ts
    return IncomingMessage(
        platform="slack",
        channel=channel,
        user=str(event.get("user") or event.get("bot_id") or ""),
        text=plain_text(raw, bot_user_id=bot_user_id),
        event_id=message_event_id(channel, ts),
        message_id=ts,
        thread=thread,
        workspace=str(body.get("team_id") or event.get("team") or ""),
        kind=kind,
        is_bot=_is_bot(event),
    )


def _edit(body: Mapping[str, Any], event: Mapping[str, Any]) -> IncomingMessage | None:
    new = event.get("message") or {}
    old = event.get("previous_message") or {}
    channel = str(event.get("channel") or "")
    ts = str(new.get("ts") or "")
    if not channel or not ts or new.get("text") == old.get("text"):
        return None  # link unfurls and attachment changes arrive as edits with the same text
    return IncomingMessage(
        platform="slack",
        channel=channel,
        user=str(new.get("user") or new.get("bot_id") or ""),
        text=plain_text(str(new.get("text") or "")),
        event_id=f"{channel}:{event.get('event_ts') or event.get('ts')}:edit",
        message_id=ts,
        thread=str(new.get("thread_ts") or ts),
        workspace=str(body.get("team_id") or ""),
        kind=MessageKind.EDIT,
        is_bot=_is_bot(new),
    )


def _delete(body: Mapping[str, Any], event: Mapping[str, Any]) -> IncomingMessage | None:
    old = event.get("previous_message") or {}
    channel = str(event.get("channel") or "")
    ts = str(event.get("deleted_ts") or old.get("ts") or "")
    if not channel or not ts:
        return None
    return IncomingMessage(
        platform="slack",
        channel=channel,
        user=str(old.get("user") or old.get("bot_id") or ""),
        text="",
        event_id=f"{channel}:{event.get('event_ts') or event.get('ts')}:delete",
        message_id=ts,
        thread=str(old.get("thread_ts") or ts),
        workspace=str(body.get("team_id") or ""),
        kind=MessageKind.DELETE,
        is_bot=_is_bot(old),
    )


def command_message(
    body: Mapping[str, Any], text: str, *, intent: Intent, targets: tuple[str, ...] = ()
) -> IncomingMessage:
    """A `/parley ask|translate` slash command (form body) as an IncomingMessage.

    Each user gets their own conversation per channel; the reply goes to the command's
    `response_url` (see `delivery.py`), so no Slack thread is involved.
    """
    user = str(body.get("user_id") or "")
    return IncomingMessage(
        platform="slack",
        channel=str(body.get("channel_id") or ""),
        user=user,
        text=text,
        event_id=f"command:{body.get('trigger_id') or ''}",
        thread=f"command:{user}",
        workspace=str(body.get("team_id") or ""),
        kind=MessageKind.COMMAND,
        intent=intent,
        targets=targets,
        user_name=str(body.get("user_name") or ""),
    )


def shortcut_message(body: Mapping[str, Any], *, language: str) -> IncomingMessage | None:
    """A `message_action` shortcut ("Translate for me") as a translate request for one user."""
    message = body.get("message") or {}
    channel = str((body.get("channel") or {}).get("id") or "")
    user = str((body.get("user") or {}).get("id") or "")
    ts = str(message.get("ts") or "")
    if not channel or not user or not ts:
        return None
    return IncomingMessage(
        platform="slack",
        channel=channel,
        user=user,
        text=plain_text(str(message.get("text") or "")),
        event_id=f"shortcut:{body.get('trigger_id') or ts}",
        message_id=ts,
        thread=f"command:{user}",
        workspace=str((body.get("team") or {}).get("id") or ""),
        kind=MessageKind.COMMAND,
        intent="translate",
        targets=(language,),
    )
