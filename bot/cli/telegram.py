"""`parley telegram`: run the Telegram adapter (long polling or webhook)."""

from __future__ import annotations

import asyncio
import importlib
from typing import Annotated, Any

import typer

from bot.cli.common import get_settings, handle_errors
from bot.errors import ConfigurationError
from workers.bootstrap import check_services
from workers.runtime import configure


def telegram(
    mode: Annotated[
        str | None, typer.Option(help="polling or webhook (default: PARLEY_TELEGRAM_MODE)")
    ] = None,
    listen: Annotated[
        str | None, typer.Option(help="Webhook address (PARLEY_TELEGRAM_WEBHOOK_LISTEN)")
    ] = None,
    port: Annotated[
        int | None, typer.Option(help="Webhook port (PARLEY_TELEGRAM_WEBHOOK_PORT)")
    ] = None,
) -> None:
    """Run the Telegram bot: receive updates, enqueue them durably for the workers."""
    handle_errors(_run)(mode, listen, port)


def _run(mode: str | None, listen: str | None, port: int | None) -> None:
    settings = get_settings(
        telegram_mode=mode, telegram_webhook_listen=listen, telegram_webhook_port=port
    )
    if settings.embedded:
        raise ConfigurationError(
            "parley telegram needs PARLEY_REDIS_URL: the Redis your `parley worker`s use"
        )
    check_services(settings)
    runtime = configure(settings)
    # Imported here so `parley --help` does not load the Telegram SDK.
    run: Any = importlib.import_module("bot.telegram.run")
    asyncio.run(run.run_adapter(settings, runtime))


def register(app: typer.Typer) -> None:
    """Add `parley telegram` to the root app."""
    app.command("telegram")(telegram)
