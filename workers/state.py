"""Conversation state in Redis: bounded recent turns, event dedupe, answered-event records.

Turns live in one list per (platform, channel, thread), bounded in count (`history_turns`) when
written and in approximate tokens (`history_tokens`) when read, and expire `conversation_ttl`
seconds after the last exchange.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any, cast

import redis

from bot.settings import Settings
from bot.types import ThreadRef, Turn
from workers.keys import Keys

log = logging.getLogger(__name__)

TokenCounter = Callable[[str], int]

# Turns and the answered record are written in one step, and only once per event: a task that
# runs again after a crash finds the record and reuses the answer instead of remembering it twice.
_RECORD_EXCHANGE = """
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'EX', ARGV[2]) then
  local max_turns = tonumber(ARGV[5])
  if max_turns == 0 then
    redis.call('DEL', KEYS[2])
    return 1
  end
  redis.call('RPUSH', KEYS[2], ARGV[3], ARGV[4])
  redis.call('LTRIM', KEYS[2], -max_turns, -1)
  redis.call('EXPIRE', KEYS[2], ARGV[6])
  return 1
end
return 0
"""


def approximate_tokens(text: str) -> int:
    """Cheap token estimate (about four characters per token), good enough for budgeting."""
    return max(1, (len(text) + 3) // 4)


class ConversationStore:
    """Reads and writes conversation state for one namespace."""

    def __init__(
        self,
        client: redis.Redis,
        settings: Settings,
        *,
        count_tokens: TokenCounter = approximate_tokens,
    ) -> None:
        self._redis = client
        self._settings = settings
        self._count_tokens = count_tokens
        self.keys = Keys(settings.namespace)
        self._record = client.register_script(_RECORD_EXCHANGE)

    def accept_event(self, event_key: str) -> bool:
        """Mark an incoming event as seen; False when it was seen before (a platform retry)."""
        created = self._redis.set(
            self.keys.dedupe(event_key), "1", nx=True, ex=self._settings.dedupe_ttl
        )
        return bool(created)

    def release_event(self, event_key: str) -> None:
        """Forget that an event was seen (its enqueue failed); best effort if Redis is away."""
        try:
            self._redis.delete(self.keys.dedupe(event_key))
        except redis.RedisError as exc:  # the mark then expires after dedupe_ttl
            log.error("could not release dedupe mark event=%s: %s", event_key, exc)

    def load_history(self, thread: ThreadRef, *, exclude_event: str | None = None) -> list[Turn]:
        """Recent turns, oldest first, within the turn and token budgets.

        `exclude_event` leaves out the turns a crashed earlier run of the same event stored.
        """
        limit = self._settings.history_turns
        if limit == 0:
            return []
        raw = cast(list[str], self._redis.lrange(self.keys.conversation(thread), -limit, -1))
        turns: list[Turn] = []
        budget = self._settings.history_tokens
        for item in reversed(raw):
            data = json.loads(item)
            if exclude_event is not None and data.get("event") == exclude_event:
                continue
            cost = self._count_tokens(data["text"])
            if cost > budget:
                break
            budget -= cost
            turns.append(Turn(role=data["role"], text=data["text"], at=data["at"]))
        turns.reverse()
        return turns

    def answered(self, event_key: str) -> dict[str, Any] | None:
        """The draft stored for an event that was already answered, if any."""
        raw = cast(str | None, self._redis.get(self.keys.answered(event_key)))
        return None if raw is None else cast(dict[str, Any], json.loads(raw))

    def record_exchange(
        self,
        event_key: str,
        thread: ThreadRef,
        *,
        question: Turn,
        reply: Turn,
        draft: dict[str, Any],
    ) -> bool:
        """Append the question and the reply and store the draft, once per event.

        Returns False when this event's exchange was already recorded (nothing is written).
        """
        result = self._record(
            keys=[self.keys.answered(event_key), self.keys.conversation(thread)],
            args=[
                json.dumps(draft),
                self._settings.dedupe_ttl,
                self._encode(question, event_key),
                self._encode(reply, event_key),
                self._settings.history_turns,
                self._settings.conversation_ttl,
            ],
        )
        return bool(result)

    def reset(self, thread: ThreadRef) -> None:
        """Forget one conversation (`/reset` in the terminal chat)."""
        self._redis.delete(self.keys.conversation(thread))

    def _encode(self, turn: Turn, event_key: str) -> str:
        text = turn.text[: self._settings.max_input_chars]
        return json.dumps({"role": turn.role, "text": text, "at": turn.at, "event": event_key})
