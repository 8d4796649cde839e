"""Delivering replies: a small `Deliverer` protocol and a registry of one deliverer per platform.

Slack and Telegram register theirs from their own packages (`register_deliverer`); the local
adapter's is here. Every deliverer must honour `OutgoingMessage.idempotency_key`.
"""

from __future__ import annotations

import importlib
import json
import logging
from collections.abc import Callable
from typing import Protocol

import redis

from bot.errors import ConfigurationError, InvalidInputError, TransientError
from bot.settings import Settings
from bot.types import OutgoingMessage
from workers.keys import Keys

log = logging.getLogger(__name__)


class Deliverer(Protocol):
    """Sends one reply to its platform."""

    def deliver(self, outgoing: OutgoingMessage) -> bool:
        """Deliver once; return False when this idempotency key was already delivered."""
        ...


DelivererFactory = Callable[[Settings, redis.Redis], Deliverer]

# The local outbox push and the idempotency key are one atomic step: exactly one copy is queued.
_PUSH_ONCE = """
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'EX', ARGV[2]) then
  redis.call('RPUSH', KEYS[2], ARGV[3])
  redis.call('EXPIRE', KEYS[2], ARGV[4])
  return 1
end
return 0
"""


class LocalDeliverer:
    """Pushes replies to the Redis list the local adapter (terminal) waits on."""

    def __init__(self, settings: Settings, client: redis.Redis) -> None:
        self._settings = settings
        self._keys = Keys(settings.namespace)
        self._push = client.register_script(_PUSH_ONCE)

    def deliver(self, outgoing: OutgoingMessage) -> bool:
        """Queue the reply for the waiting terminal, exactly once per idempotency key."""
        reply_to = str(outgoing.metadata.get("reply_to", ""))
        if not reply_to:
            raise InvalidInputError("A local reply needs metadata['reply_to'] (the event id)")
        pushed = self._push(
            keys=[self._keys.outbound(outgoing.idempotency_key), self._keys.local_reply(reply_to)],
            args=[
                "delivered",
                self._settings.dedupe_ttl,
                json.dumps(outgoing.to_dict()),
                int(self._settings.reply_timeout) + 3600,
            ],
        )
        return bool(pushed)


_REGISTRY: dict[str, DelivererFactory] = {"local": LocalDeliverer}

# Platform adapters register their deliverer when imported; the worker imports them by path so
# no platform SDK is imported outside its package.
PLATFORM_MODULES = {"slack": "bot.slack.delivery", "telegram": "bot.telegram.delivery"}


def register_deliverer(platform: str, factory: DelivererFactory) -> None:
    """Make `factory(settings, redis)` the deliverer of `platform` (replaces any earlier one)."""
    _REGISTRY[platform] = factory


def build_deliverers(settings: Settings, client: redis.Redis) -> dict[str, Deliverer]:
    """One deliverer per registered platform (importing the adapters that are installed)."""
    for module in PLATFORM_MODULES.values():
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name is None or not module.startswith(exc.name):
                raise
            log.debug("platform module %s not available", module)
    return {name: factory(settings, client) for name, factory in _REGISTRY.items()}


class PostedMessages:
    """Which platform message was posted under which idempotency key, for edits and deletes.

    Deliverers call `claim` before posting, `record` after (or `release` when the post failed),
    and `posted_id` to find the message an edit or delete refers to. A claim is short-lived
    (`IN_FLIGHT_SECONDS`): if a worker dies between claim and post, the claim expires and a
    retry may post. A death between post and record is covered where a post can be found again:
    the Slack deliverer tags each `chat.postMessage` with message metadata and marks the attempt,
    so the retry looks the post up and records it instead of posting (`bot/slack/recover.py`).
    Elsewhere (Slack ephemeral and `response_url` replies, Telegram, whose bots cannot read
    history), and when that lookup fails, such a death can still post twice: at least once,
    never lost.
    """

    IN_FLIGHT_SECONDS = 120

    def __init__(self, settings: Settings, client: redis.Redis) -> None:
        self._client = client
        self._keys = Keys(settings.namespace)
        self._ttl = settings.dedupe_ttl

    def claim(self, idempotency_key: str) -> bool:
        """Reserve the key. False when already posted; TransientError while another worker holds
        a fresh claim (the task retries shortly)."""
        key = self._keys.outbound(idempotency_key)
        if self._client.set(key, "", nx=True, ex=self.IN_FLIGHT_SECONDS):
            return True
        if self.posted_id(idempotency_key) is not None:
            return False
        raise TransientError(
            f"reply {idempotency_key} is being sent by another worker", retry_after=5.0
        )

    def record(self, idempotency_key: str, platform_message_id: str) -> None:
        """Remember the platform's id of the message posted under the key."""
        self._client.set(self._keys.outbound(idempotency_key), platform_message_id, ex=self._ttl)

    def release(self, idempotency_key: str) -> None:
        """Drop a claim whose post failed, so a retry may post."""
        self._client.delete(self._keys.outbound(idempotency_key))

    def posted_id(self, idempotency_key: str) -> str | None:
        """The platform message id posted under the key, or None (never posted, or in flight)."""
        value = self._client.get(self._keys.outbound(idempotency_key))
        if not value:
            return None
        return value.decode() if isinstance(value, bytes) else str(value)


def deliverer_for(deliverers: dict[str, Deliverer], platform: str) -> Deliverer:
    """The deliverer of `platform`; ConfigurationError when none is registered."""
    try:
        return deliverers[platform]
    except KeyError:
        raise ConfigurationError(
            f"No deliverer is registered for platform {platform!r}; is its adapter installed?"
        ) from None
