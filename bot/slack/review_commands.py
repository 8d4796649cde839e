"""`/parley review ...` (support agents) and the review destination of `/parley channel`."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from bot.slack.render import escape
from workers.review import Agent, agent_command
from workers.review.agents import add_agent, remove_agent
from workers.review.card import parse_destination
from workers.runtime import Runtime

CHANNEL_MENTION = re.compile(r"^<#(C[A-Z0-9]+)(\|[^>]*)?>$")
USER_MENTION = re.compile(r"^<@([UW][A-Z0-9]+)(\|[^>]*)?>$")
USAGE = "Usage: `/parley review pending`, `review take ID` or `review history ID`"


def parse_review_destination(text: str) -> str | None:
    """`slack:C0REVIEW`, `telegram:-1001234` or a `#channel` mention -> the destination."""
    text = text.strip()
    mention = CHANNEL_MENTION.match(text)
    if mention:
        return f"slack:{mention.group(1)}"
    return text if parse_destination(text) is not None else None


def review_command(
    runtime: Runtime, body: Mapping[str, Any], rest: str, *, is_admin: Callable[[str], bool]
) -> str:
    """The Slack reply to `/parley review <rest>` (escaped plain text or a usage line)."""
    user = str(body.get("user_id") or "")
    agent = Agent("slack", user, name=str(body.get("user_name") or user))
    words = rest.split(maxsplit=1)
    action = words[0].lower() if words else ""
    arg = words[1].strip() if len(words) > 1 else ""
    if action == "agents":
        return _agents(runtime, user, arg, is_admin)
    if action == "pending":
        return escape(agent_command(runtime, agent, "pending"))
    if action == "take":
        return escape(agent_command(runtime, agent, "take", arg))
    if action == "history":
        return escape(agent_command(runtime, agent, "history", arg))
    return USAGE


def _agents(runtime: Runtime, user: str, args: str, is_admin: Callable[[str], bool]) -> str:
    words = args.split(maxsplit=1)
    mention = USER_MENTION.match(words[1].strip()) if len(words) == 2 else None
    if not words or words[0].lower() not in ("add", "remove") or mention is None:
        return "Usage: `/parley review agents add|remove @user`"
    if not is_admin(user):
        return "Only workspace admins (or the Parley admin group) can manage agents."
    who = mention.group(1)
    if words[0].lower() == "add":
        add_agent(runtime.settings, runtime.redis, f"slack:{who}")
        return f"<@{who}> can now review drafts."
    remove_agent(runtime.settings, runtime.redis, f"slack:{who}")
    return f"<@{who}> no longer reviews drafts (unless listed in PARLEY_REVIEW_AGENTS)."
