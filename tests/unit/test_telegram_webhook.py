"""The webhook ASGI app called directly (no network): secret, bad input, storage failures."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import redis

from bot.errors import InvalidInputError
from bot.telegram.webhook import TelegramWebhook
from tests import fake_telegram as tg

SECRET = "s3cret-Token_1"
PATH = "/telegram/webhook"


class StubAdapter:
    """Stands in for TelegramAdapter: records what was admitted and dispatched."""

    def __init__(self, fail: Exception | None = None) -> None:
        self.fail = fail
        self.admitted: list[dict[str, Any]] = []
        self.dispatched: list[Any] = []

    def admit(self, raw: dict[str, Any]) -> Any:
        if self.fail is not None:
            raise self.fail
        seen = any(r["update_id"] == raw["update_id"] for r in self.admitted)
        self.admitted.append(raw)
        return None if seen else raw

    async def dispatch(self, update: Any) -> None:
        self.dispatched.append(update)


def call(
    adapter: StubAdapter,
    body: bytes,
    *,
    secret: str | None = SECRET,
    path: str = PATH,
    method: str = "POST",
) -> tuple[int, dict[str, Any]]:
    app = TelegramWebhook(adapter, secret=SECRET, path=PATH)  # type: ignore[arg-type]
    headers = [(b"content-type", b"application/json")]
    if secret is not None:
        headers.append((b"x-telegram-bot-api-secret-token", secret.encode()))
    scope = {"type": "http", "method": method, "path": path, "headers": headers}
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    return sent[0]["status"], json.loads(sent[1]["body"])


def test_wrong_or_missing_secret_is_403_and_enqueues_nothing() -> None:
    adapter = StubAdapter()
    body = json.dumps(tg.private_text(1, "hi")).encode()
    assert call(adapter, body, secret=None)[0] == 403
    assert call(adapter, body, secret="s3cret-Token_2")[0] == 403
    assert call(adapter, body, secret="")[0] == 403
    assert adapter.admitted == [] and adapter.dispatched == []


def test_malformed_bodies_are_400() -> None:
    adapter = StubAdapter()
    for body in (b"{not json", b"\xff\xfe", b"[1, 2]", b'{"message": {}}', b'{"update_id": "7"}'):
        status, payload = call(adapter, body)
        assert status == 400 and payload["ok"] is False
    assert adapter.dispatched == []


def test_valid_update_is_admitted_then_acknowledged_and_repeats_are_200() -> None:
    adapter = StubAdapter()
    body = json.dumps(tg.private_text(5, "hello")).encode()
    assert call(adapter, body)[0] == 200
    assert call(adapter, body)[0] == 200  # Telegram's redelivery: acknowledged, not re-dispatched
    assert len(adapter.dispatched) == 1


def test_storage_failure_is_503_so_telegram_redelivers() -> None:
    adapter = StubAdapter(fail=redis.ConnectionError("down"))
    assert call(adapter, json.dumps(tg.private_text(6, "x")).encode())[0] == 503
    bad = StubAdapter(fail=InvalidInputError("not a Telegram update"))
    assert call(bad, json.dumps(tg.private_text(7, "x")).encode())[0] == 400


def test_routes_methods_and_size() -> None:
    adapter = StubAdapter()
    assert call(adapter, b"", path="/other")[0] == 404
    assert call(adapter, b"", method="GET")[0] == 405
    assert call(adapter, b"", path="/healthz", method="GET", secret=None)[0] == 200
    assert call(adapter, b"x" * (2 << 20))[0] == 413
