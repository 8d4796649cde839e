"""What each Slack listener does, with its dependencies, kept out of bolt for direct tests.

`SlackListeners` turns an event or a shortcut into an `IncomingMessage` and hands it to intake
within `IntakeGate`'s time budget; `/parley` commands go to its `CommandRunner`. Registering
them on the bolt App is `bot.slack.app`'s job.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from slack_sdk import WebClient

from bot.slack.commands import RESPONSE_URL_TTL, Accept, CommandRunner
from bot.slack.convert import message_from_event, shortcut_message
from bot.slack.intake import IntakeGate
from bot.slack.kb_search import KbSearch
from bot.slack.keys import SlackKeys
from bot.slack.web import is_ts
from bot.types import IncomingMessage, MessageKind
from workers.content import summarize_words
from workers.intake import accept_message
from workers.runtime import Runtime

log = logging.getLogger(__name__)


class SlackListeners:
    """What each listener does, with its dependencies (kept out of bolt for direct tests)."""

    def __init__(
        self,
        runtime: Runtime,
        web: WebClient,
        *,
        accept: Accept = accept_message,
        kb_search: KbSearch | None = None,
        gate: IntakeGate | None = None,
    ) -> None:
        self.runtime = runtime
        self.web = web
        self.accept = accept
        self.keys = SlackKeys(runtime.settings.namespace)
        settings = runtime.settings
        self.gate = gate or IntakeGate(settings.slack_intake_timeout, settings.slack_http_threads)
        self.commands = CommandRunner(
            runtime, web, accept=self.accept_once, kb_search=kb_search, within=self.gate.run
        )

    def on_event(self, body: Mapping[str, Any], bot_user_id: str) -> bool:
        """A `message` or `app_mention` event; True when it was enqueued, False when ignored or
        a repeat. Raises IntakeUnavailable when it could not be enqueued within the budget."""
        ids = (
            f"slack event {body.get('event_id')} channel={(body.get('event') or {}).get('channel')}"
        )
        return self.gate.run(lambda: self._take_event(body, bot_user_id), ids)

    def _take_event(self, body: Mapping[str, Any], bot_user_id: str) -> bool:
        event = body.get("event") or {}
        message = message_from_event(
            body, bot_user_id=bot_user_id, active_thread=self._active_thread(event)
        )
        if message is None or message.is_bot:
            log.debug(
                "slack event ignored channel=%s event=%s",
                event.get("channel"),
                body.get("event_id"),
            )
            return False
        if message.user and not message.user_name:
            message = replace(message, user_name=self.user_name(message.user))
        args = summarize_words(message.text) if message.kind == MessageKind.MENTION else None
        if args is not None:  # "@Parley summarize" in a thread or channel
            message = replace(message, intent="summarize", text=args)
        return self.accept_once(message, self.runtime)

    def user_name(self, user: str) -> str:
        """The user's display name (cached a day), else their id: summaries and review cards
        name people. A users.info failure never blocks intake."""
        key = self.keys.user_name(user)
        cached = self.runtime.redis.get(key)
        if cached:
            return cached.decode() if isinstance(cached, bytes) else str(cached)
        try:
            info = self.web.users_info(user=user).get("user") or {}
        except Exception as exc:
            log.warning("slack users.info failed user=%s: %s", user, exc)
            return user
        profile = info.get("profile") or {}
        name = str(profile.get("display_name") or info.get("real_name") or info.get("name") or "")
        if name:
            self.runtime.redis.set(key, name, ex=86_400)
        return name or user

    def accept_once(self, message: IncomingMessage, runtime: Runtime) -> bool:
        """`accept(message)`; intake releases its dedupe mark itself when the enqueue fails, so
        Slack's redelivery of the event is not dropped as a duplicate."""
        return self.accept(message, runtime)

    def on_shortcut(self, body: Mapping[str, Any]) -> bool:
        """ "Translate for me": the message, translated to the user's language, shown to them.

        Runs after the shortcut was acknowledged. Raises IntakeUnavailable when it could not be
        enqueued within the budget (the caller tells the user)."""
        user = str((body.get("user") or {}).get("id") or "")
        message = shortcut_message(body, language=self.user_language(user))
        if message is None:
            log.warning("slack shortcut without a message trigger=%s", body.get("trigger_id"))
            return False
        url = str(body.get("response_url") or "")

        def enqueue() -> bool:
            if url:
                key = self.keys.respond(message.event_id)
                self.runtime.redis.set(key, url, ex=RESPONSE_URL_TTL)
            return self.accept_once(message, self.runtime)

        return self.gate.run(enqueue, f"slack shortcut {message.event_id}")

    def user_language(self, user: str) -> str:
        """The user's `/parley lang`, else their Slack locale, else the default language."""
        chosen = self.runtime.preferences.user("slack", user).language
        if chosen:
            return chosen
        try:
            locale = self.web.users_info(user=user, include_locale=True).get("user") or {}
            code = str(locale.get("locale") or "")[:2].lower()
        except Exception as exc:  # the shortcut still works with the default language
            log.warning("slack users.info failed user=%s: %s", user, exc)
            code = ""
        return code if code.isalpha() and len(code) == 2 else self.runtime.settings.default_language

    def _active_thread(self, event: Mapping[str, Any]) -> bool:
        thread = str(event.get("thread_ts") or "")
        channel = str(event.get("channel") or "")
        if not is_ts(thread) or event.get("channel_type") == "im" or channel.startswith("D"):
            return False
        return bool(self.runtime.redis.exists(self.keys.thread(channel, thread)))
