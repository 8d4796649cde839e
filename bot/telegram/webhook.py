"""The webhook endpoint: a small ASGI app served by uvicorn in the adapter's event loop.

Telegram resends an update until it gets a 2xx, so the app answers 200 only after the update is in
the durable inbox, and 503 when that fails (Telegram will redeliver). The `secret_token` header is
compared in constant time (PTB's own webhook server compares with `!=` and acknowledges before
any handler ran, which is why Parley does not use it).
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import redis
import uvicorn

from bot.errors import InvalidInputError
from bot.settings import Settings
from bot.telegram.app import TelegramAdapter

log = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

SECRET_HEADER = b"x-telegram-bot-api-secret-token"
MAX_BODY_BYTES = 1 << 20  # Telegram's updates are far smaller; refuse anything bigger


def secret_matches(expected: str, given: bytes | None) -> bool:
    """Constant-time comparison of the secret_token header (missing header: no match)."""
    if given is None:
        return False
    return hmac.compare_digest(expected.encode(), given)


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return bytes(value)
    return None


async def _respond(send: Send, status: int, body: str = "") -> None:
    payload = json.dumps({"ok": 200 <= status < 300, "description": body}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})


async def _read_body(receive: Receive) -> bytes | None:
    """The request body, or None when it exceeds MAX_BODY_BYTES."""
    chunks, size, more = [], 0, True
    while more:
        message = await receive()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            return None
        chunks.append(chunk)
        more = bool(message.get("more_body", False))
    return b"".join(chunks)


class TelegramWebhook:
    """ASGI app: POST <path> with the secret header -> admit -> 200; GET /healthz -> 200."""

    def __init__(self, adapter: TelegramAdapter, *, secret: str, path: str) -> None:
        self._adapter = adapter
        self._secret = secret
        self._path = path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        if scope["type"] != "http":
            return
        if scope["path"] == "/healthz" and scope["method"] == "GET":
            await _respond(send, 200, "ok")
            return
        if scope["path"] != self._path:
            await _respond(send, 404, "not found")
            return
        if scope["method"] != "POST":
            await _respond(send, 405, "POST only")
            return
        if not secret_matches(self._secret, _header(scope, SECRET_HEADER)):
            log.warning("webhook request with a missing or wrong secret refused")
            await _respond(send, 403, "forbidden")
            return
        body = await _read_body(receive)
        if body is None:
            await _respond(send, 413, "too large")
            return
        status, reason = await self.accept(body)
        await _respond(send, status, reason)

    async def accept(self, body: bytes) -> tuple[int, str]:
        """Admit one request body: (HTTP status, reason). 200 only once it is durably stored."""
        try:
            raw = json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError):
            return 400, "malformed JSON"
        if not isinstance(raw, dict) or not isinstance(raw.get("update_id"), int):
            return 400, "not a Telegram update"
        try:
            update = self._adapter.admit(raw)
        except InvalidInputError as exc:
            return 400, str(exc)
        except redis.RedisError as exc:
            log.error("update %s not stored, Telegram will resend it: %s", raw["update_id"], exc)
            return 503, "storage unavailable"
        if update is not None:
            await self._adapter.dispatch(update)
        return 200, "ok"


def webhook_server(adapter: TelegramAdapter, settings: Settings) -> uvicorn.Server:
    """A uvicorn server for the webhook (run with `await server.serve()` in the adapter's loop)."""
    if settings.telegram_webhook_secret is None:
        raise InvalidInputError("PARLEY_TELEGRAM_WEBHOOK_SECRET is required in webhook mode")
    app = TelegramWebhook(
        adapter,
        secret=settings.telegram_webhook_secret.get_secret_value(),
        path=settings.telegram_webhook_path,
    )
    config = uvicorn.Config(
        app,
        host=settings.telegram_webhook_listen,
        port=settings.telegram_webhook_port,
        log_level="warning",
        access_log=False,
        lifespan="off",
    )
    return uvicorn.Server(config)
