"""`/parley channel ...`: show a channel's settings, and change them for admins.

Changing channel settings needs a workspace admin or owner, or a member of
`PARLEY_SLACK_ADMIN_USERGROUP`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.slack.command_text import parse_command, parse_languages
from bot.slack.render import escape
from bot.slack.review_commands import parse_review_destination
from workers.preferences import ChannelSettings, Policy
from workers.runtime import Runtime

log = logging.getLogger(__name__)

MODES: dict[str, Policy] = {"answer": "answer", "review": "review", "off": "off"}


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


def channel_command(
    runtime: Runtime, web: WebClient, body: Mapping[str, Any], rest: str, say: Callable[[str], None]
) -> None:
    """`/parley channel [<change>]`: describe the channel, or change it when the user may."""
    channel = str(body.get("channel_id") or "")
    store = runtime.preferences
    current = store.channel("slack", channel)
    if not rest:
        say(describe_channel(current))
        return
    user = str(body.get("user_id") or "")
    if not is_channel_admin(web, user, runtime.settings.slack_admin_usergroup):
        log.info("slack channel change refused channel=%s user=%s", channel, user)
        say("Only workspace admins (or the Parley admin group) can change channel settings.")
        return
    new, reply = change_channel(current, rest)
    if new is not None:
        store.set_channel("slack", channel, new)
        log.info("slack channel settings changed channel=%s policy=%s", channel, new.policy)
    say(reply)
