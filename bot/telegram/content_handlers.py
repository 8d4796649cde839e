"""The content commands: /summarize a group's recent messages, /write in several languages.

Both check their arguments here (a usage error is a notice now, not after the queue) and are
enqueued like any message; the content workers do the rest.
"""

from __future__ import annotations

import math

from telegram import Update

from bot.errors import InvalidInputError
from bot.telegram.convert import to_incoming
from bot.telegram.handler_base import Context, HandlerBase
from bot.types import MessageKind
from workers.content import WRITE_USAGE, parse_summarize, parse_write


class ContentHandlers(HandlerBase):
    """/summarize and /write."""

    async def summarize(self, update: Update, context: Context) -> None:
        """/summarize [N|2h], or as a reply to a message: from that message on."""
        message = update.message
        if message is None:
            return
        args = self._argument_text(message)
        replied = message.reply_to_message
        if replied is not None and not args:
            minutes = math.ceil((message.date - replied.date).total_seconds() / 60) + 1
            args = f"{min(max(minutes, 1), 9999)}m"
        try:
            parse_summarize(args)
        except InvalidInputError as exc:
            await self._notify(message, f"{exc} (or reply to a message with /summarize)")
            return
        incoming = to_incoming(
            message, kind=MessageKind.COMMAND, text=args, language=self._language(message),
            intent="summarize",
        )  # fmt: skip
        if await self._accept(update, incoming):
            self._typing(message, context)

    async def write(self, update: Update, context: Context) -> None:
        """/write [--tone T] [--to en,es] [--review] <brief>: content in several languages."""
        message = update.message
        if message is None:
            return
        args = self._argument_text(message)
        try:
            brief = parse_write(args).brief
        except InvalidInputError as exc:
            await self._notify(message, str(exc))
            return
        if not brief:
            await self._notify(message, WRITE_USAGE.replace("Usage: write", "Usage: /write"))
            return
        incoming = to_incoming(
            message, kind=MessageKind.COMMAND, text=args, language=self._language(message),
            intent="write",
        )  # fmt: skip
        if await self._accept(update, incoming):
            self._typing(message, context)
