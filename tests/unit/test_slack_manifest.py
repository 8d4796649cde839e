"""The app manifest asks for exactly what the adapter uses."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from bot.slack.app import COMMAND, SHORTCUT_TRANSLATE
from bot.slack.corrections import SHORTCUT_FIX

MANIFEST = Path(__file__).resolve().parents[2] / "bot" / "slack" / "manifest.yml"


def _manifest() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(MANIFEST.read_text())
    return data


def test_scopes_and_events_are_exactly_those_used() -> None:
    data = _manifest()
    assert sorted(data["oauth_config"]["scopes"]["bot"]) == sorted(
        [
            "app_mentions:read",
            "channels:history",
            "groups:history",
            "im:history",
            "mpim:history",
            "chat:write",
            "commands",
            "users:read",
            "usergroups:read",
        ]
    )
    assert sorted(data["settings"]["event_subscriptions"]["bot_events"]) == [
        "app_mention",
        "message.channels",
        "message.groups",
        "message.im",
    ]


def test_command_and_shortcut_match_the_listeners() -> None:
    data = _manifest()
    assert [c["command"] for c in data["features"]["slash_commands"]] == [COMMAND]
    shortcuts = data["features"]["shortcuts"]
    assert [s["callback_id"] for s in shortcuts] == [SHORTCUT_TRANSLATE, SHORTCUT_FIX]
    assert all(s["type"] == "message" and len(s["description"]) <= 80 for s in shortcuts)
    assert data["settings"]["interactivity"]["is_enabled"] is True
    assert data["settings"]["socket_mode_enabled"] is True
