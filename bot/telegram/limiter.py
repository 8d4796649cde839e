"""A rate limiter in Redis, shared by every io worker that sends to Telegram.

Telegram asks bots to stay under 1 message/s per chat, 20 messages/min per group and about 30
messages/s overall. Each limit is a GCRA cell (theoretical arrival time kept in Redis); `reserve`
books the earliest instant that every applicable limit allows, in one Lua step, so concurrent
senders never book the same slot. Bursts are not allowed (emission interval spacing only): that
keeps any sliding window under the limit, which is how Telegram (and the test server) count.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import redis

# KEYS: the limit cells. ARGV: now, max_wait, then one interval per key.
# Returns the wait in ms (booked), or -wait in ms when it exceeds max_wait (nothing booked).
_RESERVE = """
local now = tonumber(ARGV[1])
local max_wait = tonumber(ARGV[2])
local start = now
for i, key in ipairs(KEYS) do
  local tat = tonumber(redis.call('GET', key) or '0')
  if tat > start then start = tat end
end
local wait = start - now
if wait > max_wait then
  return -math.max(1, math.floor(wait * 1000))
end
for i, key in ipairs(KEYS) do
  local interval = tonumber(ARGV[2 + i])
  local ttl = math.ceil((wait + interval) * 1000) + 1000
  redis.call('SET', key, tostring(start + interval), 'PX', ttl)
end
return math.floor(wait * 1000)
"""

# Sliding windows are counted by the server with its own clock: a little headroom avoids landing
# exactly on a window edge.
SAFETY = 1.05


@dataclass(frozen=True, slots=True)
class Limits:
    """Telegram's limits as rates."""

    per_chat_per_s: float = 1.0
    per_group_per_min: float = 20.0
    global_per_s: float = 30.0


class RateLimiter:
    """Books send slots for chats; `reserve` says how long to wait, or that it is too long."""

    def __init__(self, client: redis.Redis, namespace: str, limits: Limits) -> None:
        self._redis = client
        self._prefix = f"{namespace}:telegram:rate"
        self._limits = limits
        self._reserve = client.register_script(_RESERVE)

    def _cells(self, chat_id: str) -> list[tuple[str, float]]:
        limits = self._limits
        cells = [
            (f"{self._prefix}:chat:{chat_id}", SAFETY / limits.per_chat_per_s),
            (f"{self._prefix}:global", SAFETY / limits.global_per_s),
        ]
        if chat_id.startswith("-"):  # groups, supergroups and channels have negative ids
            cells.append(
                (f"{self._prefix}:group:{chat_id}", SAFETY * 60.0 / limits.per_group_per_min)
            )
        return cells

    def reserve(self, chat_id: str, *, max_wait: float) -> float:
        """Book the next slot for `chat_id`: seconds to wait before sending (>= 0).

        Returns a negative number (minus the wait) without booking when the wait would exceed
        `max_wait`: the caller should retry later instead of holding a worker.
        """
        cells = self._cells(chat_id)
        millis = int(
            self._reserve(
                keys=[key for key, _ in cells],
                args=[repr(time.time()), repr(max_wait), *(repr(i) for _, i in cells)],
            )
        )
        return millis / 1000.0

    def wait_for_slot(self, chat_id: str, *, max_wait: float) -> float | None:
        """Sleep until the booked slot; None (no booking) when it is more than `max_wait` away."""
        wait = self.reserve(chat_id, max_wait=max_wait)
        if wait < 0:
            return None
        if wait > 0:
            time.sleep(wait)
        return wait

    def penalise(self, chat_id: str, retry_after: float) -> None:
        """After a 429: push this chat's cells `retry_after` seconds out (not the global one)."""
        until = time.time() + retry_after
        for key, _ in self._cells(chat_id):
            if key.endswith(":global"):
                continue
            current = self._redis.get(key)
            if current is None or float(current) < until:
                self._redis.set(key, repr(until), px=int(retry_after * 1000) + 1000)
