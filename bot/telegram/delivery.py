"""Delivering replies to Telegram through PTB's `Bot` (registered as the `telegram` deliverer).

Celery tasks are synchronous and PTB is async: each deliverer owns one event loop and one `Bot`
(with its own HTTPXRequest) per process, created lazily after the fork, and runs one call at a
time on it. Sends are paced by the shared Redis `RateLimiter`; a 429 becomes `TransientError`
carrying Telegram's `retry_after`, so the Celery task retries after exactly that long.
"""

from __future__ import annotations

import asyncio
import datetime as dtm
import logging
import os
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

import redis
from telegram import Bot, LinkPreviewOptions, ReplyParameters
from telegram import Message as TgMessage
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter
from telegram.request import HTTPXRequest

from bot.errors import ConfigurationError, InvalidInputError, TransientError
from bot.settings import Settings
from bot.telegram.convert import message_id_from_event
from bot.telegram.keyboards import edited_markup, reply_markup
from bot.telegram.limiter import Limits, RateLimiter
from bot.telegram.render import PARSE_MODE, render_reply
from bot.telegram.review_card import render_card
from bot.types import OutgoingMessage
from workers.delivery import PostedMessages, register_deliverer
from workers.keys import Keys

log = logging.getLogger(__name__)

T = TypeVar("T")

NOT_MODIFIED = "message is not modified"
GONE = ("message to delete not found", "message can't be deleted")


def retry_seconds(exc: RetryAfter) -> float:
    """RetryAfter's wait in seconds (PTB 22 gives an int or a timedelta)."""
    value: int | dtm.timedelta = exc.retry_after
    return value.total_seconds() if isinstance(value, dtm.timedelta) else float(value)


def build_bot(settings: Settings) -> Bot:
    """A PTB Bot for the configured token and Bot API base URL (one per event loop)."""
    if settings.telegram_bot_token is None:
        raise ConfigurationError("PARLEY_TELEGRAM_BOT_TOKEN is not set (ask @BotFather for one)")
    return Bot(
        settings.telegram_bot_token.get_secret_value(),
        base_url=settings.telegram_base_url,
        request=HTTPXRequest(connection_pool_size=8, connect_timeout=5.0, read_timeout=20.0),
    )


def render(outgoing: OutgoingMessage) -> list[str]:
    """The HTML messages for `outgoing`: a review card is one message, a reply may be several."""
    if outgoing.kind == "review":
        return [render_card(outgoing.text, outgoing.metadata)]
    return render_reply(outgoing.text, outgoing.metadata)


def review_chats_key(namespace: str) -> str:
    """Set of the Telegram chats review cards were posted to (agents' commands work there)."""
    return f"{namespace}:telegram:review-chats"


class TelegramDeliverer:
    """Sends, edits and deletes Telegram messages for `OutgoingMessage`s, once per key."""

    def __init__(self, settings: Settings, client: redis.Redis) -> None:
        self._settings = settings
        self._redis = client
        self._keys = Keys(settings.namespace)
        self._posted = PostedMessages(settings, client)
        self._limiter = RateLimiter(
            client,
            settings.namespace,
            Limits(
                settings.telegram_rate_per_chat,
                settings.telegram_rate_per_group,
                settings.telegram_rate_global,
            ),
        )
        self._lock = threading.Lock()
        self._pid = -1
        self._loop: asyncio.AbstractEventLoop | None = None
        self._bot: Bot | None = None

    def deliver(self, outgoing: OutgoingMessage) -> bool:
        """Deliver once; False when this idempotency key was already delivered."""
        with self._lock:
            return self._run(self._deliver(outgoing))

    def close(self) -> None:
        """Close the HTTP client and the loop (tests, shutdown)."""
        with self._lock:
            if self._loop is not None and self._bot is not None and self._pid == os.getpid():
                self._loop.run_until_complete(self._bot.shutdown())
                self._loop.close()
            self._loop, self._bot = None, None

    def _run(self, coro: Coroutine[Any, Any, T]) -> T:
        if self._loop is None or self._pid != os.getpid():
            # After a fork the parent's loop and connections are unusable: start afresh.
            self._loop, self._bot, self._pid = asyncio.new_event_loop(), None, os.getpid()
        return self._loop.run_until_complete(coro)

    async def _get_bot(self) -> Bot:
        if self._bot is None:
            bot = build_bot(self._settings)
            await bot.initialize()
            self._bot = bot
        return self._bot

    def _claim(self, key: str) -> bool:
        """Reserve `key`; False when already posted (a stale claim expires by itself)."""
        return self._posted.claim(key)

    async def _call(
        self, chat_id: str, send: Coroutine[Any, Any, T], *, max_wait: float | None = None
    ) -> T:
        """Await one API call after its rate-limit slot, waiting at most `max_wait` (default
        `telegram_max_wait`); map Telegram errors to Parley's."""
        limit = self._settings.telegram_max_wait if max_wait is None else max_wait
        wait = self._limiter.reserve(chat_id, max_wait=limit)
        if wait < 0:
            send.close()
            raise TransientError(f"rate limit for chat {chat_id}", retry_after=-wait)
        if wait > 0:
            await asyncio.sleep(wait)
        try:
            return await send
        except RetryAfter as exc:
            seconds = retry_seconds(exc)
            self._limiter.penalise(chat_id, seconds)
            raise TransientError(f"Telegram 429 for chat {chat_id}", retry_after=seconds) from exc
        except Forbidden as exc:
            raise InvalidInputError(f"Telegram refused chat {chat_id}: {exc.message}") from exc
        except NetworkError as exc:
            if isinstance(exc, BadRequest):
                raise
            raise TransientError(f"Telegram unreachable: {exc.message}") from exc

    async def _deliver(self, outgoing: OutgoingMessage) -> bool:
        chat = outgoing.ephemeral_to or outgoing.channel
        ids = f"platform=telegram channel={chat} key={outgoing.idempotency_key}"
        if outgoing.delete:
            return await self._delete(outgoing, chat, ids)
        if outgoing.replaces:
            target = self._posted.posted_id(outgoing.replaces)
            if target is not None:
                return await self._edit(outgoing, chat, target, ids)
            log.info("edit target unknown, posting anew %s", ids)
        return await self._post(outgoing, chat, ids)

    async def _post(self, outgoing: OutgoingMessage, chat: str, ids: str) -> bool:
        bot = await self._get_bot()
        chunks = render(outgoing)
        # A card's metadata reply_to names the review (`review:<id>`), not a Telegram message.
        event = "" if outgoing.kind == "review" else str(outgoing.metadata.get("reply_to", ""))
        reply_to = outgoing.reply_to_message or message_id_from_event(event)
        thread = int(outgoing.thread) if outgoing.thread.isdigit() else None
        posted_any = False
        for index, chunk in enumerate(chunks):
            key = outgoing.idempotency_key if index == 0 else f"{outgoing.idempotency_key}#{index}"
            if not self._claim(key):
                continue
            reply = (
                ReplyParameters(int(reply_to), allow_sending_without_reply=True)
                if reply_to.isdigit() and index == 0
                else None
            )
            last = index == len(chunks) - 1
            fields: dict[str, Any] = {
                "chat_id": chat, "text": chunk, "parse_mode": PARSE_MODE,
                "reply_parameters": reply, "reply_markup": reply_markup(outgoing) if last else None,
                "link_preview_options": LinkPreviewOptions(is_disabled=True),
            }  # fmt: skip
            try:
                try:
                    sent: TgMessage = await self._call(
                        chat, bot.send_message(message_thread_id=thread, **fields)
                    )
                except BadRequest as exc:
                    if thread is None or "thread not found" not in exc.message.lower():
                        raise
                    # The forum topic was deleted since: post in the chat (still a reply to
                    # the original where it exists) rather than lose the message.
                    log.warning("telegram topic %s gone, posting without it %s", thread, ids)
                    sent = await self._call(chat, bot.send_message(**fields))
            except BadRequest as exc:
                self._posted.release(key)
                raise InvalidInputError(
                    f"Telegram refused to post to chat {chat}: {exc.message} "
                    "(is the bot a member of that chat, allowed to write there?)"
                ) from exc
            except BaseException:
                self._posted.release(key)
                raise
            self._posted.record(key, str(sent.message_id))
            posted_any = True
            if outgoing.kind == "review":
                self._redis.sadd(review_chats_key(self._settings.namespace), chat)
            log.info("telegram message sent %s part=%d message=%s", ids, index, sent.message_id)
        return posted_any

    async def _edit(self, outgoing: OutgoingMessage, chat: str, target: str, ids: str) -> bool:
        bot = await self._get_bot()
        if not self._claim(outgoing.idempotency_key):
            return False
        chunks = render(outgoing)
        text = chunks[0]
        try:
            await self._call(
                chat,
                bot.edit_message_text(
                    chat_id=chat,
                    message_id=int(target),
                    text=text,
                    parse_mode=PARSE_MODE,
                    reply_markup=edited_markup(outgoing),
                    link_preview_options=LinkPreviewOptions(is_disabled=True),
                ),
            )
        except BadRequest as exc:
            if NOT_MODIFIED not in exc.message.lower():
                self._posted.release(outgoing.idempotency_key)
                raise InvalidInputError(f"Telegram refused the edit: {exc.message}") from exc
        except BaseException:
            self._posted.release(outgoing.idempotency_key)
            raise
        self._posted.record(outgoing.idempotency_key, target)
        log.info("telegram message edited %s message=%s", ids, target)
        if len(chunks) > 1 and outgoing.kind != "review":
            await self._post(outgoing, chat, ids)  # the rest (its first part is claimed)
        return True

    async def _delete(self, outgoing: OutgoingMessage, chat: str, ids: str) -> bool:
        target = self._posted.posted_id(outgoing.replaces or outgoing.idempotency_key)
        key = outgoing.idempotency_key
        if target is None or not self._claim(key):
            return False
        bot = await self._get_bot()
        try:
            await self._call(chat, bot.delete_message(chat_id=chat, message_id=int(target)))
        except BadRequest as exc:
            if not any(g in exc.message.lower() for g in GONE):
                self._posted.release(key)
                raise InvalidInputError(f"Telegram refused the delete: {exc.message}") from exc
        except BaseException:
            self._posted.release(key)
            raise
        self._posted.record(key, target)
        log.info("telegram message deleted %s message=%s", ids, target)
        return True


register_deliverer("telegram", TelegramDeliverer)
