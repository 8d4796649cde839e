"""The Telegram adapter process: PTB's Application, fed through the durable inbox.

PTB's own Updater confirms a polled batch on its next getUpdates whether or not the handlers ran,
so the adapter polls itself (`poll`): a batch's offset moves past it only after every update in it
is in the Redis inbox. In webhook mode `bot.telegram.webhook` answers 200 only after the same
step. Either way, updates then go on PTB's `update_queue` and PTB routes them to the handlers.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import redis
from telegram import Update
from telegram.error import Conflict, InvalidToken, NetworkError, RetryAfter, TelegramError
from telegram.ext import Application, ApplicationBuilder

from bot.errors import ConfigurationError, InvalidInputError
from bot.settings import Settings
from bot.telegram import commands
from bot.telegram.delivery import retry_seconds
from bot.telegram.handler_base import Services
from bot.telegram.handlers import ParleyHandlers
from bot.telegram.inbox import Inbox
from bot.telegram.review import ReviewActions
from workers.runtime import Runtime

log = logging.getLogger(__name__)

ALLOWED_UPDATES = ["message", "edited_message", "callback_query"]
MAX_BACKOFF = 30.0


class TelegramAdapter:
    """One running bot: `start`, then `poll` or serve the webhook, then `stop`."""

    def __init__(
        self, settings: Settings, runtime: Runtime, review: ReviewActions | None = None
    ) -> None:
        if settings.telegram_bot_token is None:
            raise ConfigurationError(
                "PARLEY_TELEGRAM_BOT_TOKEN is not set (ask @BotFather for one)"
            )
        self.settings = settings
        self.runtime = runtime
        self.application: Application = (  # type: ignore[type-arg]
            ApplicationBuilder()
            .token(settings.telegram_bot_token.get_secret_value())
            .base_url(settings.telegram_base_url)
            .updater(None)
            .concurrent_updates(False)
            .get_updates_read_timeout(settings.telegram_poll_timeout + 10.0)
            .build()
        )
        self._services: Services | None = None
        self._review = review or ReviewActions()
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = asyncio.Event()

    @property
    def services(self) -> Services:
        if self._services is None:
            raise ConfigurationError("The Telegram adapter is not started")
        return self._services

    async def start(self, *, register_commands: bool = True) -> None:
        """Log in (getMe), install the handlers, replay what a previous run left unfinished."""
        try:
            await self.application.initialize()
        except InvalidToken as exc:
            raise ConfigurationError("PARLEY_TELEGRAM_BOT_TOKEN was rejected by Telegram") from exc
        bot = self.application.bot
        inbox = Inbox(self.runtime.redis, self.settings.namespace, bot.id, self.settings.dedupe_ttl)
        self._services = Services(self.runtime, inbox, bot.id, bot.username, review=self._review)
        ParleyHandlers(self._services).install(self.application)
        await self.application.start()
        if register_commands:
            await self.register_commands()
        await self.reconcile(older_than=0.0)
        self._tasks.append(asyncio.create_task(self._reconcile_forever(), name="parley-reconcile"))
        log.info(
            "telegram adapter started bot=%s mode=%s", bot.username, self.settings.telegram_mode
        )

    async def stop(self) -> None:
        """Stop polling and the reconciler, let PTB finish the queued updates, shut down."""
        self._stopping.set()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self.application.running:
            await self.application.stop()
        await self.application.shutdown()

    async def register_commands(self) -> None:
        """setMyCommands: the default (English) menu plus one per configured language."""
        bot = self.application.bot
        await bot.set_my_commands(commands.menu("en"))
        for code in commands.menu_languages(self.settings.telegram_command_languages):
            await bot.set_my_commands(commands.menu(code), language_code=code)

    def admit(self, raw: dict[str, Any]) -> Update | None:
        """Parse and durably store one raw update; None for a repeat. Raises for bad input.

        Redis errors propagate: the caller must then not confirm the update to Telegram.
        """
        try:
            update = Update.de_json(raw, self.application.bot)
        except (TypeError, ValueError, KeyError) as exc:
            raise InvalidInputError(f"not a Telegram update: {exc}") from exc
        if not isinstance(update.update_id, int):
            raise InvalidInputError("update_id must be an integer")
        if not self.services.inbox.admit(update.update_id, raw):
            log.info("duplicate update skipped platform=telegram update=%s", update.update_id)
            return None
        return update

    async def dispatch(self, update: Update, *, replay: bool = False) -> None:
        """Hand an admitted update to PTB's queue (PTB routes it to the handlers)."""
        self.services.pending.add(update.update_id)
        if replay:
            self.services.replayed.add(update.update_id)
        await self.application.update_queue.put(update)

    async def submit(self, raw: dict[str, Any]) -> bool:
        """Admit then dispatch one raw update; False for a repeat."""
        update = self.admit(raw)
        if update is None:
            return False
        await self.dispatch(update)
        return True

    async def reconcile(self, *, older_than: float) -> int:
        """Hand PTB again the inbox entries older than `older_than` s that are not in flight."""
        replayed = 0
        for update_id, raw in self.services.inbox.unfinished(older_than):
            if update_id in self.services.pending:
                continue
            update = Update.de_json(raw, self.application.bot)
            await self.dispatch(update, replay=True)
            replayed += 1
        if replayed:
            log.warning("replayed %d unfinished telegram updates", replayed)
        return replayed

    async def _reconcile_forever(self) -> None:
        grace = self.settings.telegram_inbox_grace
        while not self._stopping.is_set():
            await asyncio.sleep(min(30.0, grace / 2))
            try:
                await self.reconcile(older_than=grace)
            except redis.RedisError as exc:
                log.warning("inbox reconcile failed: %s", exc)

    async def _admit_polled(self, update: Update) -> None:
        try:
            admitted = self.admit(update.to_dict())
        except InvalidInputError as exc:
            # Skipping beats retrying forever: Telegram would serve the same update again.
            log.error("unreadable update %s skipped: %s", update.update_id, exc)
            return
        if admitted is not None:
            await self.dispatch(update)

    async def poll(self) -> None:
        """Long-poll getUpdates until stopped; a batch is confirmed only once it is in the inbox."""
        bot = self.application.bot
        await bot.delete_webhook(drop_pending_updates=False)
        offset, backoff = 0, 1.0
        timeout = self.settings.telegram_poll_timeout
        while not self._stopping.is_set():
            try:
                updates = await bot.get_updates(
                    offset=offset, timeout=timeout, allowed_updates=ALLOWED_UPDATES
                )
                for update in updates:
                    await self._admit_polled(update)
            except RetryAfter as exc:
                await asyncio.sleep(retry_seconds(exc))
                continue
            except (Conflict, NetworkError, TelegramError, redis.RedisError) as exc:
                # Conflict: a webhook is set or another poller runs. Redis: the batch is not
                # confirmed and comes back on the next getUpdates.
                log.warning("polling paused %.0f s: %s", backoff, exc)
                await asyncio.sleep(backoff)
                backoff = min(MAX_BACKOFF, backoff * 2)
                continue
            backoff = 1.0
            if updates:
                offset = updates[-1].update_id + 1  # confirmed by the next getUpdates
