"""Review card buttons and modals in Slack (docs/review.md).

- `review:approve`: ack, `decide`, then the outcome to the clicking agent (ephemeral, through
  the action's `response_url`);
- `review:edit` / `review:reject`: ack, check the agent may decide, open a modal (`views.open`
  with the click's `trigger_id`); its submission (`review_edit` / `review_reject`) calls
  `decide` and answers `response_action: errors` for an empty or too-long text, else closes the
  modal and tells the agent the outcome with `chat.postEphemeral` in the card's channel.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any, cast

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.slack.review_render import EDIT_VIEW, REJECT_VIEW, edit_view, reject_view, view_value
from workers.review import Agent, DecisionResult, decide
from workers.review.decide import check, review_store
from workers.runtime import Runtime

log = logging.getLogger(__name__)

UNAVAILABLE = "Sorry, Parley could not record that right now; please try again in a moment."


def slack_agent(runtime: Runtime, body: Mapping[str, Any]) -> Agent:
    """The clicking user as an `Agent` (language: their `/parley lang`, if set)."""
    user = body.get("user") or {}
    uid = str(user.get("id") or "")
    name = str(user.get("name") or user.get("username") or uid)
    return Agent("slack", uid, name=name, language=runtime.preferences.user("slack", uid).language)


def _action(body: Mapping[str, Any]) -> tuple[str, str]:
    actions = body.get("actions") or [{}]
    return str(actions[0].get("action_id") or ""), str(actions[0].get("value") or "")


def _channel(body: Mapping[str, Any]) -> str:
    channel = (body.get("channel") or {}).get("id")
    return str(channel or (body.get("container") or {}).get("channel_id") or "")


class ReviewListeners:
    """What each review listener does (kept out of bolt for direct tests)."""

    def __init__(self, runtime: Runtime, web: WebClient) -> None:
        self.runtime = runtime
        self.web = web

    def approve(self, body: Mapping[str, Any]) -> DecisionResult:
        _, review_id = _action(body)
        agent = slack_agent(self.runtime, body)
        result = decide(self.runtime, review_id=review_id, decision="approve", agent=agent)
        log.info("slack review %s approve by %s: %s", review_id, agent.user, result.status)
        return result

    def open_modal(self, body: Mapping[str, Any]) -> DecisionResult:
        """Edit or Reject clicked: open its modal when the agent may decide; the refusal
        otherwise."""
        action, review_id = _action(body)
        agent = slack_agent(self.runtime, body)
        allowed = check(self.runtime, review_id=review_id, agent=agent)
        if not allowed.ok:
            return allowed
        review = review_store(self.runtime).get(allowed.review_id)
        if review is None:
            return DecisionResult(False, "unknown", "This review is unknown.", review_id)
        channel = _channel(body)
        if action.endswith("edit"):
            draft = str(review.data.get("draft_text") or "")
            language = str(review.data.get("customer_language") or "")
            view = edit_view(allowed.review_id, channel, draft, language)
        else:
            view = reject_view(allowed.review_id, channel)
        try:
            self.web.views_open(trigger_id=str(body.get("trigger_id") or ""), view=view)
        except SlackApiError as exc:
            error = exc.response.get("error")
            log.warning("slack views.open failed review=%s: %s", review_id, error)
            message = "Sorry, the dialog could not be opened; please click again."
            return DecisionResult(False, "pending", message, review_id)
        return allowed

    def submit(self, body: Mapping[str, Any]) -> tuple[DecisionResult, dict[str, str]]:
        """A modal submitted: the decision, and the field errors to show (empty: close)."""
        view = cast(dict[str, Any], body.get("view") or {})
        meta = json.loads(view.get("private_metadata") or "{}")
        agent = slack_agent(self.runtime, body)
        text = view_value(view, "answer")
        if view.get("callback_id") == EDIT_VIEW:
            result = decide(
                self.runtime,
                review_id=str(meta.get("review_id") or ""),
                decision="edit",
                agent=agent,
                text=text,
            )
        else:
            reason = view_value(view, "reason")
            result = decide(
                self.runtime,
                review_id=str(meta.get("review_id") or ""),
                decision="reject",
                agent=agent,
                text=text,
                reason=reason,
            )
        if result.invalid:
            block = "answer" if result.invalid == "text" else result.invalid
            return result, {block: result.message}
        self.tell(str(meta.get("channel") or ""), agent.user, result.message)
        return result, {}

    def tell(self, channel: str, user: str, text: str) -> None:
        """An ephemeral line to `user` in `channel` (logged when Slack refuses it)."""
        if not channel or not text:
            return
        try:
            self.web.chat_postEphemeral(channel=channel, user=user, text=text)
        except SlackApiError as exc:
            log.warning("slack review ephemeral failed: %s", exc.response.get("error"))


def _unavailable(body: Mapping[str, Any], exc: Exception) -> DecisionResult:
    log.error("slack review action failed (%s): %s", body.get("type"), exc, exc_info=exc)
    return DecisionResult(False, "unknown", UNAVAILABLE, _action(body)[1])


def register_review_listeners(app: App, listeners: ReviewListeners) -> None:
    """Attach the review listeners (before any catch-all action listener)."""

    def say(respond: Respond, text: str) -> None:
        if text:
            respond(text=text, response_type="ephemeral", replace_original=False)

    def on_approve(ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        ack()
        try:
            result = listeners.approve(body)
        except Exception as exc:  # Redis or the broker away: the agent may click again
            result = _unavailable(body, exc)
        say(respond, result.message)

    def on_modal(ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        ack()
        try:
            result = listeners.open_modal(body)
        except Exception as exc:
            result = _unavailable(body, exc)
        if not result.ok:
            say(respond, result.message)

    def on_submit(ack: Ack, body: dict[str, Any]) -> None:
        try:
            result, errors = listeners.submit(body)
        except Exception as exc:  # keep the modal open with what the agent typed
            result, errors = _unavailable(body, exc), {"answer": UNAVAILABLE}
        if errors:
            ack(response_action="errors", errors=errors)
        else:
            ack()
        log.info("slack review %s submitted: %s", result.review_id, result.status)

    app.action("review:approve")(on_approve)
    app.action("review:edit")(on_modal)
    app.action("review:reject")(on_modal)
    app.view(EDIT_VIEW)(on_submit)
    app.view(REJECT_VIEW)(on_submit)
