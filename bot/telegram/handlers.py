"""PTB handlers: convert each update to an IncomingMessage and hand it to intake; a few lines each.

PTB routes updates (CommandHandler, MessageHandler with composed filters); every handler runs
blocking in group 0, then `finished` (group 1) takes the update out of the durable inbox. When a
handler fails transiently (Redis away) the error handler stops the update there, so it stays in
the inbox and the reconciler hands it to PTB again later. The content commands live in
`content_handlers`, /lang and /settings in `settings_handlers`, /fix in `corrections`;
`ParleyHandlers` installs them all.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from telegram import Message, Update
from telegram.ext import (
    Application,
    ApplicationHandlerStop,
    CommandHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.telegram import commands
from bot.telegram.content_handlers import ContentHandlers
from bot.telegram.convert import (
    PRIVATE,
    classify,
    message_text,
    sender,
    strip_mention,
    to_incoming,
)
from bot.telegram.corrections import CorrectionHandlers
from bot.telegram.handler_base import Context, HandlerBase
from bot.telegram.review import ReviewHandlers
from bot.telegram.settings_handlers import SettingsHandlers
from bot.types import Intent, MessageKind
from workers.retry import TRANSIENT_ERRORS

log = logging.getLogger(__name__)

FINISHED_GROUP = 1
NO_TEXT_REPLY = "I can only read text: please write your question (a caption works too)."


class ParleyHandlers(HandlerBase):
    """The bot's handlers, bound to the process's services: the one installer."""

    def install(self, application: Application) -> None:  # type: ignore[type-arg]
        """Register every handler and the error handler on `application`."""
        only_new = filters.UpdateType.MESSAGE
        # Review replies and buttons first: a reply to a card must not be taken for a question.
        ReviewHandlers(self._s.runtime, self._s.bot_id, self._s.review).install(application)
        content = ContentHandlers(self._s)
        settings = SettingsHandlers(self._s)
        corrections = CorrectionHandlers(self._s)
        table: list[tuple[str, Callable[[Update, Context], object]]] = [
            ("start", self.start),
            ("help", self.help),
            ("ask", self.ask),
            ("translate", self.translate),
            ("lang", settings.lang),
            ("settings", settings.settings),
            ("summarize", content.summarize),
            ("write", content.write),
            ("fix", corrections.fix),
        ]
        for name, callback in table:
            application.add_handler(CommandHandler(name, callback, filters=only_new))  # type: ignore[arg-type]
        application.add_handler(MessageHandler(only_new & ~filters.COMMAND, self.message))
        application.add_handler(MessageHandler(filters.UpdateType.EDITED_MESSAGE, self.edited))
        application.add_handler(TypeHandler(Update, self.finished), group=FINISHED_GROUP)
        application.add_error_handler(self.failed)

    # --- messages -------------------------------------------------------------------------

    async def message(self, update: Update, context: Context) -> None:
        """A new message: answer in private chats and when addressed; translate where enabled."""
        message = update.message
        if message is None:
            return
        kind = classify(message, self._s.bot_id, self._s.bot_username)
        text = message_text(message)
        _, _, is_bot = sender(message)
        if kind is MessageKind.CHANNEL:
            await self._group_message(update, message, text, edited=False)
            return
        if is_bot:
            return  # never answer bots: two bots could answer each other forever
        if kind is MessageKind.MENTION:
            text = strip_mention(text, self._s.bot_username) or self._replied_text(message)
        if not text.strip():
            await self._notify(message, NO_TEXT_REPLY)
            return
        intent: Intent = "auto" if kind is MessageKind.DM else "answer"
        language = self._language(message)
        incoming = to_incoming(message, kind=kind, text=text, language=language, intent=intent)
        if await self._accept(update, incoming):
            self._typing(message, context)

    async def edited(self, update: Update, context: Context) -> None:
        """An edited message: update its translation in auto-translating groups."""
        message = update.edited_message
        if message is not None and message.chat.type != PRIVATE:
            await self._group_message(update, message, message_text(message), edited=True)

    async def _group_message(
        self, update: Update, message: Message, text: str, *, edited: bool
    ) -> None:
        # Intake routes by the group's settings: translated where auto-translation is on (bots
        # excluded there), ignored otherwise.
        if text.strip():
            kind = MessageKind.EDIT if edited else MessageKind.CHANNEL
            await self._accept(update, to_incoming(message, kind=kind, text=text, edited=edited))

    # --- commands -------------------------------------------------------------------------

    async def start(self, update: Update, context: Context) -> None:
        """/start: greet and explain."""
        if update.message is not None:
            await self._notify(update.message, commands.START_TEXT)

    async def help(self, update: Update, context: Context) -> None:
        """/help: the commands."""
        if update.message is not None:
            await self._notify(update.message, commands.HELP_TEXT)

    async def ask(self, update: Update, context: Context) -> None:
        """/ask <question> (or as a reply to a message): answer it."""
        message = update.message
        if message is None:
            return
        text = self._argument_text(message) or self._replied_text(message)
        if not text:
            await self._notify(message, "Usage: /ask <question> (or reply to a message with /ask)")
            return
        incoming = to_incoming(
            message,
            kind=MessageKind.COMMAND,
            text=text,
            language=self._language(message),
            intent="answer",
        )
        await self._accept(update, incoming)

    async def translate(self, update: Update, context: Context) -> None:
        """/translate <lang> <text>, or /translate <lang> as a reply to a message."""
        message = update.message
        if message is None:
            return
        args = self._argument_text(message).split(maxsplit=1)
        target = args[0].lower() if args else ""
        text = (args[1] if len(args) > 1 else "") or self._replied_text(message)
        if not commands.LANGUAGE_CODE.match(target) or not text.strip():
            await self._notify(
                message,
                "Usage: /translate <lang> <text>, or reply to a message with /translate <lang>",
            )
            return
        incoming = to_incoming(
            message, kind=MessageKind.COMMAND, text=text, intent="translate", targets=(target,)
        )
        await self._accept(update, incoming)

    # --- bookkeeping ----------------------------------------------------------------------

    async def finished(self, update: Update, context: Context) -> None:
        """Every handler is done with this update: it may leave the durable inbox."""
        self._s.inbox.done(update.update_id)
        self._s.pending.discard(update.update_id)
        self._s.replayed.discard(update.update_id)

    async def failed(self, update: object, context: Context) -> None:
        """Transient failures keep the update in the inbox for a later replay; bugs are logged."""
        error = context.error
        update_id = update.update_id if isinstance(update, Update) else None
        if isinstance(error, TRANSIENT_ERRORS):
            log.warning("update %s kept for a retry: %s", update_id, error)
            if update_id is not None:
                self._s.pending.discard(update_id)
            raise ApplicationHandlerStop
        log.error("update %s failed and is dropped", update_id, exc_info=error)
