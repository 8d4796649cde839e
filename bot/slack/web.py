"""Slack Web API plumbing: the client, timestamps, and one call with its errors mapped.

A 429's `Retry-After` becomes `TransientError(retry_after=...)`; 5xx and Slack's internal
errors are transient; anything else is an `InvalidInputError`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.webhook import WebhookClient

from bot.errors import ConfigurationError, InvalidInputError, TransientError
from bot.settings import Settings

_TS = re.compile(r"^\d+\.\d+$")


def is_ts(value: str) -> bool:
    """Whether `value` looks like a Slack message timestamp (a thread can only be one)."""
    return bool(_TS.match(value))


def build_web_client(settings: Settings, *, resend: bool = True) -> WebClient:
    """The Web API client for the bot token, at `PARLEY_SLACK_API_URL`.

    `resend=False` (the deliverer): no built-in resend after a dropped connection. Slack may have
    taken the first request, and a resend inside one attempt is a double post the recovery lookup
    cannot see; the error becomes a TransientError and the retried task looks the post up.
    """
    if settings.slack_bot_token is None:
        raise ConfigurationError("Slack needs a bot token: set PARLEY_SLACK_BOT_TOKEN (xoxb-...)")
    return WebClient(
        token=settings.slack_bot_token.get_secret_value(),
        base_url=settings.slack_api_url,
        timeout=15,
        retry_handlers=None if resend else [],
    )


def _retry_after(exc: SlackApiError) -> float:
    headers = exc.response.headers or {}
    value = headers.get("Retry-After") or headers.get("retry-after") or "1"
    if isinstance(value, list):
        value = value[0]
    try:
        return max(1.0, float(value))
    except ValueError:
        return 1.0


def call_web_api(method: str, func: Callable[..., Any], **kwargs: Any) -> dict[str, Any]:
    """One Web API call (None arguments left out), its failures mapped to Parley's errors."""
    try:
        response = func(**{k: v for k, v in kwargs.items() if v is not None})
    except SlackApiError as exc:
        status = exc.response.status_code
        error = exc.response.get("error") if isinstance(exc.response.data, dict) else None
        if status == 429 or error == "ratelimited":
            raise TransientError(
                f"Slack {method} rate limited", retry_after=_retry_after(exc)
            ) from exc
        if status >= 500 or error in ("internal_error", "fatal_error", "service_unavailable"):
            raise TransientError(f"Slack {method} failed: {status} {error}") from exc
        raise InvalidInputError(f"Slack {method} failed: {error or status}") from exc
    except (SlackClientError, OSError) as exc:
        raise TransientError(f"Slack {method} unreachable: {exc}") from exc
    return dict(response.data) if isinstance(response.data, dict) else {}


def send_to_response_url(url: str, text: str, blocks: list[dict[str, Any]] | None) -> str:
    """An ephemeral reply through a command's `response_url`; its posted id is "response_url"."""
    response = WebhookClient(url, timeout=15).send(
        text=text, blocks=blocks, response_type="ephemeral", replace_original=False
    )
    if response.status_code == 429 or response.status_code >= 500:
        raise TransientError(f"Slack response_url answered {response.status_code}")
    if response.status_code >= 400:
        raise InvalidInputError(f"Slack response_url refused the reply: {response.body}")
    return "response_url"
