"""Triage with the real offline multilingual embedder, and `parley triage`."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import replace

import pytest
import redis
from typer.testing import CliRunner

from bot.cli import app
from bot.errors import InvalidInputError
from bot.settings import Settings
from bot.types import IncomingMessage, OutgoingMessage
from nlp.triage import EmbeddingTriage, Example, urgency_cues
from retrieval.embedders import load_embedder
from workers.review.store import ReviewStore
from workers.triage import SentimentTrend, triage_reply

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def triage() -> EmbeddingTriage:
    return EmbeddingTriage(load_embedder("builtin:multilingual-e5-small"))


def test_flags_and_sentiment_across_languages(triage: EmbeddingTriage) -> None:
    texts = [
        "The site has been down all morning, nobody can log in!",
        "Me han cobrado dos veces la factura.",
        "Wir werden rechtliche Schritte einleiten.",
        "Jag vill säga upp mitt abonnemang.",
        "谢谢\uff0c问题解决了\uff01",
        "How do I export a report?",
        "",
    ]
    results = triage.triage(texts)
    assert [r.urgency for r in results[:4]] == [("outage",), ("payment",), ("legal",), ("churn",)]
    assert all(r.sentiment == "negative" and r.priority == 2 for r in results[:4])
    assert results[4].sentiment == "positive" and results[4].priority == 0
    assert results[5].sentiment == "neutral" and not results[5].urgent
    assert results[6].sentiment == "neutral" and results[6].urgency == ()


def test_lexicon_cues_are_reported() -> None:
    assert urgency_cues("We will sue if the refund does not arrive") == {
        "payment": "refund",
        "legal": "sue",
    }


def test_too_few_examples_is_a_clear_error() -> None:
    embedder = load_embedder("builtin:multilingual-e5-small")
    with pytest.raises(InvalidInputError, match="at least 6"):
        EmbeddingTriage(embedder, [Example("hi", "neutral")])


def test_cli_triage_json() -> None:
    result = CliRunner().invoke(app, ["triage", "Our lawyer will call you", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["urgency"] == ["legal"] and data["urgent"] is True and data["cues"] == ["lawyer"]
    empty = CliRunner().invoke(app, ["triage", "  "])
    assert empty.exit_code == 1 and "empty" in empty.output


def test_answers_are_triaged_and_urgent_ones_reach_oncall(
    make_settings: Callable[..., Settings], redis_client: redis.Redis
) -> None:
    settings = make_settings(triage=True, oncall_destination="slack:C0ONCALL")
    message = IncomingMessage(
        platform="telegram", channel="42", user="7", text="You charged my card twice!!",
        event_id="u1", user_name="Maria",
    )  # fmt: skip
    reply = OutgoingMessage(platform="telegram", channel="42", text="...", idempotency_key="r1")
    [notice] = triage_reply(settings, redis_client, message, reply)
    assert reply.metadata["triage"]["urgency"] == ["payment"]
    assert reply.metadata["triage"]["priority"] == 2
    assert notice.channel == "C0ONCALL" and notice.text.startswith("Urgent (payment) from Maria")
    calm = replace(message, text="How do I export a report?", event_id="u2")
    calm_reply = OutgoingMessage(platform="telegram", channel="42", text=".", idempotency_key="r2")
    assert triage_reply(settings, redis_client, calm, calm_reply) == []
    assert calm_reply.metadata["triage"]["sentiment"] == "neutral"
    rows = SentimentTrend(redis_client, settings).trend("telegram", "42", hours=1)
    assert rows[-1]["negative"] == 1 and rows[-1]["neutral"] == 1
    off = make_settings(triage=False)
    untouched = OutgoingMessage(platform="telegram", channel="42", text=".", idempotency_key="r3")
    assert triage_reply(off, redis_client, message, untouched) == []
    assert "triage" not in untouched.metadata


def test_urgent_reviews_are_listed_first(
    make_settings: Callable[..., Settings], redis_client: redis.Redis
) -> None:
    store = ReviewStore(redis_client, "parley", decided_ttl=60)
    customer = {"platform": "telegram", "channel": "42", "user": "7", "where": "telegram 42"}
    now = time.time()
    store.create("a" * 16, {"customer": customer, "created_at": now - 600, "triage": {}})
    store.create("b" * 16, {"customer": customer, "created_at": now, "triage": {"priority": 2}})
    store.create(
        "c" * 16, {"customer": customer, "created_at": now - 60, "triage": {"priority": 1}}
    )
    assert [r.review_id for r in store.pending()] == ["b" * 16, "c" * 16, "a" * 16]
