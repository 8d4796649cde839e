"""Running the adapter process in one event loop: polling, or the webhook server."""

from __future__ import annotations

import asyncio
import logging
import re
import signal

from bot.errors import ConfigurationError
from bot.settings import Settings
from bot.telegram.app import ALLOWED_UPDATES, TelegramAdapter
from bot.telegram.webhook import webhook_server
from workers.runtime import Runtime

log = logging.getLogger(__name__)

SECRET_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,256}$")


def check_settings(settings: Settings) -> None:
    """Refuse to start with settings Telegram would reject (names the variable to fix)."""
    if settings.telegram_bot_token is None:
        raise ConfigurationError("PARLEY_TELEGRAM_BOT_TOKEN is not set (ask @BotFather for one)")
    if settings.telegram_mode != "webhook":
        return
    secret = settings.telegram_webhook_secret
    if secret is None or not SECRET_PATTERN.match(secret.get_secret_value()):
        raise ConfigurationError(
            "PARLEY_TELEGRAM_WEBHOOK_SECRET must be 1-256 characters of A-Z a-z 0-9 _ - "
            "in webhook mode"
        )
    url = settings.telegram_webhook_url
    if url is not None and not url.startswith("https://"):
        raise ConfigurationError("PARLEY_TELEGRAM_WEBHOOK_URL must be an https:// URL")


async def run_adapter(settings: Settings, runtime: Runtime) -> None:
    """Start the adapter and serve until SIGINT/SIGTERM, then stop cleanly."""
    check_settings(settings)
    adapter = TelegramAdapter(settings, runtime)
    await adapter.start()
    try:
        if settings.telegram_mode == "polling":
            await _poll_until_signal(adapter)
        else:
            secret = settings.telegram_webhook_secret
            assert secret is not None  # checked above
            if settings.telegram_webhook_url:
                await adapter.application.bot.set_webhook(
                    settings.telegram_webhook_url,
                    secret_token=secret.get_secret_value(),
                    allowed_updates=ALLOWED_UPDATES,
                    drop_pending_updates=False,
                )
            server = webhook_server(adapter, settings)
            log.info(
                "telegram webhook listening on %s:%d%s",
                settings.telegram_webhook_listen,
                settings.telegram_webhook_port,
                settings.telegram_webhook_path,
            )
            await server.serve()  # uvicorn handles SIGINT/SIGTERM itself
    finally:
        await adapter.stop()


async def _poll_until_signal(adapter: TelegramAdapter) -> None:
    loop = asyncio.get_running_loop()
    task = asyncio.create_task(adapter.poll(), name="parley-poll")
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, task.cancel)
    try:
        await task
    except asyncio.CancelledError:
        log.info("telegram polling stopped")
