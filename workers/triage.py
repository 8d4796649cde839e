"""Triage in the workers: classify support messages, keep a per-channel sentiment trend, alert.

- `Triager` wraps the classifier (nlp/triage) with the embedder named by settings, loaded once.
- `SentimentTrend` counts messages per hour and sentiment in one Redis hash per channel
  (`Keys.sentiment`, kept `sentiment_window_hours` + 24 h) and says when negative messages spike:
  in the last hour at least `sentiment_alert_min` negatives and a negative share at least
  `sentiment_alert_ratio` times the share of the day before (and at least 0.3).
- `oncall_notice` is the message for the on-call destination (`PARLEY_ONCALL_DESTINATION`,
  "platform:channel") about an urgent or strongly negative message, or a spike.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

import redis

from bot.settings import Settings
from bot.types import IncomingMessage, OutgoingMessage
from nlp.triage import SENTIMENTS, EmbeddingTriage, Triage
from workers.keys import Keys

HOUR = 3600
log = logging.getLogger(__name__)


class Triager:
    """Classifies messages; the embedding model and heads load on first use (thread-safe)."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._lock = threading.Lock()
        self._model: EmbeddingTriage | None = None

    def triage(self, text: str) -> Triage:
        with self._lock:
            if self._model is None:
                from retrieval.factory import build_embedder

                self._model = EmbeddingTriage(build_embedder(self._settings))
            return self._model.triage([text])[0]


@dataclass(frozen=True, slots=True)
class Spike:
    negatives: int
    share: float
    baseline_share: float


class SentimentTrend:
    """Hourly sentiment counts per channel, and spike detection on them."""

    def __init__(self, client: redis.Redis, settings: Settings) -> None:
        self._redis = client
        self._settings = settings
        self._keys = Keys(settings.namespace)

    def record(self, platform: str, channel: str, sentiment: str, at: float | None = None) -> None:
        hour = int((at if at is not None else time.time()) // HOUR)
        key = self._keys.sentiment(platform, channel)
        pipe = self._redis.pipeline()
        pipe.hincrby(key, f"{hour}:{sentiment}", 1)
        pipe.expire(key, (self._settings.sentiment_window_hours + 24) * HOUR)
        pipe.execute()

    def trend(
        self, platform: str, channel: str, *, hours: int = 24, now: float | None = None
    ) -> list[dict[str, int]]:
        """Counts per hour, oldest first: [{"hour": h, "negative": n, "neutral": n, ...}]."""
        current = int((now if now is not None else time.time()) // HOUR)
        raw = self._redis.hgetall(self._keys.sentiment(platform, channel))
        counts: dict[str, int] = {
            (k.decode() if isinstance(k, bytes) else str(k)): int(v) for k, v in raw.items()
        }
        rows = []
        for hour in range(current - hours + 1, current + 1):
            row = {"hour": hour}
            row.update({s: counts.get(f"{hour}:{s}", 0) for s in SENTIMENTS})
            rows.append(row)
        return rows

    def spike(self, platform: str, channel: str, *, now: float | None = None) -> Spike | None:
        """A spike of negative messages in the last hour against the 24 hours before, or None."""
        rows = self.trend(platform, channel, hours=25, now=now)
        last, before = rows[-1], rows[:-1]

        def share(negative: int, total: int) -> float:
            return negative / total if total else 0.0

        total = sum(last[s] for s in SENTIMENTS)
        now_share = share(last["negative"], total)
        base_neg = sum(r["negative"] for r in before)
        base_share = share(base_neg, sum(r[s] for r in before for s in SENTIMENTS))
        enough = last["negative"] >= self._settings.sentiment_alert_min
        if enough and now_share >= max(0.3, self._settings.sentiment_alert_ratio * base_share):
            return Spike(last["negative"], round(now_share, 3), round(base_share, 3))
        return None

    def claim_alert(self, platform: str, channel: str, *, now: float | None = None) -> bool:
        """True once per channel and hour: the caller may send the spike alert."""
        hour = int((now if now is not None else time.time()) // HOUR)
        key = self._keys.sentiment_alert(platform, channel, hour)
        return bool(self._redis.set(key, "1", nx=True, ex=2 * HOUR))


def oncall_notice(
    destination: str, message: IncomingMessage, triage: Triage | None, *, spike: Spike | None = None
) -> OutgoingMessage:
    """The notice for the on-call destination ("platform:channel")."""
    platform, _, channel = destination.partition(":")
    where = f"{message.platform} {message.channel}"
    who = message.user_name or message.user
    if spike is not None:
        text = (
            f"Negative messages are spiking in {where}: {spike.negatives} in the last hour "
            f"({spike.share:.0%} of messages, against {spike.baseline_share:.0%} the day before)."
        )
        key = f"oncall:spike:{message.platform}:{message.channel}:{int(time.time() // HOUR)}"
    else:
        assert triage is not None
        flags = ", ".join(triage.urgency) or f"{triage.sentiment} sentiment"
        excerpt = message.text if len(message.text) <= 300 else message.text[:299] + "…"
        text = f"Urgent ({flags}) from {who} in {where}:\n{excerpt}"
        key = f"oncall:{message.platform}:{message.event_id}"
    return OutgoingMessage(
        platform=platform,  # type: ignore[arg-type]
        channel=channel,
        text=text,
        idempotency_key=key,
        kind="notice",
        metadata={"oncall": True},
    )


_triagers: dict[int, Triager] = {}
_triagers_lock = threading.Lock()


def triager_for(settings: Settings) -> Triager:
    """One `Triager` per settings object (per worker process)."""
    with _triagers_lock:
        return _triagers.setdefault(id(settings), Triager(settings))


def triage_reply(
    settings: Settings, client: redis.Redis, message: IncomingMessage, reply: OutgoingMessage
) -> list[OutgoingMessage]:
    """Triage the customer's message behind `reply` (adds `metadata["triage"]`), count it in the
    channel's sentiment trend, and return the on-call notices to send (urgent or strongly
    negative message, negative spike). A triage failure never blocks the answer."""
    if not settings.triage or reply.metadata.get("error") or not message.text.strip():
        return []
    try:
        result = triager_for(settings).triage(message.text[: settings.max_input_chars])
    except Exception as exc:  # the answer matters more than its triage
        log.warning(
            "triage failed platform=%s event=%s: %s", message.platform, message.event_id, exc
        )
        return []
    reply.metadata["triage"] = result.to_dict()
    trend = SentimentTrend(client, settings)
    trend.record(message.platform, message.channel, result.sentiment)
    destination = settings.oncall_destination
    if not destination:
        return []
    notices = []
    if result.urgent or result.strongly_negative:
        notices.append(oncall_notice(destination, message, result))
    spike = trend.spike(message.platform, message.channel)
    if spike is not None and trend.claim_alert(message.platform, message.channel):
        notices.append(oncall_notice(destination, message, None, spike=spike))
    return notices
