"""What was said in each channel, kept (capped, with a TTL) so threads can be summarised.

Parley cannot re-read platform history beyond what the platforms allow, so intake records every
message it receives: one sorted set of message ids by time plus one hash of id -> JSON per
channel (`Keys.thread_log`, `Keys.thread_log_messages`). Edits replace the text, deletes remove
the message; the oldest entries beyond `thread_log_max` are dropped, and the whole log expires
`thread_log_ttl` seconds after the last message.
"""

from __future__ import annotations

import json
from typing import Any

import redis

from bot.settings import Settings
from bot.types import IncomingMessage, MessageKind
from workers.keys import Keys

_RECORD = """
redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
local extra = redis.call('ZCARD', KEYS[1]) - tonumber(ARGV[4])
if extra > 0 then
  local old = redis.call('ZRANGE', KEYS[1], 0, extra - 1)
  redis.call('ZREMRANGEBYRANK', KEYS[1], 0, extra - 1)
  redis.call('HDEL', KEYS[2], unpack(old))
end
redis.call('EXPIRE', KEYS[1], ARGV[5])
redis.call('EXPIRE', KEYS[2], ARGV[5])
return 1
"""


class ThreadLog:
    """Records channel messages and reads back the recent ones of a channel or thread."""

    def __init__(self, client: redis.Redis, settings: Settings) -> None:
        self._redis = client
        self._settings = settings
        self._keys = Keys(settings.namespace)
        self._record = client.register_script(_RECORD)

    def record(self, message: IncomingMessage) -> None:
        """Remember `message` (an edit replaces its text, a delete forgets it)."""
        if message.kind == MessageKind.COMMAND or not message.message_id:
            return
        index = self._keys.thread_log(message.platform, message.channel)
        bodies = self._keys.thread_log_messages(message.platform, message.channel)
        if message.kind == MessageKind.DELETE:
            pipe = self._redis.pipeline()
            pipe.zrem(index, message.message_id)
            pipe.hdel(bodies, message.message_id)
            pipe.execute()
            return
        at = message.received_at
        if message.kind == MessageKind.EDIT:  # keep the original position in the thread
            previous = self._redis.zscore(index, message.message_id)
            at = float(previous) if previous is not None else at
        body = {
            "author": message.user_name or message.user,
            "text": message.text,
            "at": at,
            "is_bot": message.is_bot,
            "thread": message.thread,
            "id": message.message_id,
        }
        self._record(
            keys=[index, bodies],
            args=[
                message.message_id,
                at,
                json.dumps(body, ensure_ascii=False),
                self._settings.thread_log_max,
                self._settings.thread_log_ttl,
            ],
        )

    def recent(
        self,
        platform: str,
        channel: str,
        *,
        thread: str = "",
        limit: int = 50,
        since: float | None = None,
    ) -> list[dict[str, Any]]:
        """The last `limit` messages (oldest first) of a channel, or of one thread in it."""
        index = self._keys.thread_log(platform, channel)
        low = since if since is not None else "-inf"
        ids = [i.decode() if isinstance(i, bytes) else str(i) for i in
               self._redis.zrangebyscore(index, low, "+inf")]  # fmt: skip
        if not ids:
            return []
        raw = self._redis.hmget(self._keys.thread_log_messages(platform, channel), ids)
        rows = [json.loads(r) for r in raw if r is not None]
        if thread:
            rows = [r for r in rows if r["thread"] == thread or r["id"] == thread]
        return rows[-limit:] if limit > 0 else rows
