"""The durable inbox: each raw update is in Redis before Telegram may consider it confirmed.

With polling, the offset moves past a batch only after each of its updates was admitted here; with
a webhook, the 200 is sent only after admission. An update leaves the inbox when PTB's handlers
have finished with it; what a killed adapter left behind is handled again by `Reconciler` (its
handlers are idempotent: intake deduplicates by event id, replies carry idempotency keys).

Keys (namespace `<ns>`):
- `<ns>:telegram:update:<bot id>:<update_id>`: string `1`, SET NX with TTL `dedupe_ttl` (> 24 h,
  Telegram's redelivery window): a repeat of an update id is dropped here.
- `<ns>:telegram:inbox:<bot id>`: hash update_id -> JSON `{"at": admitted at, "update": raw}`, no
  TTL: entries are removed when handled.
"""

from __future__ import annotations

import json
import time
from typing import Any, cast

import redis

# Dedupe mark and inbox entry are written in one step: both or neither.
_ADMIT = """
if redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[1]) then
  redis.call('HSET', KEYS[2], ARGV[2], ARGV[3])
  return 1
end
return 0
"""


class Inbox:
    """Durable, deduplicated store of received updates for one bot."""

    def __init__(self, client: redis.Redis, namespace: str, bot_id: int, dedupe_ttl: int) -> None:
        self._redis = client
        self._prefix = f"{namespace}:telegram"
        self._bot_id = bot_id
        self._ttl = dedupe_ttl
        self._admit = client.register_script(_ADMIT)

    @property
    def key(self) -> str:
        """The inbox hash."""
        return f"{self._prefix}:inbox:{self._bot_id}"

    def dedupe_key(self, update_id: int) -> str:
        """The dedupe mark of one update id."""
        return f"{self._prefix}:update:{self._bot_id}:{update_id}"

    def admit(self, update_id: int, raw: dict[str, Any]) -> bool:
        """Store a new update durably; False when this update id was already admitted."""
        entry = json.dumps({"at": time.time(), "update": raw}, separators=(",", ":"))
        admitted = self._admit(
            keys=[self.dedupe_key(update_id), self.key], args=[self._ttl, update_id, entry]
        )
        return bool(admitted)

    def done(self, update_id: int) -> None:
        """The update's handlers finished: drop it from the inbox."""
        self._redis.hdel(self.key, str(update_id))

    def unfinished(self, older_than: float) -> list[tuple[int, dict[str, Any]]]:
        """Updates admitted more than `older_than` seconds ago and not yet done, oldest first."""
        cutoff = time.time() - older_than
        entries: list[tuple[float, int, dict[str, Any]]] = []
        raw_entries = cast(dict[Any, Any], self._redis.hgetall(self.key))
        for field, value in raw_entries.items():
            data = json.loads(value)
            if data["at"] <= cutoff:
                entries.append((data["at"], int(field), data["update"]))
        entries.sort(key=lambda e: (e[0], e[1]))
        return [(update_id, update) for _, update_id, update in entries]

    def size(self) -> int:
        """How many updates are waiting to be handled."""
        return int(self._redis.hlen(self.key))
