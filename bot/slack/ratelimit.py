"""A per-channel post scheduler in Redis, shared by every io worker.

Each post reserves the next free slot of its channel (one per `interval`). The slot is kept
under the post's own key, so a task that gives up waiting and retries later returns to the slot
it was given instead of queueing again at the back.
"""

from __future__ import annotations

import redis

from bot.slack.keys import SlackKeys

# KEYS[1]: channel's next free time (ms); KEYS[2]: this post's slot. ARGV: interval ms, TTL ms.
_RESERVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local slot = redis.call('GET', KEYS[2])
if slot then return tonumber(slot) - now end
local free = tonumber(redis.call('GET', KEYS[1]) or '0')
if free < now then free = now end
redis.call('SET', KEYS[1], free + tonumber(ARGV[1]), 'PX', ARGV[2])
redis.call('SET', KEYS[2], free, 'PX', ARGV[2])
return free - now
"""

# KEYS[1]: channel's next free time; ARGV[1]: pause ms. Pushes the channel's schedule back.
_PAUSE = """
local t = redis.call('TIME')
local until_ms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) + tonumber(ARGV[1])
local free = tonumber(redis.call('GET', KEYS[1]) or '0')
if free < until_ms then redis.call('SET', KEYS[1], until_ms, 'PX', ARGV[1] + 600000) end
return until_ms
"""


class ChannelRateLimiter:
    """About one post per `interval` seconds per channel, across processes."""

    def __init__(self, client: redis.Redis, namespace: str, interval: float) -> None:
        self._keys = SlackKeys(namespace)
        self._interval_ms = int(interval * 1000)
        self._reserve = client.register_script(_RESERVE)
        self._pause = client.register_script(_PAUSE)
        self._client = client

    def reserve(self, channel: str, part_key: str) -> float:
        """Seconds to wait before posting `part_key` to `channel` (<= 0: post now)."""
        ttl_ms = 600_000 + self._interval_ms * 1000
        wait_ms = self._reserve(
            keys=[self._keys.rate(channel), self._keys.slot(part_key)],
            args=[self._interval_ms, ttl_ms],
        )
        return int(wait_ms) / 1000.0

    def pause(self, channel: str, seconds: float) -> None:
        """After a 429: nobody posts to `channel` for `seconds`."""
        self._pause(keys=[self._keys.rate(channel)], args=[int(seconds * 1000)])

    def forget(self, part_key: str) -> None:
        """Drop a post's slot (it was rate limited, or it went out)."""
        self._client.delete(self._keys.slot(part_key))
