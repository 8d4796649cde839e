"""Agents review drafts in Telegram: card buttons, replies to the card, agents' commands.

- **Approve** decides at once. **Edit** posts a ForceReply prompt; the agent replies to it (or
  straight to the card) with the new answer. **Reject** posts a prompt: reply with a reason, or
  with `/answer <text>` to send your own answer instead, or tap "Reject without reason"; once
  decided, that agent's prompt is replaced by the outcome (its button goes).
  Before posting a prompt, `check` makes sure the tapper is an agent and the draft still pending.
- `/answer <text>` (as a reply to a card or prompt) or `/answer <id> <text>`: reject the draft and
  send this answer instead. The agents' other commands are in `bot.telegram.agent_commands`.
Decisions go through the platform-neutral `decide` (blocking Redis I/O: off the event loop);
callback queries are answered with its sentence (an alert when nothing was done). Everything the
bot posts goes through the io queue with an idempotency key, so a replayed update is harmless.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from telegram import CallbackQuery, Message, Update
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.telegram.agent_commands import AgentCommands
from bot.telegram.convert import message_text
from bot.telegram.outbox import notice_key, queue_message
from bot.telegram.review_targets import (
    REVIEW_ID,
    agent_of,
    parse_callback,
    prompt_text,
    reject_now_button,
    target_of,
)
from bot.types import Button
from workers.delivery import PostedMessages
from workers.review import Agent, DecisionResult, agent_command, check, decide
from workers.runtime import Runtime

log = logging.getLogger(__name__)

Context = ContextTypes.DEFAULT_TYPE
MAX_ANSWER = 200  # Telegram's limit for answerCallbackQuery text
BAD_BUTTON = "This button is not valid (unknown data). Nothing was done."
ANSWER_USAGE = (
    "Usage: reply to a review card or prompt with /answer <your answer>, or /answer <review id> "
    "<your answer>. The draft is rejected and your answer is sent instead."
)
REJECT_USAGE = (
    "To reject, reply to my prompt with a reason in text, or with /answer <your answer>; "
    "or tap Reject without reason."
)
_ID_AND_TEXT = re.compile(rf"\A({REVIEW_ID})\s+(.+)\Z", re.DOTALL)


@dataclass(frozen=True)
class ReviewActions:
    """The neutral review functions the handlers call (tests may pass their own)."""

    decide: Callable[..., DecisionResult] = field(default=decide)
    check: Callable[..., DecisionResult] = field(default=check)
    agent_command: Callable[..., str] = field(default=agent_command)


class ReviewHandlers:
    """Handlers for review cards, prompts and agents' commands."""

    def __init__(self, runtime: Runtime, bot_id: int, actions: ReviewActions) -> None:
        self._runtime = runtime
        self._bot_id = bot_id
        self._actions = actions

    def install(self, application: Application) -> None:  # type: ignore[type-arg]
        """Register the handlers; call before the generic message handlers (first match wins)."""
        only_new = filters.UpdateType.MESSAGE
        # Any reply to a card or prompt (a sticker too: it is an empty edit, said so).
        replies = only_new & ~filters.COMMAND & _ReplyToReview(self._bot_id)
        application.add_handler(CallbackQueryHandler(self.clicked))
        AgentCommands(self._runtime, self._bot_id, self._actions).install(application)
        application.add_handler(CommandHandler("answer", self.answer, filters=only_new))
        application.add_handler(MessageHandler(replies, self.replied))

    # --- buttons --------------------------------------------------------------------------

    async def clicked(self, update: Update, context: Context) -> None:
        """A tap on a card or prompt button."""
        query = update.callback_query
        if query is None:
            return
        parsed = parse_callback(query.data or "")
        if parsed is None:
            log.warning("malformed callback data platform=telegram query=%s", query.id)
            await _answer(query, BAD_BUTTON, alert=True)
            return
        action, review_id = parsed
        agent = agent_of(query.from_user)
        if action in ("edit", "reject"):
            mode: Literal["edit", "reject"] = "edit" if action == "edit" else "reject"
            await self._prompt(query, review_id, agent, mode)
            return
        decision = "approve" if action == "approve" else "reject"
        result = await self._decide(review_id, decision, agent)
        await _answer(query, result.message, alert=not result.ok)
        if result.ok and action == "reject-now" and isinstance(query.message, Message):
            await self._close_prompt(query.message, review_id, agent, result)

    async def _prompt(
        self, query: CallbackQuery, review_id: str, agent: Agent, mode: Literal["edit", "reject"]
    ) -> None:
        message = query.message
        if not isinstance(message, Message):
            await _answer(query, "This card is too old to act on here.", alert=True)
            return
        allowed = await asyncio.to_thread(
            self._actions.check, self._runtime, review_id=review_id, agent=agent
        )
        if not allowed.ok:  # not an agent, already decided, expired: say so, prompt nothing
            await _answer(query, allowed.message, alert=True)
            return
        metadata: dict[str, Any] = {"reply_to": f"{message.chat.id}:{message.message_id}"}
        buttons: tuple[Button, ...] = ()
        if mode == "edit":
            metadata |= {"force_reply": True, "placeholder": "The new answer"}
            metadata["selective"] = bool(query.from_user.username)
            hint = "Reply to the card, or to my prompt below, with the new answer."
        else:
            buttons = (reject_now_button(review_id),)
            hint = (
                "Reply to my prompt with a reason or /answer <text>, or tap Reject without reason."
            )
        await self._post(
            message,
            prompt_text(mode, review_id, query.from_user.username),
            key=_prompt_key(message, review_id, mode, agent),
            buttons=buttons,
            metadata=metadata,
        )
        await _answer(query, hint)

    async def _close_prompt(
        self, prompt: Message | None, review_id: str, agent: Agent, result: DecisionResult
    ) -> None:
        """Replace this agent's Reject prompt (and its button) with the outcome."""
        if prompt is None or not result.ok:
            return
        key = _prompt_key(prompt, review_id, "reject", agent)
        posted = PostedMessages(self._runtime.settings, self._runtime.redis)
        if await asyncio.to_thread(posted.posted_id, key) != str(prompt.message_id):
            return  # another agent's prompt: theirs to keep
        text = f"Review {review_id}: {result.message}"
        await self._post(prompt, text, key=f"{key}:done", replaces=key)

    # --- replies and commands -------------------------------------------------------------

    async def replied(self, update: Update, context: Context) -> None:
        """A text reply to a card (edit), an Edit prompt (edit) or a Reject prompt (reason)."""
        message = update.message
        target = target_of(message.reply_to_message, self._bot_id) if message else None
        if message is None or message.from_user is None or target is None:
            return
        text = message_text(message).strip()
        agent = agent_of(message.from_user)
        if target.mode == "reject" and not text:
            await self._notice(message, REJECT_USAGE)
            return
        if target.mode == "reject":
            result = await self._decide(target.review_id, "reject", agent, reason=text)
            await self._close_prompt(message.reply_to_message, target.review_id, agent, result)
        else:
            result = await self._decide(target.review_id, "edit", agent, text=text)
        await self._notice(message, f"Review {target.review_id}: {result.message}")

    async def answer(self, update: Update, context: Context) -> None:
        """/answer <text> (as a reply) or /answer <id> <text>: reject and send this answer."""
        message = update.message
        if message is None or message.from_user is None:
            return
        argument = _argument(message)
        target = target_of(message.reply_to_message, self._bot_id)
        review_id, text = (target.review_id, argument) if target else ("", "")
        if target is None and (match := _ID_AND_TEXT.match(argument)) is not None:
            review_id, text = match.group(1), match.group(2).strip()
        if not review_id or not text:
            await self._notice(message, ANSWER_USAGE)
            return
        agent = agent_of(message.from_user)
        result = await self._decide(review_id, "reject", agent, text=text)
        if target is not None and target.mode == "reject":
            await self._close_prompt(message.reply_to_message, review_id, agent, result)
        await self._notice(message, f"Review {review_id}: {result.message}")

    # --- plumbing -------------------------------------------------------------------------

    async def _decide(
        self, review_id: str, decision: str, agent: Agent, *, text: str = "", reason: str = ""
    ) -> DecisionResult:
        result = await asyncio.to_thread(
            self._actions.decide,
            self._runtime,
            review_id=review_id,
            decision=decision,
            agent=agent,
            text=text,
            reason=reason,
        )
        log.info(
            "review decision platform=telegram review=%s decision=%s agent=%s ok=%s status=%s",
            review_id,
            decision,
            agent.user,
            result.ok,
            result.status,
        )
        return result

    async def _notice(self, message: Message, text: str) -> None:
        await queue_message(self._runtime, message, text, key=notice_key(message), reply=True)

    async def _post(self, message: Message, text: str, **options: Any) -> None:
        await queue_message(self._runtime, message, text, **options)


class _ReplyToReview(filters.MessageFilter):
    """Messages replying to this bot's review card or prompt."""

    def __init__(self, bot_id: int) -> None:
        super().__init__(name="ReplyToReview")
        self._bot_id = bot_id

    def filter(self, message: Message) -> bool:
        return target_of(message.reply_to_message, self._bot_id) is not None


def _argument(message: Message) -> str:
    parts = (message.text or "").split(maxsplit=1)
    return parts[1].strip() if len(parts) > 1 else ""


def _prompt_key(message: Message, review_id: str, mode: str, agent: Agent) -> str:
    # One prompt per review, kind and agent: tapping Edit twice does not post twice.
    return f"review-prompt:telegram:{message.chat.id}:{review_id}:{mode}:{agent.user}"


async def _answer(query: CallbackQuery, text: str, *, alert: bool = False) -> None:
    """answerCallbackQuery; a query too old to answer (e.g. a replay) is only logged."""
    try:
        await query.answer(text[:MAX_ANSWER], show_alert=alert)
    except TelegramError as exc:
        log.warning("callback query %s not answered: %s", query.id, exc)
