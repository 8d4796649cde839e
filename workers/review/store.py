"""The review state machine in Redis: pending -> approved | edited | rejected | expired, once.

One hash per review (`Keys.review`): `data` (JSON facts for the card, written once), `status`,
`decided_by`, `decided_name`, `decided_at`, `final_text`, `reject_reason`, `taken_by`,
`taken_name`, then what the sending task adds (`final_text_sent`, `final_language`, `sent_at`,
`send_error`, `card_error`, `audited`). Every transition is one Lua script, so two agents
clicking at once see exactly one winner. Pending ids sit in a sorted set by creation time.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from dataclasses import dataclass, field
from typing import Any, cast

import redis

from workers.keys import Keys

REVIEW_ID = re.compile(r"^[0-9a-f]{16}$")
DECIDED = ("approved", "edited", "rejected", "expired")
CUSTOMER_HISTORY = 20
PRIORITY_SHIFT = 10_000_000  # seconds (~4 months): urgent drafts sort before any calmer one


def queue_score(data: dict[str, Any]) -> float:
    """Pending-queue order: higher triage priority first, then oldest first."""
    priority = int((data.get("triage") or {}).get("priority") or 0)
    return float(data["created_at"]) - priority * PRIORITY_SHIFT


_CREATE = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'data', ARGV[1], 'status', 'pending', 'created_at', ARGV[3])
redis.call('ZADD', KEYS[2], ARGV[5], ARGV[2])
redis.call('LPUSH', KEYS[3], ARGV[2])
redis.call('LTRIM', KEYS[3], 0, tonumber(ARGV[4]) - 1)
return 1
"""

# ARGV: new status, who, name, when, final text, reject reason, review id, ttl, not-before
_DECIDE = """
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return {'unknown', '', ''} end
if status ~= 'pending' then
  return {status, redis.call('HGET', KEYS[1], 'decided_name') or '',
          redis.call('HGET', KEYS[1], 'decided_at') or ''}
end
if tonumber(ARGV[9]) > 0 then
  local data = cjson.decode(redis.call('HGET', KEYS[1], 'data'))
  if tonumber(data['expires_at']) > tonumber(ARGV[9]) then return {'pending', '', ''} end
end
redis.call('HSET', KEYS[1], 'status', ARGV[1], 'decided_by', ARGV[2], 'decided_name', ARGV[3],
           'decided_at', ARGV[4], 'final_text', ARGV[5], 'reject_reason', ARGV[6])
redis.call('ZREM', KEYS[2], ARGV[7])
redis.call('EXPIRE', KEYS[1], ARGV[8])
return {'won', ARGV[2], ARGV[4]}
"""

# Undo a decision whose follow-up task could not be queued (only the decider's own).
_UNDO = """
if redis.call('HGET', KEYS[1], 'status') == ARGV[1]
   and redis.call('HGET', KEYS[1], 'decided_by') == ARGV[2] then
  redis.call('HSET', KEYS[1], 'status', 'pending')
  redis.call('HDEL', KEYS[1], 'decided_by', 'decided_name', 'decided_at', 'final_text',
             'reject_reason')
  redis.call('PERSIST', KEYS[1])
  redis.call('ZADD', KEYS[2], ARGV[3], ARGV[4])
  return 1
end
return 0
"""


def review_id_for(namespace: str, event_key: str) -> str:
    """The review id of one incoming event: 16 hex chars, the same on every re-run."""
    return hashlib.sha256(f"{namespace}:review:{event_key}".encode()).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class Review:
    """One review as stored: the card facts plus its state."""

    review_id: str
    data: dict[str, Any]
    status: str
    state: dict[str, str] = field(default_factory=dict)

    def get(self, name: str) -> str:
        return self.state.get(name, "")

    @property
    def expires_at(self) -> float:
        return float(self.data.get("expires_at") or 0)


@dataclass(frozen=True, slots=True)
class Transition:
    """The outcome of a decide attempt: `won` or the status that was already there."""

    won: bool
    status: str
    by: str
    at: str


class ReviewStore:
    """Reads and moves reviews of one namespace."""

    def __init__(self, client: redis.Redis, namespace: str, *, decided_ttl: int) -> None:
        self._redis = client
        self.keys = Keys(namespace)
        self._ttl = decided_ttl
        self._create = client.register_script(_CREATE)
        self._decide = client.register_script(_DECIDE)
        self._undo = client.register_script(_UNDO)

    def create(self, review_id: str, data: dict[str, Any]) -> bool:
        """Store a new pending review; False when it exists already (a re-run)."""
        customer = data["customer"]
        created = self._create(
            keys=[
                self.keys.review(review_id),
                self.keys.reviews_pending(),
                self.keys.reviews_by_customer(customer["platform"], customer["channel"]),
            ],
            args=[
                json.dumps(data),
                review_id,
                data["created_at"],
                CUSTOMER_HISTORY,
                queue_score(data),
            ],
        )
        return bool(created)

    def get(self, review_id: str) -> Review | None:
        """The review, or None (unknown id, or decided longer than `dedupe_ttl` ago)."""
        if not REVIEW_ID.match(review_id):
            return None
        raw = cast(dict[str, str], self._redis.hgetall(self.keys.review(review_id)))
        if not raw or "data" not in raw:
            return None
        data = json.loads(raw.pop("data"))
        return Review(review_id, data, raw.get("status", "pending"), raw)

    def decide(
        self,
        review_id: str,
        status: str,
        *,
        by: str,
        name: str,
        final_text: str = "",
        reject_reason: str = "",
        expired_at: float = 0.0,
    ) -> Transition:
        """Move pending -> `status` exactly once. `expired_at` > 0 (expiry only) refuses while
        the review's `expires_at` is still ahead of it."""
        now = f"{time.time():.3f}"
        result = self._decide(
            keys=[self.keys.review(review_id), self.keys.reviews_pending()],
            args=[
                status,
                by,
                name,
                now,
                final_text,
                reject_reason,
                review_id,
                self._ttl,
                expired_at,
            ],
        )
        outcome, who, when = (str(x) for x in result)
        if outcome == "won":
            return Transition(True, status, name or by, when)
        return Transition(False, outcome, who, when)

    def undo(self, review_id: str, status: str, by: str, score: float) -> bool:
        """Back to pending (the decision's task could not be queued) at `score` in the queue."""
        return bool(
            self._undo(
                keys=[self.keys.review(review_id), self.keys.reviews_pending()],
                args=[status, by, score, review_id],
            )
        )

    def update(self, review_id: str, **fields: str) -> None:
        """Set state fields (translations, what was sent, errors)."""
        self._redis.hset(self.keys.review(review_id), mapping=fields)  # type: ignore[arg-type]

    def set_once(self, review_id: str, name: str, value: str) -> str:
        """Set a field unless set; the stored value (a concurrent re-run may have won)."""
        key = self.keys.review(review_id)
        if self._redis.hsetnx(key, name, value):
            return value
        return str(self._redis.hget(key, name) or value)

    def set_data(self, review_id: str, data: dict[str, Any]) -> None:
        """Replace the card facts (used once, to add translations)."""
        self._redis.hset(self.keys.review(review_id), "data", json.dumps(data))

    def pending(self, limit: int = 20) -> list[Review]:
        """Pending reviews, urgent and strongly negative first, then oldest first."""
        ids = cast(list[str], self._redis.zrange(self.keys.reviews_pending(), 0, limit - 1))
        return [r for r in (self.get(i) for i in ids) if r is not None]

    def for_customer(self, platform: str, channel: str) -> list[str]:
        """Latest review ids of one customer conversation, newest first."""
        key = self.keys.reviews_by_customer(platform, channel)
        return cast(list[str], self._redis.lrange(key, 0, CUSTOMER_HISTORY - 1))
