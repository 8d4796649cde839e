"""Content drafts through the agents' review: real Redis, a real `parley worker`, local delivery
standing in for the channel and the agents' destination."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest
import redis

from bot.settings import Settings
from bot.types import IncomingMessage, MessageKind
from tests.conftest import WorkerProcess
from tests.waiting import wait_for
from workers.intake import accept_message
from workers.keys import Keys
from workers.preferences import ChannelSettings
from workers.review import Agent, agent_command, decide
from workers.review.store import review_id_for
from workers.runtime import Runtime, configure

pytestmark = pytest.mark.integration

AGENT = Agent("slack", "UAGENT", name="Ana")
KEYS = Keys("parley")
FAKES = {
    "PARLEY_TRANSLATOR_FACTORY": "tests.fakes_translation:build_tagging_translator",
    "PARLEY_CHAT_MODEL_FACTORY": "tests.fakes_content:build_echo_chat",
}


def outbox(client: redis.Redis, name: str) -> list[dict[str, Any]]:
    return [json.loads(x) for x in client.lrange(KEYS.local_reply(name), 0, -1)]


def setup(
    make_settings: Callable[..., Settings],
    start_worker: Callable[..., WorkerProcess],
    channel: ChannelSettings,
) -> Runtime:
    start_worker(PARLEY_REVIEW_AGENTS="slack:UAGENT", **FAKES)
    runtime = configure(
        make_settings(
            review_agents=("slack:UAGENT",),
            translator_factory=FAKES["PARLEY_TRANSLATOR_FACTORY"],
            chat_model_factory=FAKES["PARLEY_CHAT_MODEL_FACTORY"],
        )
    )
    runtime.preferences.set_channel("local", "C1", channel)
    return runtime


def write(runtime: Runtime, text: str, event: str) -> str:
    message = IncomingMessage(
        platform="local", channel="C1", user="U9", text=text, event_id=event, user_name="Mo",
        kind=MessageKind.COMMAND, intent="write", thread="command:U9",
    )  # fmt: skip
    assert accept_message(message, runtime)
    return review_id_for("parley", f"local:{event}")


def requester_reply(client: redis.Redis, event: str) -> str:
    item = client.blpop([KEYS.local_reply(event)], timeout=30)
    assert item is not None, f"no reply to {event}"
    return str(json.loads(item[1])["text"])


def test_review_flag_holds_the_draft_until_approved(
    make_settings: Callable[..., Settings],
    start_worker: Callable[..., WorkerProcess],
    redis_client: redis.Redis,
) -> None:
    channel = ChannelSettings(review_destination="local:REVIEWS", languages=("en", "es"))
    runtime = setup(make_settings, start_worker, channel)
    rid = write(runtime, "--review --tone formal announce SSO", "w1")
    told = requester_reply(redis_client, "w1")
    assert told.startswith(f"Sent to review ({rid}) in local:REVIEWS")
    assert "[en]\nDRAFT: announce SSO" in told and "[es]" in told
    card = wait_for(lambda: outbox(redis_client, f"review:{rid}"))[0]
    meta = card["metadata"]["review"]
    assert card["kind"] == "review" and meta["kind"] == "content"
    assert meta["customer_text"].endswith("announce SSO") and "[es]" in meta["draft_text"]
    assert card["text"].splitlines()[0].endswith("content draft")
    assert "\nBrief:\n" in card["text"]
    assert rid in agent_command(runtime, AGENT, "pending")

    assert decide(runtime, review_id=rid, decision="approve", agent=AGENT).ok
    posts = wait_for(
        lambda: [p for p in outbox(redis_client, f"review:{rid}") if p["kind"] == "answer"]
    )
    assert len(posts) == 1
    post = posts[0]
    assert post["channel"] == "C1" and post["thread"] == "" and post["ephemeral_to"] == ""
    assert post["text"] == meta["draft_text"]  # posted as drafted, not translated again
    assert not decide(
        runtime, review_id=rid, decision="approve", agent=AGENT
    ).ok  # a second click posts nothing
    time.sleep(0.5)
    assert len([p for p in outbox(redis_client, f"review:{rid}") if p["kind"] == "answer"]) == 1


def test_review_channel_reviews_content_and_edits_are_posted(
    make_settings: Callable[..., Settings],
    start_worker: Callable[..., WorkerProcess],
    redis_client: redis.Redis,
) -> None:
    channel = ChannelSettings(policy="review", review_destination="local:REVIEWS")
    runtime = setup(make_settings, start_worker, channel)
    rid = write(runtime, "--to en release note", "w2")
    assert requester_reply(redis_client, "w2").startswith(f"Sent to review ({rid})")
    wait_for(lambda: outbox(redis_client, f"review:{rid}"))
    assert decide(
        runtime, review_id=rid, decision="edit", agent=AGENT, text="SSO is live for everyone."
    ).ok
    post = wait_for(
        lambda: [p for p in outbox(redis_client, f"review:{rid}") if p["kind"] == "answer"]
    )[0]
    assert post["text"] == "SSO is live for everyone."


def test_without_a_destination_the_requester_is_told(
    make_settings: Callable[..., Settings],
    start_worker: Callable[..., WorkerProcess],
    redis_client: redis.Redis,
) -> None:
    runtime = setup(make_settings, start_worker, ChannelSettings())
    write(runtime, "--review --to en note", "w3")
    told = requester_reply(redis_client, "w3")
    assert told.startswith("Not sent to review: this channel has no review destination")
    assert "DRAFT: note" in told
