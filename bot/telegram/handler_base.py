"""What every PTB handler class shares: the process's services and the plumbing to use them.

`HandlerBase` enqueues through intake (off the event loop), sends notices through the io queue,
shows "typing..." and reads a command's argument; the handler classes add the callbacks.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

from telegram import Message, Update
from telegram.constants import ChatAction
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from bot.telegram.convert import message_text, sender
from bot.telegram.inbox import Inbox
from bot.telegram.outbox import notice_key, queue_message
from bot.telegram.review import ReviewActions
from bot.types import IncomingMessage
from workers.intake import accept_message
from workers.keys import event_key
from workers.runtime import Runtime

log = logging.getLogger(__name__)

Context = ContextTypes.DEFAULT_TYPE


@dataclass
class Services:
    """What the handlers need: the runtime, the inbox, and which updates are replays."""

    runtime: Runtime
    inbox: Inbox
    bot_id: int
    bot_username: str
    pending: set[int] = field(default_factory=set)
    replayed: set[int] = field(default_factory=set)
    review: ReviewActions = field(default_factory=ReviewActions)


class HandlerBase:
    """Handlers bound to the process's services, with the helpers they share."""

    def __init__(self, services: Services) -> None:
        self._s = services

    async def _accept(self, update: Update, incoming: IncomingMessage) -> bool:
        # Enqueueing is blocking I/O: off the event loop, so webhook acks are not held up.
        return await asyncio.to_thread(self._accept_now, update, incoming)

    def _accept_now(self, update: Update, incoming: IncomingMessage) -> bool:
        runtime = self._s.runtime
        if update.update_id in self._s.replayed:
            # A replay after a crash: intake may have marked the event without enqueueing it.
            # Enqueueing twice is harmless (answers and deliveries are idempotent); losing is not.
            runtime.redis.delete(runtime.keys.dedupe(event_key("telegram", incoming.event_id)))
        return accept_message(incoming, runtime)

    async def _notify(self, message: Message, text: str) -> None:
        """A notice replying to `message`, through the io queue (rate-limited, idempotent)."""
        key = notice_key(message)
        await queue_message(self._s.runtime, message, text, key=key, reply=True)

    @staticmethod
    def _typing(message: Message, context: Context) -> None:
        """Show "typing..." while the workers answer (best effort, off the handler's path)."""

        async def show() -> None:
            try:
                await message.get_bot().send_chat_action(message.chat.id, ChatAction.TYPING)
            except TelegramError as exc:
                log.debug("no typing action channel=%s: %s", message.chat.id, exc)

        context.application.create_task(show())

    def _language(self, message: Message) -> str | None:
        user, _, _ = sender(message)
        return self._s.runtime.preferences.user("telegram", user).language if user else None

    @staticmethod
    def _argument_text(message: Message) -> str:
        """The text after the command (newlines kept); '' when there is none."""
        text = message.text or ""
        parts = text.split(maxsplit=1)
        return parts[1].strip() if len(parts) > 1 else ""

    @staticmethod
    def _replied_text(message: Message) -> str:
        replied = message.reply_to_message
        return message_text(replied) if replied is not None else ""
