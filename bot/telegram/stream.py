"""Telegram streamer: a reply shown while it is drafted (`workers/streaming.py`).

While drafting runs and nothing is shown yet, the chat sees "typing…" (`sendChatAction`, renewed
every `PARLEY_STREAMING_TYPING_INTERVAL` s); once there is text, one message is sent and then
edited with the text so far (`editMessageText`), at most once per 1.5 s in a private chat and
3 s in a group. Sends and edits take a slot of the shared `RateLimiter` only when one is free
now: otherwise, or on a 429, the update is skipped. The final reply edits the same message
through `TelegramDeliverer` (`OutgoingMessage.replaces`).
"""

from __future__ import annotations

import logging

from telegram import LinkPreviewOptions, ReplyParameters
from telegram.constants import ChatAction
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter

from bot.errors import InvalidInputError, TransientError
from bot.telegram.convert import message_id_from_event
from bot.telegram.delivery import NOT_MODIFIED, TelegramDeliverer, retry_seconds
from bot.telegram.render import PARSE_MODE, render_reply
from bot.types import OutgoingMessage
from workers.streaming import register_streamer

log = logging.getLogger(__name__)

IN_PROGRESS = " …"
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


def _thread(outgoing: OutgoingMessage) -> int | None:
    return int(outgoing.thread) if outgoing.thread.isdigit() else None


class TelegramStreamer(TelegramDeliverer):
    """Sends and edits the streamed message of a reply (key: its stream key)."""

    def interval(self, outgoing: OutgoingMessage) -> float:
        """Seconds between edits: groups (negative ids) share 20 messages a minute."""
        if outgoing.channel.startswith("-"):
            return self._settings.streaming_telegram_group_interval
        return self._settings.streaming_telegram_interval

    def indicate(self, outgoing: OutgoingMessage) -> bool:
        """ "typing…" while no message is shown (it lasts 5 s or until the bot sends)."""
        if self._posted.posted_id(outgoing.idempotency_key) is None:
            with self._lock:
                self._run(self._typing(outgoing))
        return False

    def show(self, outgoing: OutgoingMessage) -> None:
        """Send the streamed message, or edit it, to show the text so far."""
        with self._lock:
            self._run(self._show(outgoing))

    async def _typing(self, outgoing: OutgoingMessage) -> None:
        bot = await self._get_bot()
        try:
            await bot.send_chat_action(
                chat_id=outgoing.channel,
                action=ChatAction.TYPING,
                message_thread_id=_thread(outgoing),
            )
        except RetryAfter as exc:
            seconds = retry_seconds(exc)
            raise TransientError("Telegram 429 on sendChatAction", retry_after=seconds) from exc
        except (BadRequest, Forbidden) as exc:
            raise InvalidInputError(f"Telegram refused sendChatAction: {exc.message}") from exc
        except NetworkError as exc:
            raise TransientError(f"Telegram unreachable: {exc.message}") from exc

    async def _show(self, outgoing: OutgoingMessage) -> None:
        bot = await self._get_bot()
        chat, key = outgoing.channel, outgoing.idempotency_key
        text = render_reply(outgoing.text, {}, answer=True)[0] + IN_PROGRESS
        target = self._posted.posted_id(key)
        if target is None and self._claim(key):
            reply_to = outgoing.reply_to_message or message_id_from_event(
                str(outgoing.metadata.get("reply_to", ""))
            )
            reply = ReplyParameters(int(reply_to), allow_sending_without_reply=True)
            try:
                sent = await self._call(
                    chat,
                    bot.send_message(
                        chat_id=chat,
                        text=text,
                        parse_mode=PARSE_MODE,
                        reply_parameters=reply if reply_to.isdigit() else None,
                        message_thread_id=_thread(outgoing),
                        link_preview_options=NO_PREVIEW,
                    ),
                    max_wait=0.0,
                )
            except BadRequest as exc:
                self._posted.release(key)
                raise InvalidInputError(f"Telegram refused the message: {exc.message}") from exc
            except BaseException:
                self._posted.release(key)
                raise
            self._posted.record(key, str(sent.message_id))
            log.info("telegram stream sent chat=%s message=%s key=%s", chat, sent.message_id, key)
            return
        target = target or self._posted.posted_id(key)
        if target is None:
            return
        try:
            await self._call(
                chat,
                bot.edit_message_text(
                    chat_id=chat,
                    message_id=int(target),
                    text=text,
                    parse_mode=PARSE_MODE,
                    link_preview_options=NO_PREVIEW,
                ),
                max_wait=0.0,
            )
        except BadRequest as exc:
            if NOT_MODIFIED not in exc.message.lower():
                raise InvalidInputError(f"Telegram refused the edit: {exc.message}") from exc


register_streamer("telegram", TelegramStreamer)
