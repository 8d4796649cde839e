"""The bolt App: listeners that normalise, deduplicate through intake, and acknowledge.

Events are acknowledged only once they are enqueued (`process_before_response=True`): the
listener hands the event to intake through `IntakeGate` (at most `PARLEY_SLACK_INTAKE_TIMEOUT`
seconds) and bolt answers 200 when that succeeded. When Redis or the broker fail or are slow,
the listener raises `IntakeUnavailable` and the `app.error` handler makes bolt answer 503 (in
Socket Mode: no ack), so Slack delivers the event again. Slash commands and shortcuts are
acknowledged at once as before; an enqueue that fails there is logged and the user is told
(ephemerally) to try again. Work happens in Celery, delivery from the io queue. What each
listener does is `bot.slack.listeners`; this module builds the App and registers them.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from pydantic import SecretStr
from slack_bolt import Ack, App, BoltContext, BoltResponse, Respond
from slack_bolt.error import BoltError
from slack_sdk import WebClient
from slack_sdk.errors import SlackClientError

from bot.errors import ConfigurationError
from bot.settings import Settings
from bot.slack.command_text import parse_command
from bot.slack.commands import UNAVAILABLE, Accept
from bot.slack.corrections import CorrectionListeners, register_correction_listeners
from bot.slack.intake import IntakeUnavailable
from bot.slack.kb_search import KbSearch
from bot.slack.listeners import SlackListeners
from bot.slack.review import ReviewListeners, register_review_listeners
from bot.slack.web import build_web_client
from workers.intake import accept_message
from workers.runtime import Runtime

log = logging.getLogger(__name__)

SHORTCUT_TRANSLATE = "translate_for_me"
COMMAND = "/parley"
SLOW_COMMANDS = frozenset({"channel", "kb", "review"})


def build_app(
    settings: Settings,
    runtime: Runtime,
    *,
    web: WebClient | None = None,
    accept: Accept = accept_message,
    kb_search: KbSearch | None = None,
    http: bool = True,
    process_before_response: bool = True,
) -> App:
    """The bolt App. `http` turns on request signature checks (Socket Mode has no signatures).

    By default (`process_before_response=True`) an event is answered 200 only once it was
    enqueued, and 503 when that failed or took longer than `slack_intake_timeout`, so Slack
    redelivers it. `process_before_response=False` answers first and enqueues afterwards (an
    event is lost if that fails): only the benchmark's baseline uses it.
    """
    web = web or build_web_client(settings)
    secret = settings.slack_signing_secret
    if http and secret is None:
        raise ConfigurationError("The HTTP Events API needs PARLEY_SLACK_SIGNING_SECRET")
    try:
        app = _new_app(settings, web, secret, http=http, inline=process_before_response)
    except (BoltError, SlackClientError, OSError) as exc:  # auth.test runs here
        raise ConfigurationError(
            f"Slack did not accept PARLEY_SLACK_BOT_TOKEN at {settings.slack_api_url}: {exc}"
        ) from exc
    listeners = SlackListeners(runtime, web, accept=accept, kb_search=kb_search)
    register_listeners(app, listeners)
    return app


def _new_app(
    settings: Settings, web: WebClient, secret: SecretStr | None, *, http: bool, inline: bool
) -> App:
    return App(
        client=web,
        signing_secret=secret.get_secret_value() if secret else "unused-in-socket-mode",
        request_verification_enabled=http,
        process_before_response=inline,
        raise_error_for_unhandled_request=False,
        listener_executor=ThreadPoolExecutor(
            max_workers=settings.slack_http_threads, thread_name_prefix="parley-slack"
        ),
        logger=logging.getLogger("bot.slack.bolt"),
    )


def on_listener_error(error: Exception, body: dict[str, Any]) -> BoltResponse | None:
    """bolt's error handler: an event that could not be enqueued gets 503, so Slack retries it.

    Socket Mode acknowledges only a 200, so there the envelope stays unacknowledged and Slack
    sends it again. Any other error keeps bolt's 500 (Slack retries that too)."""
    if isinstance(error, IntakeUnavailable):
        retry = body.get("event_id") if isinstance(body, dict) else None
        log.warning("slack event %s not enqueued, Slack will redeliver it: %s", retry, error)
        return BoltResponse(status=503, body="intake unavailable, retry later")
    log.error("slack listener failed: %s", error, exc_info=error)
    return None


def register_listeners(app: App, listeners: SlackListeners) -> None:
    """Attach Parley's listeners to `app`; the most specific ones come first."""
    app.error(on_listener_error)
    register_review_listeners(app, ReviewListeners(listeners.runtime, listeners.web))
    register_correction_listeners(app, CorrectionListeners(listeners.runtime, listeners.web))

    def on_event(body: dict[str, Any], context: BoltContext) -> None:
        # Raises IntakeUnavailable -> on_listener_error -> 503 (events are acked on return).
        listeners.on_event(body, context.bot_user_id or "")

    app.event("message")(on_event)
    app.event("app_mention")(on_event)

    def ack_command(ack: Ack, body: dict[str, Any]) -> None:
        name, rest = parse_command(str(body.get("text") or ""))
        if name in SLOW_COMMANDS and rest:
            ack()  # these wait on Slack (users.info) or the knowledge base: answered by later
            return
        replies: list[str] = []
        listeners.commands.run(body, _ack_once(ack, replies))
        if not replies:
            ack()

    def run_slow_command(body: dict[str, Any], respond: Respond) -> None:
        name, rest = parse_command(str(body.get("text") or ""))
        if name not in SLOW_COMMANDS or not rest:
            return

        def later(text: str) -> None:
            respond(text=text, response_type="ephemeral", replace_original=False)

        listeners.commands.run(body, later)

    app.command(COMMAND)(ack=ack_command, lazy=[run_slow_command])

    def ack_shortcut(ack: Ack) -> None:
        ack()

    def run_shortcut(body: dict[str, Any], respond: Respond) -> None:
        try:
            listeners.on_shortcut(body)
        except IntakeUnavailable as exc:
            log.warning("slack shortcut %s not enqueued: %s", body.get("trigger_id"), exc)
            respond(text=UNAVAILABLE, response_type="ephemeral", replace_original=False)

    app.shortcut(SHORTCUT_TRANSLATE)(ack=ack_shortcut, lazy=[run_shortcut])

    @app.event(re.compile(".*"))
    def on_other_event(body: dict[str, Any]) -> None:
        log.debug("slack event type %s ignored", (body.get("event") or {}).get("type"))

    @app.action(re.compile(".*"))
    def on_action(ack: Ack, body: dict[str, Any]) -> None:
        ack()
        log.info("slack action without a handler: %s", body.get("type"))


def _ack_once(ack: Ack, replies: list[str]) -> Callable[[str], None]:
    """First reply acknowledges the command (within 3 s); later ones go to the response_url."""

    def say(text: str) -> None:
        if not replies:
            ack(text=text, response_type="ephemeral")
        replies.append(text)

    return say
