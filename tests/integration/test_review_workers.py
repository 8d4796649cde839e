"""The review workflow at the workers level: real Redis, a real `parley worker`, the local
deliverer standing in for any platform (customer and agents' destination are local channels)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
import redis

from bot.settings import Settings
from bot.types import IncomingMessage
from tests.conftest import WorkerProcess
from tests.fakes import calls_key
from tests.waiting import wait_for
from workers.intake import accept_message
from workers.keys import Keys
from workers.preferences import ChannelSettings
from workers.review import Agent, agent_command, decide
from workers.review.store import review_id_for
from workers.runtime import Runtime, configure

pytestmark = pytest.mark.integration

AGENT = Agent("slack", "UAGENT", name="Ana")
OTHER = Agent("telegram", "42", name="Bo")
KEYS = Keys("parley")
TRANSLATOR = "tests.fakes_translation:build_recording_translator"


def outbox(client: redis.Redis, name: str) -> list[dict[str, Any]]:
    return [json.loads(x) for x in client.lrange(KEYS.local_reply(name), 0, -1)]


def setup(
    make_settings: Callable[..., Settings],
    start_worker: Callable[..., WorkerProcess],
    *,
    policy: str = "review",
    expiry: int = 3600,
    **env: str,
) -> Runtime:
    settings = make_settings(review_agents=("slack:UAGENT", "telegram:42"), review_expiry=expiry)
    runtime = configure(settings)
    runtime.preferences.set_channel(
        "local",
        "C1",
        ChannelSettings(policy=policy, review_destination="local:REVIEWS"),  # type: ignore[arg-type]
    )
    start_worker(
        PARLEY_REVIEW_AGENTS="slack:UAGENT,telegram:42",
        PARLEY_REVIEW_EXPIRY=str(expiry),
        PARLEY_TRANSLATOR_FACTORY=TRANSLATOR,
        **env,
    )
    return runtime


def customer(runtime: Runtime, text: str, event: str = "ev1", language: str | None = None) -> str:
    message = IncomingMessage(
        platform="local",
        channel="C1",
        user="cust",
        text=text,
        event_id=event,
        user_name="Carla",
        language=language,
    )
    assert accept_message(message, runtime)
    return review_id_for("parley", f"local:{event}")


def card_posted(client: redis.Redis, rid: str, count: int = 1) -> list[dict[str, Any]]:
    return wait_for(
        lambda: len(outbox(client, f"review:{rid}")) >= count and outbox(client, f"review:{rid}")
    )  # type: ignore[no-any-return]


def test_review_policy_card_then_approve_sends_once_and_audits_redacted(
    make_settings: Callable[..., Settings],
    start_worker: Callable[..., WorkerProcess],
    redis_client: redis.Redis,
) -> None:
    runtime = setup(make_settings, start_worker)
    rid = customer(
        runtime, "Reset my password please, mail ana.lopez@example.com or +34 612 345 678"
    )
    note = wait_for(lambda: outbox(redis_client, "ev1"))[0]
    assert note["text"].startswith("Thanks for your message!")
    assert note["metadata"]["draft"]["action"] == "escalate"
    assert "passages" not in note["metadata"]
    card = card_posted(redis_client, rid)[0]
    review = card["metadata"]["review"]
    assert card["kind"] == "review" and card["idempotency_key"] == f"review:{rid}:card"
    assert [b["action"] for b in card["buttons"]] == [
        "review:approve",
        "review:edit",
        "review:reject",
    ]
    assert review["status"] == "pending" and review["draft_text"].startswith("echo: Reset")
    assert review["customer"]["user_name"] == "Carla" and review["customer_text_translated"] == ""
    assert "Review " + rid in card["text"]

    assert "1 draft waiting" in agent_command(runtime, AGENT, "pending")
    stranger = decide(runtime, review_id=rid, decision="approve", agent=Agent("slack", "UX"))
    assert not stranger.ok and stranger.message == "Only support agents can review drafts."

    results = []

    def click(agent: Agent) -> None:
        results.append(decide(runtime, review_id=rid, decision="approve", agent=agent))

    threads = [threading.Thread(target=click, args=(a,)) for a in (AGENT, OTHER) * 4]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(r.ok for r in results) == 1
    assert all(r.status == "approved" for r in results)
    assert any(r.message.startswith("Already approved by") for r in results)

    answer = wait_for(
        lambda: len(outbox(redis_client, "ev1")) == 2 and outbox(redis_client, "ev1")
    )[1]
    assert answer["text"].startswith("echo: Reset my password")
    assert answer["idempotency_key"] == f"review:{rid}:answer"
    update = card_posted(redis_client, rid, 2)[1]
    assert update["replaces"] == f"review:{rid}:card" and update["buttons"] == []
    assert update["metadata"]["review"]["final_text_sent"] == answer["text"]
    assert "Approved by" in update["text"]

    entries = wait_for(lambda: redis_client.xrange(KEYS.review_stream()))
    assert len(entries) == 1
    data = json.loads(entries[0][1]["data"])
    assert data["decision"] == "approve" and data["review_id"] == rid
    assert "[email]" in data["customer_text"] and "[phone]" in data["customer_text"]
    assert "example.com" not in entries[0][1]["data"] and "612 345" not in entries[0][1]["data"]
    assert data["agent"] in ("slack:UAGENT", "telegram:42") and data["customer"] == "local:cust"
    time.sleep(1.0)
    assert len(outbox(redis_client, "ev1")) == 2  # sent once
    assert redis_client.llen(calls_key(runtime.settings)) == 1
    assert agent_command(runtime, AGENT, "pending") == "No drafts are waiting for review."


def test_edit_in_another_language_is_translated_and_reject_paths(
    make_settings: Callable[..., Settings],
    start_worker: Callable[..., WorkerProcess],
    redis_client: redis.Redis,
) -> None:
    runtime = setup(make_settings, start_worker)
    rid = customer(runtime, "¿Cómo cambio mi contraseña?", language="es")
    card = card_posted(redis_client, rid)[0]["metadata"]["review"]
    assert card["customer_language"] == "es"
    assert card["customer_text_translated"].startswith("[en] ¿CÓMO")
    assert card["draft_translated"].startswith("[en] ECHO")

    empty = decide(runtime, review_id=rid, decision="edit", agent=AGENT, text="  ")
    assert (empty.ok, empty.message, empty.invalid) == (False, "The edited text is empty.", "text")
    long = decide(runtime, review_id=rid, decision="edit", agent=AGENT, text="x" * 5000)
    assert not long.ok and "too long" in long.message
    german = "Bitte öffnen Sie die Einstellungen und klicken Sie auf Passwort zurücksetzen."
    done = decide(runtime, review_id=rid, decision="edit", agent=AGENT, text=german)
    assert done.ok and done.status == "edited"
    answer = wait_for(
        lambda: len(outbox(redis_client, "ev1")) == 2 and outbox(redis_client, "ev1")
    )[1]
    assert answer["text"] == "[es] " + german.upper()
    update = card_posted(redis_client, rid, 2)[1]["metadata"]["review"]
    assert update["final_text"] == german and update["final_text_sent"] == answer["text"]
    history = agent_command(runtime, AGENT, "history", rid)
    assert "Customer: ¿Cómo cambio mi contraseña?" in history
    assert f"Parley: [es] {german.upper()}" in history  # the answer sent is remembered
    late = decide(runtime, review_id=rid, decision="reject", agent=OTHER)
    assert not late.ok and late.message.startswith("Already edited by Ana at")

    # Reject without an answer: nothing is sent; with one: it is sent (English customer).
    rid2 = customer(runtime, "Where is my invoice?", event="ev2")
    card_posted(redis_client, rid2)
    assert decide(runtime, review_id=rid2, decision="reject", agent=OTHER, reason="wrong").ok
    update2 = card_posted(redis_client, rid2, 2)[1]
    assert "Nothing was sent" in update2["text"] and "Reason: wrong" in update2["text"]
    rid3 = customer(runtime, "Do you ship to Canada?", event="ev3")
    card_posted(redis_client, rid3)
    result = decide(
        runtime,
        review_id=rid3,
        decision="reject",
        agent=OTHER,
        text="Yes, in 5 days.",
    )
    assert result.message == "Rejected: your answer is being sent instead."
    sent = wait_for(lambda: len(outbox(redis_client, "ev3")) == 2 and outbox(redis_client, "ev3"))
    assert sent[1]["text"] == "Yes, in 5 days."
    time.sleep(0.5)
    assert len(outbox(redis_client, "ev2")) == 1  # only the note
    decisions = [
        json.loads(e[1]["data"])["decision"] for e in redis_client.xrange(KEYS.review_stream())
    ]
    assert sorted(decisions) == ["edit", "reject", "reject"]


def test_expiry_updates_the_card_and_escalates(
    make_settings: Callable[..., Settings],
    start_worker: Callable[..., WorkerProcess],
    redis_client: redis.Redis,
) -> None:
    runtime = setup(make_settings, start_worker, expiry=2)
    rid = customer(runtime, "Is there a student discount?")
    card_posted(redis_client, rid)
    posts = card_posted(redis_client, rid, 3)
    assert posts[1]["metadata"]["review"]["status"] == "expired" and posts[1]["buttons"] == []
    assert "expired after" in posts[2]["text"] and posts[2]["kind"] == "notice"
    result = decide(runtime, review_id=rid, decision="approve", agent=AGENT)
    assert (result.ok, result.status, result.message) == (False, "expired", "This draft expired.")
    data = json.loads(wait_for(lambda: redis_client.xrange(KEYS.review_stream()))[0][1]["data"])
    assert data["decision"] == "expire"
    time.sleep(0.5)
    assert len(outbox(redis_client, "ev1")) == 1


def test_low_confidence_in_answer_mode_and_no_destination(
    make_settings: Callable[..., Settings],
    start_worker: Callable[..., WorkerProcess],
    redis_client: redis.Redis,
) -> None:
    runtime = setup(make_settings, start_worker, policy="answer")
    runtime.preferences.set_channel(
        "local",
        "C1",
        ChannelSettings(review_destination="local:REVIEWS", confidence_threshold=0.95),
    )
    rid = customer(runtime, "What is the refund policy?")
    note = wait_for(lambda: outbox(redis_client, "ev1"))[0]
    assert note["text"].startswith("I'm not sure about this one")
    card = card_posted(redis_client, rid)[0]["metadata"]["review"]
    assert "below the channel threshold" in card["reason"] and card["confidence"] == 0.9
    taken = agent_command(runtime, AGENT, "take", rid)
    assert taken.startswith(f"You took review {rid}.") and "Taken by Ana." in taken
    assert "(it was taken by Ana)" in agent_command(runtime, OTHER, "take", rid)
    update = card_posted(redis_client, rid, 2)[1]
    assert update["replaces"] == f"review:{rid}:card" and len(update["buttons"]) == 3
    assert "taken by Bo" in agent_command(runtime, AGENT, "pending")
    history = agent_command(runtime, AGENT, "history", rid)
    assert "Customer: What is the refund policy?" in history
    assert agent_command(runtime, Agent("slack", "UX"), "pending").startswith("Only support")
    assert "no review" in agent_command(runtime, AGENT, "take", "0123456789abcdef")

    runtime.preferences.set_channel("local", "C1", ChannelSettings(confidence_threshold=0.95))
    customer(runtime, "And exchanges?", event="ev2")
    note = wait_for(lambda: outbox(redis_client, "ev2"))[0]
    assert note["text"].startswith("I'm not sure about this one")
    time.sleep(0.5)
    assert len(runtime.redis.zrange(KEYS.reviews_pending(), 0, -1)) == 1
