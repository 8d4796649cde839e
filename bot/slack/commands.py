"""`/parley` subcommands: what each one does, dispatched by `CommandRunner`.

`ask` and `translate` are enqueued like any message (the reply comes through the command's
`response_url`); `lang`, `channel` (`channel_settings`), `kb search` (`kb_search`) and `help` are
answered here. Parsing of the command text is in `command_text`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from slack_sdk import WebClient

from bot.errors import ParleyError
from bot.slack.channel_settings import channel_command, is_channel_admin
from bot.slack.command_text import LANGUAGE, parse_command
from bot.slack.convert import command_message
from bot.slack.intake import IntakeUnavailable
from bot.slack.kb_search import KbSearch, render_hits
from bot.slack.keys import SlackKeys
from bot.slack.render import escape
from bot.slack.review_commands import review_command
from bot.types import IncomingMessage
from workers.content import WRITE_USAGE, parse_summarize, parse_write
from workers.preferences import UserSettings
from workers.runtime import Runtime

log = logging.getLogger(__name__)

RESPONSE_URL_TTL = 1800  # Slack accepts delayed responses for 30 minutes

HELP = """*Parley* answers questions from the knowledge base, in your language.
• `/parley ask <question>`: ask privately
• `/parley translate <lang> <text>`: translate text (e.g. `/parley translate de Hello`)
• `/parley lang <code>`: set your preferred language (`/parley lang` shows it)
• `/parley channel`: show this channel's settings
• `/parley channel translate <langs>|off`: auto-translate this channel (admins)
• `/parley channel mode answer|review|off`: how Parley answers here (admins)
• `/parley channel review slack:C…|telegram:-100…|off`: where drafts from here are reviewed (admins)
• `/parley review pending|take ID|history ID`: review drafts (support agents)
• `/parley review agents add|remove @user`: manage support agents (admins)
• `/parley kb search <query>`: search the knowledge base
• `/parley summarize [N|2h]`: summarise this channel (or mention me with `summarize` in a thread)
• `/parley write [--tone formal|friendly|concise] [--to en,es] [--review] <brief>`: draft content
• `/parley help`: this help
You can also mention me in a channel, write to me directly, or use the message shortcut
*Translate for me*."""

Accept = Callable[[IncomingMessage, Runtime], bool]
Say = Callable[[str], None]
Within = Callable[[Callable[[], bool], str], bool]
"""Runs intake work within a time budget (`IntakeGate.run`); raises IntakeUnavailable."""

UNAVAILABLE = (
    "Sorry, I could not queue that right now (Parley's queue is unavailable). "
    "If no answer arrives within a minute, please try again."
)


def _directly(work: Callable[[], bool], what: str) -> bool:
    return work()


class CommandRunner:
    """Runs one `/parley` command after it was acknowledged; replies through `say`."""

    def __init__(
        self,
        runtime: Runtime,
        web: WebClient,
        *,
        accept: Accept,
        kb_search: KbSearch | None = None,
        within: Within = _directly,
    ) -> None:
        self._runtime = runtime
        self._web = web
        self._accept = accept
        self._within = within
        self._kb_search = kb_search
        self._keys = SlackKeys(runtime.settings.namespace)

    def run(self, body: Mapping[str, Any], say: Say) -> None:
        """Dispatch on the subcommand; user errors become a usage line, never an exception."""
        name, rest = parse_command(str(body.get("text") or ""))
        ids = f"platform=slack channel={body.get('channel_id')} command={name}"
        try:
            handler = getattr(self, f"_{name}", None)
            if handler is None or name.startswith("_"):
                say(f"Unknown command `{escape(name)}`.\n\n{HELP}")
                return
            handler(body, rest, say)
        except IntakeUnavailable as exc:
            # Slash commands are not redelivered: the user is told, the failure logged.
            log.warning("slack command not enqueued %s: %s", ids, exc)
            say(UNAVAILABLE)
        except ParleyError as exc:
            log.warning("slack command failed %s: %s", ids, exc)
            say(f"Sorry, that did not work: {escape(str(exc))}")

    def _help(self, body: Mapping[str, Any], rest: str, say: Say) -> None:
        say(HELP)

    def _ask(self, body: Mapping[str, Any], rest: str, say: Say) -> None:
        if not rest:
            say("Usage: `/parley ask <question>`")
            return
        self._enqueue(body, command_message(body, rest, intent="answer"))
        say(f"Looking that up: _{escape(rest[:200])}_")

    def _translate(self, body: Mapping[str, Any], rest: str, say: Say) -> None:
        language, text = parse_command(rest)
        if not LANGUAGE.match(language) or not text:
            say("Usage: `/parley translate <lang> <text>`, e.g. `/parley translate de Hello`")
            return
        message = command_message(body, text, intent="translate", targets=(language,))
        self._enqueue(body, message)
        say(f"Translating to {language}…")

    def _lang(self, body: Mapping[str, Any], rest: str, say: Say) -> None:
        user = str(body.get("user_id") or "")
        store = self._runtime.preferences
        if not rest:
            current = store.user("slack", user).language
            say(f"Your language is {current or 'not set (I reply in the language you write)'}.")
            return
        code = rest.lower()
        if not LANGUAGE.match(code):
            say("Usage: `/parley lang <code>`, e.g. `/parley lang de`")
            return
        store.set_user("slack", user, UserSettings(language=code))
        say(f"Your preferred language is now {code}.")

    def _channel(self, body: Mapping[str, Any], rest: str, say: Say) -> None:
        channel_command(self._runtime, self._web, body, rest, say)

    def _review(self, body: Mapping[str, Any], rest: str, say: Say) -> None:
        def is_admin(user: str) -> bool:
            usergroup = self._runtime.settings.slack_admin_usergroup
            return is_channel_admin(self._web, user, usergroup)

        say(review_command(self._runtime, body, rest, is_admin=is_admin))

    def _summarize(self, body: Mapping[str, Any], rest: str, say: Say) -> None:
        parse_summarize(rest)  # a usage error is said now, not after the queue
        self._enqueue(body, command_message(body, rest, intent="summarize"))
        say("Summarising this channel…")

    def _write(self, body: Mapping[str, Any], rest: str, say: Say) -> None:
        if not parse_write(rest).brief:
            say(f"Usage: `/parley {WRITE_USAGE.removeprefix('Usage: ')}`")
            return
        self._enqueue(body, command_message(body, rest, intent="write"))
        say(f"Drafting: _{escape(rest[:200])}_")

    def _kb(self, body: Mapping[str, Any], rest: str, say: Say) -> None:
        action, query = parse_command(rest)
        if action != "search" or not query:
            say("Usage: `/parley kb search <query>`")
            return
        if self._kb_search is None:
            say("Knowledge-base search is not available in this process.")
            return
        hits = self._kb_search(query, 5)
        say(render_hits(query, hits))

    def _enqueue(self, body: Mapping[str, Any], message: IncomingMessage) -> None:
        url = str(body.get("response_url") or "")

        def work() -> bool:
            if url:
                key = self._keys.respond(message.event_id)
                self._runtime.redis.set(key, url, ex=RESPONSE_URL_TTL)
            return self._accept(message, self._runtime)

        self._within(work, f"slack command {message.event_id}")
