"""Agents' commands in Telegram: `/pending`, `/take <id>`, `/history <id>`.

They answer with `agent_command`'s plain text (escaped on delivery), as a reply to the command.
They work in private chats with the bot and in groups where review cards were posted (the
deliverer records those chats), so customer data never lands in a customer group. As a reply to a
card, `/take` and `/history` need no id.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from telegram import Message, Update
from telegram.ext import Application, CommandHandler, ContextTypes, filters

from bot.telegram.convert import PRIVATE
from bot.telegram.delivery import review_chats_key
from bot.telegram.outbox import notice_key, queue_message
from bot.telegram.review_targets import agent_of, target_of
from workers.runtime import Runtime

if TYPE_CHECKING:
    from bot.telegram.review import ReviewActions

COMMANDS = ("pending", "take", "history")
NOT_HERE = (
    "Agents' commands work in a private chat with me or in a group where review cards are "
    "posted, so customer data stays out of customer groups."
)


class AgentCommands:
    """The handler of the agents' commands."""

    def __init__(self, runtime: Runtime, bot_id: int, actions: ReviewActions) -> None:
        self._runtime = runtime
        self._bot_id = bot_id
        self._actions = actions

    def install(self, application: Application) -> None:  # type: ignore[type-arg]
        """Register the command handler."""
        only_new = filters.UpdateType.MESSAGE
        application.add_handler(CommandHandler(COMMANDS, self.command, filters=only_new))

    async def command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/pending, /take <id>, /history <id> (or /take, /history as a reply to a card)."""
        message = update.message
        if message is None or message.from_user is None:
            return
        if not await asyncio.to_thread(self._agents_may_talk_here, message):
            await self._reply(message, NOT_HERE)
            return
        words = (message.text or "/").split(maxsplit=1)
        name = words[0][1:].split("@")[0].lower()
        target = target_of(message.reply_to_message, self._bot_id)
        argument = (words[1].strip() if len(words) > 1 else "") or (
            target.review_id if target else ""
        )
        agent = agent_of(message.from_user)
        text = await asyncio.to_thread(
            self._actions.agent_command, self._runtime, agent, name, argument
        )
        await self._reply(message, text)

    def _agents_may_talk_here(self, message: Message) -> bool:
        if message.chat.type == PRIVATE:
            return True
        key = review_chats_key(self._runtime.settings.namespace)
        return bool(self._runtime.redis.sismember(key, str(message.chat.id)))

    async def _reply(self, message: Message, text: str) -> None:
        await queue_message(self._runtime, message, text, key=notice_key(message), reply=True)
