"""The "Fix translation" message shortcut and its modal (workers/corrections.py, docs/slack.md).

- shortcut `parley_fix_translation` on a message: ack; when the message is a translation Parley
  posted (`find_posted_translation`), `views.open` a modal with the click's `trigger_id`,
  prefilled with the translation as shown now; otherwise (or when `PARLEY_TRANSLATION_FIXERS=agents`
  and the user is no support agent) the user is told why, ephemerally;
- its submission (`parley_fix_translation_view`): `response_action: errors` for an empty or
  too-long text; else `apply_correction` (recorded once on the learning stream, redacted), the
  edit of the posted translation goes to `parley.deliver_reply`, the modal closes, and the user
  is told ephemerally (in the translation's thread) that it was corrected, or that nothing
  changed.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from typing import Any, cast

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackClientError

from bot.errors import InvalidInputError
from bot.slack.corrections_render import FIX_BLOCK, FIX_VIEW, INPUT_LIMIT, fix_view
from bot.slack.review_render import view_value
from bot.slack.web import is_ts
from workers.app import DELIVER_REPLY, send
from workers.corrections import AGENTS_ONLY, apply_correction, find_posted_translation, may_fix
from workers.runtime import Runtime

log = logging.getLogger(__name__)

SHORTCUT_FIX = "parley_fix_translation"
UNAVAILABLE = "Sorry, Parley could not do that right now; please try again in a moment."
NOT_OPENED = "Sorry, the dialog could not be opened; please use *Fix translation* again."
CORRECTED = (
    "Thanks! The translation now shows your correction for everyone. "
    "Parley learns from corrections like yours."
)
UNCHANGED = "Nothing changed: the text you saved is the translation as it is shown now."

Tell = Callable[[str], None]


def known_for(seconds: int) -> str:
    """`dedupe_ttl` in words: "2 days", "12 hours", "30 minutes"."""
    if seconds >= 2 * 86_400:
        return f"{seconds // 86_400} days"
    if seconds >= 2 * 3600:
        return f"{seconds // 3600} hours"
    return f"{max(1, seconds // 60)} minutes"


class CorrectionListeners:
    """What the shortcut and its modal do (kept out of bolt for direct tests)."""

    def __init__(self, runtime: Runtime, web: WebClient) -> None:
        self.runtime = runtime
        self.web = web

    def not_known(self) -> str:
        days = known_for(self.runtime.settings.dedupe_ttl)
        return (
            f"Parley can only fix its own translations from the last {days}, and this message "
            "is not one of them. To read a message in your language, use *Translate for me*."
        )

    def open_modal(self, body: Mapping[str, Any], tell: Tell) -> bool:
        """The shortcut on a message: open the modal (True), or tell the user why not."""
        channel = str((body.get("channel") or {}).get("id") or "")
        message = body.get("message") or {}
        ts = str(message.get("ts") or body.get("message_ts") or "")
        settings = self.runtime.settings
        posted = find_posted_translation(self.runtime.redis, settings, "slack", channel, ts)
        if posted is None:
            tell(self.not_known())
            return False
        user = str((body.get("user") or {}).get("id") or "")
        if not may_fix(self.runtime.redis, settings, f"slack:{user}"):
            tell(f"{AGENTS_ONLY}.")
            return False
        if len(posted.text) > INPUT_LIMIT:
            tell(
                f"This translation is too long to fix in Slack: a Slack form takes at most "
                f"{INPUT_LIMIT} characters."
            )
            return False
        try:
            self.web.views_open(trigger_id=str(body.get("trigger_id") or ""), view=fix_view(posted))
        except SlackClientError as exc:
            log.warning("slack views.open failed channel=%s ts=%s: %s", channel, ts, exc)
            tell(NOT_OPENED)
            return False
        return True

    def submit(self, body: Mapping[str, Any]) -> tuple[dict[str, str], str, str]:
        """A modal submitted: (field errors, or {} to close; what to tell the user; the
        thread to tell it in)."""
        view = cast(dict[str, Any], body.get("view") or {})
        meta = json.loads(view.get("private_metadata") or "{}")
        channel, ts = str(meta.get("channel") or ""), str(meta.get("ts") or "")
        user = str((body.get("user") or {}).get("id") or "")
        settings = self.runtime.settings
        posted = find_posted_translation(self.runtime.redis, settings, "slack", channel, ts)
        if posted is None:
            return {FIX_BLOCK: self.not_known()}, "", ""
        try:
            edit = apply_correction(
                self.runtime.redis,
                settings,
                posted,
                view_value(view, FIX_BLOCK),
                user=f"slack:{user}",
            )
        except InvalidInputError as exc:
            return {FIX_BLOCK: f"{exc}."}, "", ""
        if edit is None:
            return {}, UNCHANGED, posted.thread
        send(self.runtime.app, DELIVER_REPLY, {"outgoing": edit.to_dict()}, settings)
        log.info("slack translation corrected channel=%s ts=%s by %s", channel, ts, user)
        return {}, CORRECTED, posted.thread

    def tell(
        self,
        channel: str,
        user: str,
        text: str,
        *,
        thread: str = "",
        respond: Respond | None = None,
    ) -> None:
        """An ephemeral line to `user` in `channel` (in `thread` when it is one); through the
        shortcut's `response_url` when Slack refuses it (e.g. Parley is not in the channel)."""
        if not text:
            return
        try:
            thread_ts = thread if is_ts(thread) else None
            self.web.chat_postEphemeral(channel=channel, user=user, text=text, thread_ts=thread_ts)
            return
        except SlackClientError as exc:
            log.warning("slack correction ephemeral failed channel=%s: %s", channel, exc)
        if respond is not None:
            try:
                respond(text=text, response_type="ephemeral", replace_original=False)
            except Exception as exc:  # the response_url expired: the log is all that is left
                log.warning("slack correction response_url failed: %s", exc)


def register_correction_listeners(app: App, listeners: CorrectionListeners) -> None:
    """Attach the shortcut and its modal's submission."""

    def on_shortcut(ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        ack()
        channel = str((body.get("channel") or {}).get("id") or "")
        user = str((body.get("user") or {}).get("id") or "")
        thread = str((body.get("message") or {}).get("thread_ts") or "")

        def tell(text: str) -> None:
            listeners.tell(channel, user, text, thread=thread, respond=respond)

        try:
            listeners.open_modal(body, tell)
        except Exception as exc:  # Redis away: the user may try again
            log.error("slack fix shortcut failed: %s", exc, exc_info=exc)
            tell(UNAVAILABLE)

    def on_submit(ack: Ack, body: dict[str, Any]) -> None:
        try:
            errors, note, thread = listeners.submit(body)
        except Exception as exc:  # keep the modal open with what the user typed
            log.error("slack fix submission failed: %s", exc, exc_info=exc)
            errors, note, thread = {FIX_BLOCK: UNAVAILABLE}, "", ""
        if errors:
            ack(response_action="errors", errors=errors)
            return
        ack()
        meta = json.loads((body.get("view") or {}).get("private_metadata") or "{}")
        user = str((body.get("user") or {}).get("id") or "")
        listeners.tell(str(meta.get("channel") or ""), user, note, thread=thread)

    app.shortcut(SHORTCUT_FIX)(on_shortcut)
    app.view(FIX_VIEW)(on_submit)
