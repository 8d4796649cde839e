"""Finding a post a killed worker made but never recorded, so its retry does not post it twice.

Every `chat.postMessage` of a reply part carries Slack message metadata naming its part key
(`post_metadata`), and right before the call `PostAttempts.mark` stores when it was tried. A
worker killed after Slack took the post but before `PostedMessages.record` leaves that mark and
no record. The redelivered task then looks the part up (`PostAttempts.recover`):
`conversations.history` of the channel, or `conversations.replies` of the thread for a thread
reply, around the attempt and with `include_all_metadata`, for a message whose metadata names
the part key. Found: the deliverer records its ts and posts nothing. A lookup that fails (no
`*:history` scope, an API error, a rate limit) is logged as a warning and the part is posted: at
least once, never lost.

Replies through a `response_url` and `chat.postEphemeral` cannot be read back: not covered.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import redis
from slack_sdk import WebClient

from bot.errors import ParleyError
from bot.slack.keys import SlackKeys
from bot.slack.web import call_web_api

log = logging.getLogger(__name__)

EVENT_TYPE = "parley_reply"
# Slack stamps a post with its own clock a little after the attempt; the window allows for the
# call's duration and clock skew, and keeps the lookup to a page or two in a busy channel.
BEFORE_SECONDS = 60.0
AFTER_SECONDS = 120.0
MAX_PAGES = 5


def post_metadata(part_key: str) -> dict[str, Any]:
    """The message metadata every posted part carries."""
    return {"event_type": EVENT_TYPE, "event_payload": {"key": part_key}}


class PostAttempts:
    """When each part's `chat.postMessage` was last attempted (Redis, TTL `dedupe_ttl`)."""

    def __init__(self, client: redis.Redis, namespace: str, ttl: int) -> None:
        self._client = client
        self._keys = SlackKeys(namespace)
        self._ttl = ttl

    def mark(self, part_key: str) -> None:
        """Remember that `part_key` is being posted now (right before the API call)."""
        self._client.set(self._keys.attempt(part_key), f"{time.time():.6f}", ex=self._ttl)

    def attempted_at(self, part_key: str) -> float | None:
        """Epoch seconds of the last attempt; None when never attempted (or known not posted)."""
        value = self._client.get(self._keys.attempt(part_key))
        return float(value) if value else None

    def forget(self, part_key: str) -> None:
        """Drop the mark of a post that did not go out (Slack refused it, or it was not found)."""
        self._client.delete(self._keys.attempt(part_key))

    def recover(
        self, web: WebClient, channel: str, thread: str | None, part_key: str
    ) -> str | None:
        """The ts of `part_key`'s message when an attempt left a mark and Slack shows the post
        went out (`recover_post`); None: post it."""
        attempted = self.attempted_at(part_key)
        if attempted is None:
            return None
        ts = recover_post(web, channel, thread, part_key, attempted)
        if ts is None:
            self.forget(part_key)  # a retry before the post (busy channel) need not look again
        return ts


def recover_post(
    web: WebClient, channel: str, thread: str | None, part_key: str, attempted_at: float
) -> str | None:
    """The ts of the message posted for `part_key`, or None: post it (also when the lookup
    fails, which is logged: a possible second copy beats a lost reply)."""
    try:
        ts = find_post(web, channel, thread, part_key, attempted_at)
    except ParleyError as exc:
        log.warning(
            "slack lookup of an unrecorded post failed, posting it (may be twice) "
            "channel=%s key=%s: %s",
            channel,
            part_key,
            exc,
        )
        return None
    log.info("slack unrecorded post %s channel=%s key=%s", ts or "not found", channel, part_key)
    return ts


def find_post(
    web: WebClient, channel: str, thread: str | None, part_key: str, attempted_at: float
) -> str | None:
    """The ts of a message whose metadata names `part_key`, posted around `attempted_at` to
    `channel` (in `thread` when given), or None. Raises `ParleyError` when Slack refuses."""
    method = "conversations.replies" if thread else "conversations.history"
    func: Callable[..., Any] = web.conversations_replies if thread else web.conversations_history
    query: dict[str, Any] = {
        "channel": channel,
        "oldest": f"{attempted_at - BEFORE_SECONDS:.6f}",
        "latest": f"{attempted_at + AFTER_SECONDS:.6f}",
        "include_all_metadata": True,
    }
    if thread:
        query["ts"] = thread
    cursor: str | None = None
    for _ in range(MAX_PAGES):
        data = call_web_api(method, func, cursor=cursor, **query)
        for message in data.get("messages") or []:
            if _names(message, part_key):
                return str(message["ts"])
        cursor = (data.get("response_metadata") or {}).get("next_cursor") or None
        if not cursor:
            return None
    log.warning(
        "slack lookup gave up after %d pages channel=%s key=%s", MAX_PAGES, channel, part_key
    )
    return None


def _names(message: dict[str, Any], part_key: str) -> bool:
    metadata = message.get("metadata")
    if not isinstance(metadata, dict) or metadata.get("event_type") != EVENT_TYPE:
        return False
    payload = metadata.get("event_payload")
    return isinstance(payload, dict) and payload.get("key") == part_key and bool(message.get("ts"))
