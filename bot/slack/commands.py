"""`/parley` subcommands: parsing (pure) and what each one does.

`ask` and `translate` are enqueued like any message (the reply comes through the command's
`response_url`); `lang`, `channel`, `kb search` and `help` are answered here. Changing channel
settings needs a workspace admin or owner, or a member of `PARLEY_SLACK_ADMIN_USERGROUP`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any, Protocol

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.errors import ParleyError
from bot.slack.convert import command_message
from bot.slack.intake import IntakeUnavailable
from bot.slack.keys import SlackKeys
from bot.slack.render import escape
from bot.slack.review_commands import parse_review_destination, review_command
from bot.types import IncomingMessage
from workers.content import WRITE_USAGE, parse_summarize, parse_write
from workers.preferences import ChannelSettings, Policy, UserSettings
from workers.runtime import Runtime

log = logging.getLogger(__name__)

LANGUAGE = re.compile(r"^[a-z]{2,3}(-[a-z]{2,4})?$")
RESPONSE_URL_TTL = 1800  # Slack accepts delayed responses for 30 minutes
MODES: dict[str, Policy] = {"answer": "answer", "review": "review", "off": "off"}

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


class KbSearch(Protocol):
    """Searches the knowledge base: (query, k) -> hits as dicts with title, source, url, text."""

    def __call__(self, query: str, k: int) -> Sequence[Mapping[str, Any]]: ...


def parse_command(text: str) -> tuple[str, str]:
    """`"channel translate de,fr"` -> `("channel", "translate de,fr")`; empty -> `("help", "")`."""
    words = text.strip().split(maxsplit=1)
    if not words:
        return "help", ""
    return words[0].lower(), words[1].strip() if len(words) > 1 else ""


def parse_languages(text: str) -> tuple[str, ...] | None:
    """`"de, fr es"` -> `("de", "fr", "es")`; None when any code is not a language code."""
    codes = tuple(dict.fromkeys(c.lower() for c in re.split(r"[,\s]+", text) if c))
    if not codes or not all(LANGUAGE.match(c) for c in codes):
        return None
    return codes


def describe_channel(value: ChannelSettings) -> str:
    """One line on a channel's settings."""
    languages = ", ".join(value.languages) if value.translates else "off"
    review = f" Review: `{escape(value.review_destination)}`." if value.review_destination else ""
    return f"Mode: *{value.policy}*. Auto-translation: {languages}.{review}"


def change_channel(current: ChannelSettings, args: str) -> tuple[ChannelSettings | None, str]:
    """The settings `channel <args>` asks for, and what to tell the user (None: invalid)."""
    action, rest = parse_command(args)
    if action == "translate":
        if rest.lower() == "off":
            policy: Policy = "answer" if current.policy == "translate" else current.policy
            new = replace(current, policy=policy, languages=(), auto_translate=False)
            return new, "Auto-translation is off."
        codes = parse_languages(rest)
        if codes is None:
            return None, "Usage: `/parley channel translate de,fr` or `... translate off`"
        # Auto-translation comes on top of the mode: mentions are still answered (or reviewed).
        new = replace(current, languages=codes, auto_translate=True)
        return new, f"Messages here will be translated to {', '.join(codes)}."
    if action == "review":
        if rest.lower() == "off":
            return replace(current, review_destination=""), "Drafts from here are not reviewed."
        destination = parse_review_destination(rest)
        if destination is None:
            return None, "Usage: `/parley channel review slack:C0123|telegram:-100123|off`"
        new = replace(current, review_destination=destination)
        return new, f"Drafts from here go to review in `{escape(destination)}`."
    if action == "mode" and rest.lower() in MODES:
        return replace(current, policy=MODES[rest.lower()]), f"Mode is now *{rest.lower()}*."
    return None, "Usage: `/parley channel mode answer|review|off`"


def is_channel_admin(web: WebClient, user: str, usergroup: str) -> bool:
    """Workspace admins and owners, and members of the configured user group."""
    try:
        profile = web.users_info(user=user).get("user") or {}
        if profile.get("is_admin") or profile.get("is_owner") or profile.get("is_primary_owner"):
            return True
        if usergroup:
            members = web.usergroups_users_list(usergroup=usergroup).get("users") or []
            return user in members
    except SlackApiError as exc:
        log.warning("slack admin check failed user=%s: %s", user, exc.response.get("error"))
    return False


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
        channel = str(body.get("channel_id") or "")
        store = self._runtime.preferences
        current = store.channel("slack", channel)
        if not rest:
            say(describe_channel(current))
            return
        user = str(body.get("user_id") or "")
        if not is_channel_admin(self._web, user, self._runtime.settings.slack_admin_usergroup):
            log.info("slack channel change refused channel=%s user=%s", channel, user)
            say("Only workspace admins (or the Parley admin group) can change channel settings.")
            return
        new, reply = change_channel(current, rest)
        if new is not None:
            store.set_channel("slack", channel, new)
            log.info("slack channel settings changed channel=%s policy=%s", channel, new.policy)
        say(reply)

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


def render_hits(query: str, hits: Sequence[Mapping[str, Any]]) -> str:
    """Search results as Slack text: title (linked where possible) and a short excerpt."""
    if not hits:
        return f"Nothing in the knowledge base matches _{escape(query)}_."
    lines = [f"Results for _{escape(query)}_:"]
    for hit in hits:
        title = escape(str(hit.get("title") or hit.get("source") or "untitled")).replace("|", "/")
        url = str(hit.get("url") or "")
        label = f"<{url}|{title}>" if url.startswith(("https://", "http://")) else f"*{title}*"
        excerpt = " ".join(str(hit.get("text") or "").split())[:200]
        lines.append(f"• {label}: {escape(excerpt)}")
    return "\n".join(lines)


def knowledge_base_search(runtime: Runtime) -> KbSearch:
    """Search on the configured knowledge base, loaded in this process on first use."""
    from retrieval.factory import build_knowledge_base  # the embedder loads only when searched

    kb = build_knowledge_base(runtime.settings)

    def search(query: str, k: int) -> Sequence[Mapping[str, Any]]:
        return [hit.to_dict() for hit in kb.search(query, k=k)]

    return search
