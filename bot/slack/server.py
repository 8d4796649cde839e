"""Serving the bolt App: HTTP Events API (bolt's WSGI adapter on waitress) or Socket Mode.

`SlackWsgiApp` is bolt's WSGI handler plus two things Slack's endpoint needs and bolt lacks: a
body that is not valid JSON gets a 400 instead of a server error, and `GET /healthz` answers
for load balancers. Request signatures and timestamps are verified by bolt itself.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING

from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_bolt.adapter.wsgi import SlackRequestHandler

from bot.errors import ConfigurationError
from bot.settings import Settings

if TYPE_CHECKING:
    from wsgiref.types import StartResponse, WSGIEnvironment

log = logging.getLogger(__name__)

HEALTH_PATH = "/healthz"


def _plain(start_response: StartResponse, status: str, text: str) -> list[bytes]:
    body = text.encode()
    headers = [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body)))]
    start_response(status, headers)
    return [body]


class SlackWsgiApp:
    """The Events API endpoint as a WSGI application."""

    def __init__(self, app: App, path: str) -> None:
        self._handler = SlackRequestHandler(app, path=path)

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") == "GET" and environ.get("PATH_INFO") == HEALTH_PATH:
            return _plain(start_response, "200 OK", "ok")
        try:
            return self._handler(environ, start_response)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            # bolt parses the body before it checks the signature; a broken body is a 400.
            log.warning("slack request with a malformed body refused: %s", exc)
            return _plain(start_response, "400 Bad Request", "malformed body")


def connection_mode(settings: Settings) -> str:
    """`socket` or `http`: `auto` picks Socket Mode when an app-level token is set."""
    if settings.slack_mode != "auto":
        return settings.slack_mode
    return "socket" if settings.slack_app_token is not None else "http"


def check_settings(settings: Settings, mode: str) -> None:
    """Fail early, naming the variable, when a mode's credentials are missing."""
    if settings.slack_bot_token is None:
        raise ConfigurationError("Set PARLEY_SLACK_BOT_TOKEN (the xoxb- bot token)")
    if mode == "socket" and settings.slack_app_token is None:
        raise ConfigurationError("Socket Mode needs PARLEY_SLACK_APP_TOKEN (xapp-...)")
    if mode == "http" and settings.slack_signing_secret is None:
        raise ConfigurationError("The HTTP Events API needs PARLEY_SLACK_SIGNING_SECRET")


def serve_http(app: App, settings: Settings) -> None:
    """Serve the endpoint with waitress on PARLEY_SLACK_HOST:PARLEY_SLACK_PORT (blocks)."""
    import waitress

    log.info(
        "slack events endpoint on http://%s:%d%s",
        settings.slack_host,
        settings.slack_port,
        settings.slack_path,
    )
    waitress.serve(
        SlackWsgiApp(app, settings.slack_path),
        host=settings.slack_host,
        port=settings.slack_port,
        threads=settings.slack_http_threads,
        ident="parley",
    )


def socket_mode_handler(app: App, settings: Settings) -> SocketModeHandler:
    """bolt's Socket Mode handler (slack_sdk's built-in client; it reconnects on its own)."""
    token = settings.slack_app_token
    if token is None:
        raise ConfigurationError("Socket Mode needs PARLEY_SLACK_APP_TOKEN")
    return SocketModeHandler(app, app_token=token.get_secret_value())


def serve_socket_mode(app: App, settings: Settings) -> None:
    """Connect over Socket Mode (no public URL needed) and block."""
    log.info("slack socket mode connecting")
    socket_mode_handler(app, settings).start()  # type: ignore[no-untyped-call]
