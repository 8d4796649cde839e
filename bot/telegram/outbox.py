"""Queueing the adapter's own messages (notices, prompts) on the io queue.

The adapter never posts directly: the io workers deliver (rate-limited, once per idempotency key),
so a replayed update cannot post twice. Only answerCallbackQuery is called in the adapter, since
it must answer the tap itself within seconds.
"""

from __future__ import annotations

import asyncio
from typing import Any

from telegram import Message

from bot.types import Button, OutgoingMessage
from workers.app import DELIVER_REPLY, send
from workers.runtime import Runtime


def notice_key(message: Message) -> str:
    """Idempotency key of the one notice answering `message`."""
    return f"notice:telegram:{message.chat.id}:{message.message_id}"


async def queue_message(
    runtime: Runtime,
    message: Message,
    text: str,
    *,
    key: str,
    buttons: tuple[Button, ...] = (),
    metadata: dict[str, Any] | None = None,
    replaces: str = "",
    reply: bool = False,
) -> None:
    """Queue one message to `message`'s chat (and topic); `reply`: as a reply to `message`."""
    outgoing = OutgoingMessage(
        platform="telegram",
        channel=str(message.chat.id),
        text=text,
        idempotency_key=key,
        thread=str(message.message_thread_id) if message.is_topic_message else "",
        buttons=buttons,
        metadata=metadata or {},
        kind="notice",
        replaces=replaces,
        reply_to_message=str(message.message_id) if reply else "",
    )
    payload = {"outgoing": outgoing.to_dict()}
    await asyncio.to_thread(send, runtime.app, DELIVER_REPLY, payload, runtime.settings)
