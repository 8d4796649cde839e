"""The review state machine on a real Redis: exactly-once transitions, expiry, undo, audit."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import redis

from workers.embedded import EmbeddedRedis
from workers.keys import Keys
from workers.review.audit import record_decision
from workers.review.card import card_message, card_metadata, card_text
from workers.review.store import ReviewStore, review_id_for

KEYS = Keys("parley")


def data(**extra: Any) -> dict[str, Any]:
    now = time.time()
    values: dict[str, Any] = {
        "customer": {
            "platform": "telegram",
            "channel": "-100",
            "user": "42",
            "user_name": "Lucía",
            "where": "telegram -100",
        },
        "customer_text": "Mi correo es ana@example.com",
        "customer_language": "es",
        "customer_text_translated": "My email is ana@example.com",
        "agent_language": "en",
        "draft_text": "Hola",
        "draft_translated": "Hello",
        "confidence": 0.42,
        "passages": [
            {
                "doc_id": "d1",
                "title": "Plans",
                "source": "kb/plans.md",
                "url": "https://x.io/p",
                "score": 0.81,
                "text": "call +1 415 555 2671",
            }
        ],
        "reason": "low confidence",
        "destination": "slack:C0REVIEW",
        "created_at": now,
        "expires_at": now + 60,
        "model": "m",
        "thread": "",
        "event_id": "e",
    }
    values.update(extra)
    return values


def test_ids_are_stable_16_hex() -> None:
    rid = review_id_for("parley", "telegram:123")
    assert len(rid) == 16 and int(rid, 16) >= 0
    assert rid == review_id_for("parley", "telegram:123") != review_id_for("parley", "slack:123")


def test_exactly_one_of_many_concurrent_decisions_wins(
    redis_client: redis.Redis, redis_server: EmbeddedRedis
) -> None:
    store = ReviewStore(redis_client, "parley", decided_ttl=600)
    rid = review_id_for("parley", "e1")
    assert store.create(rid, data())
    assert not store.create(rid, data(draft_text="other"))  # a re-run keeps the first
    results = []

    def decide(i: int) -> None:
        client = redis.Redis.from_url(redis_server.url, decode_responses=True)
        own = ReviewStore(client, "parley", decided_ttl=600)
        status = ("approved", "edited", "rejected")[i % 3]
        results.append(own.decide(rid, status, by=f"slack:U{i}", name=f"agent{i}"))

    threads = [threading.Thread(target=decide, args=(i,)) for i in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    winners = [r for r in results if r.won]
    assert len(winners) == 1
    review = store.get(rid)
    assert review is not None and review.status == winners[0].status
    assert all(r.status == review.status and r.by == winners[0].by for r in results)
    assert redis_client.zcard(KEYS.reviews_pending()) == 0
    assert 0 < redis_client.ttl(KEYS.review(rid)) <= 600


def test_expiry_waits_until_due_and_undo_restores_pending(redis_client: redis.Redis) -> None:
    store = ReviewStore(redis_client, "parley", decided_ttl=600)
    rid = review_id_for("parley", "e2")
    store.create(rid, data())
    early = store.decide(rid, "expired", by="", name="", expired_at=time.time())
    assert not early.won and early.status == "pending"
    assert store.decide(rid, "approved", by="slack:U1", name="Ana").won
    assert store.undo(rid, "approved", "slack:U1", time.time())
    assert store.get(rid).status == "pending"  # type: ignore[union-attr]
    assert redis_client.ttl(KEYS.review(rid)) == -1 and redis_client.zcard(KEYS.reviews_pending())
    late = store.decide(rid, "expired", by="", name="", expired_at=time.time() + 120)
    assert late.won and store.get("not-an-id") is None


def test_card_fields_and_audit_entry_once_redacted(redis_client: redis.Redis) -> None:
    store = ReviewStore(redis_client, "parley", decided_ttl=600)
    rid = review_id_for("parley", "e3")
    store.create(rid, data())
    pending = store.get(rid)
    assert pending is not None
    card = card_message(pending)
    assert card.kind == "review" and card.idempotency_key == f"review:{rid}:card"
    assert [(b.action, b.value) for b in card.buttons] == [
        ("review:approve", rid),
        ("review:edit", rid),
        ("review:reject", rid),
    ]
    meta = card.metadata["review"]
    contract = {
        "review_id",
        "status",
        "customer",
        "customer_text",
        "customer_language",
        "customer_text_translated",
        "agent_language",
        "draft_text",
        "draft_translated",
        "passages",
        "confidence",
        "reason",
        "decided_by",
        "decided_at",
        "final_text",
        "final_text_sent",
        "reject_reason",
        "expires_at",
    }
    assert contract <= set(meta)
    assert "[en] My email is" in card.text and "1. Plans (0.81)" in card.text

    store.decide(rid, "edited", by="slack:U1", name="Ana", final_text="Write to bob@x.org")
    store.update(rid, final_text_sent="Escribe a bob@x.org", final_language="es")
    decided = store.get(rid)
    assert decided is not None
    update = card_message(decided, version="edited")
    assert update.replaces == f"review:{rid}:card" and update.buttons == ()
    assert "Edited by Ana at" in card_text(card_metadata(decided))
    first = record_decision(redis_client, "parley", decided)
    assert first is not None and record_decision(redis_client, "parley", decided) is None
    entries = redis_client.xrange(KEYS.review_stream())
    assert len(entries) == 1
    entry = json.loads(entries[0][1]["data"])
    assert entry["decision"] == "edit" and entry["agent"] == "slack:U1"
    assert entry["customer_text"] == "Mi correo es [email]"
    assert entry["final_text"] == "Escribe a [email]" and entry["final_language"] == "es"
    assert entry["passages"] == [
        {"doc_id": "d1", "title": "Plans", "score": 0.81, "text": "call [phone]"}
    ]
    required = {
        "review_id",
        "platform",
        "channel",
        "customer",
        "customer_language",
        "customer_text",
        "passages",
        "draft_text",
        "final_text",
        "final_language",
        "agent_language",
        "decision",
        "agent",
        "reject_reason",
        "created_at",
        "decided_at",
        "model",
    }
    assert required <= set(entry)
