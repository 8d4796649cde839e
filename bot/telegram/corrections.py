"""/fix <corrected text>, sent as a reply to a translation Parley posted: a reader corrects it.

The replied-to message is looked up as the delivery task remembered it (`workers.corrections`):
platform "telegram", the chat id and the message id as decimal strings, exactly what the
Telegram deliverer records as the posted id. The platform-neutral `apply_correction` records the
correction once (redacted) on the learning stream and returns the edit of the posted translation,
which goes to the io queue like every message the adapter sends (`parley.deliver_reply`). Every
outcome is answered with a notice replying to the /fix message (one per message, idempotent).
"""

from __future__ import annotations

import asyncio
import logging

from telegram import Message, Update

from bot.errors import InvalidInputError
from bot.telegram.convert import sender
from bot.telegram.handler_base import Context, HandlerBase
from workers.app import DELIVER_REPLY, send
from workers.corrections import apply_correction, find_posted_translation

log = logging.getLogger(__name__)

FIX_USAGE = (
    "To fix a translation, reply to the translation you want to fix with /fix followed by the "
    "corrected text, for example: /fix Where is the April invoice?\n"
    "Only recent translations by Parley can be fixed."
)
FIXED = "Thanks, the translation is corrected; Parley learns from corrections."
UNCHANGED = "Nothing changed: the text after /fix is the same as the translation shows now."


class CorrectionHandlers(HandlerBase):
    """/fix."""

    async def fix(self, update: Update, context: Context) -> None:
        """/fix <corrected text> as a reply to a translation: correct it and say how it went."""
        message = update.message
        if message is None:
            return
        if sender(message)[2]:
            return  # bots do not teach Parley
        answer = await asyncio.to_thread(self._fix_now, message)  # Redis: off the event loop
        await self._notify(message, answer)

    def _fix_now(self, message: Message) -> str:
        """Apply the correction in `message`; the notice answering it."""
        replied = message.reply_to_message
        corrected = self._argument_text(message)
        if replied is None or not corrected:
            return FIX_USAGE
        runtime = self._s.runtime
        chat, message_id = str(replied.chat.id), str(replied.message_id)
        posted = find_posted_translation(
            runtime.redis, runtime.settings, "telegram", chat, message_id
        )
        if posted is None:
            return FIX_USAGE
        user = f"telegram:{sender(message)[0]}"
        try:
            edit = apply_correction(runtime.redis, runtime.settings, posted, corrected, user=user)
        except InvalidInputError as exc:
            return f"{exc}."
        if edit is None:
            return UNCHANGED
        send(runtime.app, DELIVER_REPLY, {"outgoing": edit.to_dict()}, runtime.settings)
        log.info(
            "translation corrected platform=telegram channel=%s message=%s key=%s",
            chat, message_id, posted.key,
        )  # fmt: skip
        return FIXED
