"""The sentiment trend, spike alerts and on-call notices, on a real Redis."""

from __future__ import annotations

from collections.abc import Callable

import redis

from bot.settings import Settings
from bot.types import IncomingMessage
from nlp.triage import Triage
from workers.triage import SentimentTrend, Spike, oncall_notice

NOW = 1_000_000 * 3600 + 1800.0  # half past some hour


def test_trend_counts_per_hour(
    make_settings: Callable[..., Settings], redis_client: redis.Redis
) -> None:
    trend = SentimentTrend(redis_client, make_settings())
    for sentiment, at in [("negative", NOW), ("positive", NOW), ("neutral", NOW - 3600)]:
        trend.record("slack", "C1", sentiment, at=at)
    rows = trend.trend("slack", "C1", hours=3, now=NOW)
    assert [r["hour"] for r in rows] == [999_998, 999_999, 1_000_000]
    assert rows[-1] == {"hour": 1_000_000, "negative": 1, "neutral": 0, "positive": 1}
    assert rows[-2]["neutral"] == 1
    assert redis_client.ttl("parley:sentiment:slack:C1") > 48 * 3600


def test_negative_spike_is_detected_and_alerted_once(
    make_settings: Callable[..., Settings], redis_client: redis.Redis
) -> None:
    trend = SentimentTrend(redis_client, make_settings(sentiment_alert_min=3))
    for hour in range(1, 25):  # a calm day: 1 negative in 10
        for i in range(10):
            trend.record("slack", "C1", "negative" if i == 0 else "neutral", at=NOW - hour * 3600)
    for _ in range(2):
        trend.record("slack", "C1", "negative", at=NOW)
    trend.record("slack", "C1", "neutral", at=NOW)
    assert trend.spike("slack", "C1", now=NOW) is None  # 2 negatives: below the minimum
    trend.record("slack", "C1", "negative", at=NOW)
    spike = trend.spike("slack", "C1", now=NOW)
    assert spike == Spike(negatives=3, share=0.75, baseline_share=0.1)
    assert trend.claim_alert("slack", "C1", now=NOW)
    assert not trend.claim_alert("slack", "C1", now=NOW)


def test_a_steadily_unhappy_channel_is_not_a_spike(
    make_settings: Callable[..., Settings], redis_client: redis.Redis
) -> None:
    trend = SentimentTrend(redis_client, make_settings(sentiment_alert_min=3))
    for hour in range(0, 25):
        for i in range(4):
            trend.record("telegram", "-1", "negative" if i < 3 else "neutral", at=NOW - hour * 3600)
    assert trend.spike("telegram", "-1", now=NOW) is None


def test_oncall_notices() -> None:
    message = IncomingMessage(
        platform="telegram", channel="42", user="7", text="You charged me twice!", event_id="u1",
        user_name="Maria",
    )  # fmt: skip
    triage = Triage("negative", 0.9, ("payment",))
    notice = oncall_notice("slack:C0ONCALL", message, triage)
    assert (notice.platform, notice.channel, notice.kind) == ("slack", "C0ONCALL", "notice")
    assert notice.text == "Urgent (payment) from Maria in telegram 42:\nYou charged me twice!"
    assert notice.idempotency_key == "oncall:telegram:u1"
    spike = oncall_notice("slack:C0ONCALL", message, None, spike=Spike(6, 0.6, 0.1))
    assert spike.text.startswith("Negative messages are spiking in telegram 42: 6 in the last hour")
