"""PTB handlers: convert each update to an IncomingMessage and hand it to intake; a few lines each.

PTB routes updates (CommandHandler, MessageHandler with composed filters); every handler runs
blocking in group 0, then `finished` (group 1) takes the update out of the durable inbox. When a
handler fails transiently (Redis away) the error handler stops the update there, so it stays in
the inbox and the reconciler hands it to PTB again later.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, field

from telegram import Message, Update
from telegram.constants import ChatAction, ChatMemberStatus
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    ApplicationHandlerStop,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.errors import InvalidInputError
from bot.telegram import commands
from bot.telegram.convert import (
    PRIVATE,
    classify,
    message_text,
    sender,
    strip_mention,
    to_incoming,
)
from bot.telegram.inbox import Inbox
from bot.telegram.outbox import notice_key, queue_message
from bot.telegram.review import ReviewActions, ReviewHandlers
from bot.types import IncomingMessage, Intent, MessageKind
from workers.content import WRITE_USAGE, parse_summarize, parse_write
from workers.intake import accept_message
from workers.keys import event_key
from workers.preferences import UserSettings
from workers.retry import TRANSIENT_ERRORS
from workers.runtime import Runtime

log = logging.getLogger(__name__)

Context = ContextTypes.DEFAULT_TYPE
FINISHED_GROUP = 1
ADMIN_STATUSES = (ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.OWNER)
NO_TEXT_REPLY = "I can only read text: please write your question (a caption works too)."


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


class ParleyHandlers:
    """The bot's handlers, bound to the process's services."""

    def __init__(self, services: Services) -> None:
        self._s = services

    def install(self, application: Application) -> None:  # type: ignore[type-arg]
        """Register every handler and the error handler on `application`."""
        only_new = filters.UpdateType.MESSAGE
        # Review replies and buttons first: a reply to a card must not be taken for a question.
        ReviewHandlers(self._s.runtime, self._s.bot_id, self._s.review).install(application)
        table: list[tuple[str, Callable[[Update, Context], object]]] = [
            ("start", self.start),
            ("help", self.help),
            ("ask", self.ask),
            ("translate", self.translate),
            ("lang", self.lang),
            ("settings", self.settings),
            ("summarize", self.summarize),
            ("write", self.write),
        ]
        for name, callback in table:
            application.add_handler(CommandHandler(name, callback, filters=only_new))  # type: ignore[arg-type]
        application.add_handler(MessageHandler(only_new & ~filters.COMMAND, self.message))
        application.add_handler(MessageHandler(filters.UpdateType.EDITED_MESSAGE, self.edited))
        application.add_handler(TypeHandler(Update, self.finished), group=FINISHED_GROUP)
        application.add_error_handler(self.failed)

    # --- plumbing -------------------------------------------------------------------------

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

    async def lang(self, update: Update, context: Context) -> None:
        """/lang <code>: the language replies to this user are written in (/lang auto: detect)."""
        message = update.message
        if message is None:
            return
        user, _, _ = sender(message)
        code = self._argument_text(message).lower()
        store = self._s.runtime.preferences
        if not code:
            current = store.user("telegram", user).language or "auto (detected from your message)"
            await self._notify(message, f"Your language: {current}. Change it with /lang <code>.")
        elif code == "auto":
            store.set_user("telegram", user, UserSettings(language=None))
            await self._notify(message, "I will detect your language from each message.")
        elif commands.LANGUAGE_CODE.match(code):
            store.set_user("telegram", user, UserSettings(language=code))
            await self._notify(message, f"I will answer you in '{code}'.")
        else:
            await self._notify(message, "Usage: /lang <code>, e.g. /lang de (or /lang auto)")

    async def settings(self, update: Update, context: Context) -> None:
        """/settings [mode <m> | languages <codes>]: group settings, for its administrators."""
        message = update.message
        if message is None:
            return
        if message.chat.type == PRIVATE:
            await self._notify(
                message, "/settings works in groups. Use /lang to set your language."
            )
            return
        if not await self._is_admin(message, context):
            await self._notify(message, "Only group administrators can change these settings.")
            return
        store = self._s.runtime.preferences
        chat = str(message.chat.id)
        current = store.channel("telegram", chat)
        words = self._argument_text(message).split(maxsplit=1)
        changes = commands.settings_change(
            words[0].lower() if words else "", words[1].strip() if len(words) > 1 else ""
        )
        if changes is None:
            await self._notify(message, commands.SETTINGS_USAGE)
            return
        if not changes:
            await self._notify(message, commands.describe(current))
            return
        current = dataclasses.replace(current, **changes)
        store.set_channel("telegram", chat, current)
        log.info("group settings changed platform=telegram channel=%s %s", chat, sorted(changes))
        await self._notify(message, "Saved. " + commands.describe(current))

    async def _is_admin(self, message: Message, context: Context) -> bool:
        if message.sender_chat is not None:
            return message.sender_chat.id == message.chat.id  # an anonymous group admin
        if message.from_user is None:
            return False
        member = await context.bot.get_chat_member(message.chat.id, message.from_user.id)
        return member.status in ADMIN_STATUSES

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
