"""Settings commands: /lang for a user's reply language, /settings for a group's administrators."""

from __future__ import annotations

import dataclasses
import logging

from telegram import Message, Update
from telegram.constants import ChatMemberStatus

from bot.telegram import commands
from bot.telegram.convert import PRIVATE, sender
from bot.telegram.handler_base import Context, HandlerBase
from workers.preferences import UserSettings

log = logging.getLogger(__name__)

ADMIN_STATUSES = (ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.OWNER)


class SettingsHandlers(HandlerBase):
    """/lang and /settings."""

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
