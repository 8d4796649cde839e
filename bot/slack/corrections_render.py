"""Block Kit for the "Fix translation" modal (bot/slack/corrections.py)."""

from __future__ import annotations

import json
from typing import Any

from bot.slack.render import escape
from workers.corrections import PostedTranslation

FIX_VIEW = "parley_fix_translation_view"
FIX_BLOCK = "translation"  # the input block; its element's action_id is "text" (view_value)
INPUT_LIMIT = 3000  # Slack's maximum for a plain_text_input
ORIGINAL_LIMIT = 1200  # characters of the original shown above the input


def _quote(text: str, limit: int = ORIGINAL_LIMIT) -> str:
    """`text` as an escaped mrkdwn quote, cut at a line or word near `limit`."""
    if len(text) > limit:
        cut = text[:limit]
        space = max(cut.rfind("\n"), cut.rfind(" "))
        text = (cut[:space] if space > limit // 2 else cut).rstrip() + " …"
    return "\n".join("> " + escape(line) if line else ">" for line in text.splitlines() or [""])


def fix_view(posted: PostedTranslation) -> dict[str, Any]:
    """The modal: the original (context) and the translation to correct, prefilled."""
    source = posted.source_language or "?"
    target = posted.target_language
    original = f"*Original* ({escape(source)})\n{_quote(posted.source_text)}"
    element: dict[str, Any] = {
        "type": "plain_text_input",
        "action_id": "text",
        "multiline": True,
        "max_length": INPUT_LIMIT,
        "initial_value": posted.text[:INPUT_LIMIT],
    }
    hint = (
        "Your correction replaces the translation for everyone in the channel, "
        "and Parley learns from it."
    )
    blocks: list[dict[str, Any]] = [
        {"type": "context", "elements": [{"type": "mrkdwn", "text": original}]},
        {
            "type": "input",
            "block_id": FIX_BLOCK,
            "label": {"type": "plain_text", "text": f"Translation ({target})"},
            "element": element,
            "hint": {"type": "plain_text", "text": hint},
        },
    ]
    return {
        "type": "modal",
        "callback_id": FIX_VIEW,
        "private_metadata": json.dumps({"channel": posted.channel, "ts": posted.message_id}),
        "title": {"type": "plain_text", "text": "Fix translation"},
        "submit": {"type": "plain_text", "text": "Save"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": blocks,
    }
