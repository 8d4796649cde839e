"""`parley slack`: run the Slack adapter (Socket Mode or HTTP Events API)."""

from __future__ import annotations

import logging
from typing import Annotated

import typer

from bot.cli.common import err_console, get_settings, handle_errors
from workers.bootstrap import client_runtime

log = logging.getLogger(__name__)


def register(app: typer.Typer) -> None:
    """Add `parley slack` to the root app."""
    app.command("slack")(slack)


def slack(
    mode: Annotated[
        str | None, typer.Option(help="socket, http or auto (PARLEY_SLACK_MODE)")
    ] = None,
    host: Annotated[str | None, typer.Option(help="HTTP bind address (PARLEY_SLACK_HOST)")] = None,
    port: Annotated[int | None, typer.Option(help="HTTP port (PARLEY_SLACK_PORT)")] = None,
) -> None:
    """Connect Parley to Slack. Workers (`parley worker`) do the answering and delivery; with no
    PARLEY_REDIS_URL an embedded Redis and an in-process worker are started here."""
    handle_errors(_run)(mode, host, port)


def _run(mode: str | None, host: str | None, port: int | None) -> None:
    # Imported here so other commands never import the Slack SDK.
    from bot.slack.app import build_app
    from bot.slack.kb_search import knowledge_base_search
    from bot.slack.server import check_settings, connection_mode, serve_http, serve_socket_mode

    settings = get_settings(slack_mode=mode, slack_host=host, slack_port=port)
    chosen = connection_mode(settings)
    check_settings(settings, chosen)
    with client_runtime(settings, progress=lambda text: err_console.print(text)) as runtime:
        app = build_app(
            runtime.settings,
            runtime,
            kb_search=knowledge_base_search(runtime),
            http=chosen == "http",
        )
        if chosen == "http":
            s = runtime.settings
            err_console.print(f"Slack events: http://{s.slack_host}:{s.slack_port}{s.slack_path}")
            serve_http(app, runtime.settings)
        else:
            err_console.print("Slack: connecting over Socket Mode")
            serve_socket_mode(app, runtime.settings)
