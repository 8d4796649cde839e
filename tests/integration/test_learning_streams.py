"""Collecting training data from the real Redis Streams: ack only after write, dedupe, forget."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
import redis

from bot.settings import Settings
from nlp.learning.datasets import load_dataset
from nlp.learning.streams import collect, forget_in_streams, record_translation_correction
from workers.keys import Keys

pytestmark = pytest.mark.integration


def review_entry(i: int, customer: str = "telegram:77", decision: str = "edit") -> dict[str, Any]:
    """A review-decisions entry in the review contract's format."""
    return {
        "review_id": f"{i:016x}", "platform": "telegram", "channel": "-100", "customer": customer,
        "customer_language": "en", "customer_text": f"How do I reset password number {i}?",
        "passages": [{"doc_id": "kb1", "title": "Passwords", "score": 0.9,
                      "text": "Reset it under Settings > Security."}],
        "draft_text": "NO_ANSWER", "final_text": f"Open Settings > Security ({i}).",
        "final_language": "en", "agent_language": "en", "decision": decision,
        "agent": "slack:UAGENT", "reject_reason": "", "created_at": 1.0, "decided_at": 2.0,
        "model": "builtin:qwen2.5-coder-0.5b-instruct",
    }  # fmt: skip


def add_reviews(client: redis.Redis, settings: Settings, entries: list[dict[str, Any]]) -> None:
    for entry in entries:
        client.xadd(Keys(settings.namespace).review_stream(), {"data": json.dumps(entry)})


def pending(client: redis.Redis, settings: Settings, stream: str) -> int:
    info: Any = client.xpending(stream, Keys(settings.namespace).learning_group())
    return int(info["pending"])


class CrashBeforeAck(redis.Redis):
    """A client whose process 'dies' right after the examples were written, before XACK."""

    def xack(self, *args: Any, **kwargs: Any) -> Any:
        raise KeyboardInterrupt("killed between write and ack")


def test_entries_become_examples_and_are_acked_after_the_write(
    redis_client: redis.Redis, make_settings: Callable[..., Settings]
) -> None:
    settings = make_settings()
    add_reviews(redis_client, settings, [review_entry(i) for i in range(6)])
    add_reviews(redis_client, settings, [review_entry(99, decision="expire")])
    record_translation_correction(
        redis_client, settings, source_text="Ring mig på 070-123 45 67, tack",
        source_language="sv", target_language="en", machine_translation="Ring me",
        corrected_translation="Call me at 070-123 45 67, thanks", user="slack:U5",
        platform="slack", channel="C1",
    )  # fmt: skip
    result = collect(redis_client, settings)
    assert (result.read, result.skipped, result.added) == (8, 1, {"dialogue": 6, "translation": 1})
    dialogue = load_dataset(settings, "dialogue").all()
    assert len(dialogue) == 6 and dialogue[0].passages[0]["title"] == "Passwords"
    [correction] = load_dataset(settings, "translation").all()
    assert "[phone]" in correction.input and "070" not in correction.output  # redacted
    keys = Keys(settings.namespace)
    assert pending(redis_client, settings, keys.review_stream()) == 0
    assert collect(redis_client, settings).read == 0  # nothing new


def test_a_crash_between_write_and_ack_loses_nothing_and_duplicates_nothing(
    redis_server: Any, redis_client: redis.Redis, make_settings: Callable[..., Settings]
) -> None:
    settings = make_settings()
    add_reviews(redis_client, settings, [review_entry(i) for i in range(5)])
    crashing = CrashBeforeAck.from_url(redis_server.url, decode_responses=True)
    with pytest.raises(KeyboardInterrupt):
        collect(crashing, settings)
    crashing.close()
    stream = Keys(settings.namespace).review_stream()
    assert pending(redis_client, settings, stream) == 5  # written, not acknowledged
    add_reviews(redis_client, settings, [review_entry(5)])
    result = collect(redis_client, settings)  # the restarted collector
    assert result.read == 6 and result.added == {"dialogue": 1}
    examples = load_dataset(settings, "dialogue").all()
    assert len(examples) == 6 and len({e.id for e in examples}) == 6
    assert pending(redis_client, settings, stream) == 0


def test_unreadable_entries_are_kept_on_disk_and_acknowledged(
    redis_client: redis.Redis, make_settings: Callable[..., Settings]
) -> None:
    settings = make_settings()
    stream = Keys(settings.namespace).review_stream()
    redis_client.xadd(stream, {"data": "{broken"})
    redis_client.xadd(stream, {"other": "field"})
    add_reviews(redis_client, settings, [review_entry(1)])
    result = collect(redis_client, settings)
    assert (result.corrupt, result.added) == (2, {"dialogue": 1})
    rejected = settings.learning_root / "datasets" / "rejected.jsonl"
    assert len(rejected.read_text().splitlines()) == 2


def test_forget_deletes_the_users_stream_entries_even_pending_ones(
    redis_client: redis.Redis, make_settings: Callable[..., Settings]
) -> None:
    settings = make_settings()
    add_reviews(redis_client, settings, [review_entry(i, "slack:UGONE") for i in range(3)])
    add_reviews(redis_client, settings, [review_entry(i, "slack:UKEEP") for i in range(3, 5)])
    assert forget_in_streams(redis_client, settings, "slack:UGONE") == 3
    assert redis_client.xlen(Keys(settings.namespace).review_stream()) == 2
    result = collect(redis_client, settings)
    assert {e.user for e in load_dataset(settings, "dialogue").all()} == {"slack:UKEEP"}
    assert result.added == {"dialogue": 2}
