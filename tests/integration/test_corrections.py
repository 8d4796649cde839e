"""Translation corrections, platform-neutral part: a posted translation is found by its platform
message id, a correction goes to the learning stream once and becomes an edit of the post
(real Redis, the real translation pipeline with the tagging translator)."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
import redis

from bot.errors import InvalidInputError
from bot.settings import Settings
from bot.types import IncomingMessage, MessageKind, OutgoingMessage
from tests.fakes_translation import seed_posted_translation
from workers.corrections import (
    apply_correction,
    find_posted_translation,
    may_fix,
    remember_posted,
)
from workers.keys import Keys
from workers.review.agents import add_agent

pytestmark = pytest.mark.integration


def _posted(settings: Settings, client: redis.Redis) -> list[OutgoingMessage]:
    message = IncomingMessage(
        platform="slack", channel="C1", user="U1", event_id="Ev1", message_id="1700.000100",
        text="¿Dónde está la factura de abril? Escríbeme a ana@example.com",
        kind=MessageKind.CHANNEL,
    )  # fmt: skip
    return seed_posted_translation(settings, client, message, "1700.000200")


def test_a_correction_is_recorded_once_redacted_and_edits_the_post(
    make_settings: Callable[..., Settings], redis_client: redis.Redis
) -> None:
    settings = make_settings()
    [translation] = _posted(settings, redis_client)
    assert find_posted_translation(redis_client, settings, "slack", "C1", "1700.000999") is None
    posted = find_posted_translation(redis_client, settings, "slack", "C1", "1700.000200")
    assert posted is not None
    assert posted.key == "translation:slack:C1:1700.000100:en" == translation.idempotency_key
    assert posted.source_language == "es" and posted.target_language == "en"
    assert posted.text.startswith("[en]") and "factura" in posted.source_text

    fixed = "Where is the April invoice? Write to me at ana@example.com"
    edit = apply_correction(redis_client, settings, posted, fixed, user="slack:U2")
    assert edit is not None
    assert edit.replaces == posted.key and edit.text == fixed and edit.kind == "translation"
    assert edit.thread == translation.thread
    again = find_posted_translation(redis_client, settings, "slack", "C1", "1700.000200")
    assert again is not None and again.text == fixed  # the shown text is the correction now
    # A repeat (say the first edit could not be enqueued) gets the same edit, recorded once.
    repeat = apply_correction(redis_client, settings, again, fixed, user="slack:U2")
    assert repeat is not None and repeat.idempotency_key == edit.idempotency_key

    stream = Keys(settings.namespace).translation_corrections_stream()
    [(_, fields)] = redis_client.xrange(stream)
    data = json.loads(fields[b"data"] if b"data" in fields else fields["data"])
    assert data["corrected_translation"].startswith("Where is the April invoice?")
    assert "ana@example.com" not in json.dumps(data)  # redacted before it is stored
    assert data["machine_translation"].startswith("[en]")
    assert data["target_language"] == "en" and data["user"] == "slack:U2"


def test_empty_too_long_and_unchanged_corrections(
    make_settings: Callable[..., Settings], redis_client: redis.Redis
) -> None:
    settings = make_settings()
    _posted(settings, redis_client)
    posted = find_posted_translation(redis_client, settings, "slack", "C1", "1700.000200")
    assert posted is not None
    with pytest.raises(InvalidInputError, match="empty"):
        apply_correction(redis_client, settings, posted, "   ", user="slack:U2")
    with pytest.raises(InvalidInputError, match="too long"):
        apply_correction(redis_client, settings, posted, "x" * 5000, user="slack:U2")
    assert apply_correction(redis_client, settings, posted, posted.text, user="slack:U2") is None
    stream = Keys(settings.namespace).translation_corrections_stream()
    assert redis_client.xlen(stream) == 0


def test_a_private_result_is_found_in_the_private_chat_and_slack_ephemerals_are_skipped(
    make_settings: Callable[..., Settings], redis_client: redis.Redis
) -> None:
    """A group `/translate` on Telegram answers in the user's private chat (`ephemeral_to`): the
    correction is looked up, and the edit sent, there. A Slack ephemeral cannot be edited."""
    import dataclasses

    settings = make_settings()
    [translation] = _posted(settings, redis_client)
    redis_client.delete(Keys(settings.namespace).posted_translation("slack", "C1", "1700.000200"))
    private = dataclasses.replace(translation, platform="telegram", ephemeral_to="42")
    ctx_record = Keys(settings.namespace).translations("slack", "C1", "1700.000100")
    fields = redis_client.hgetall(ctx_record)
    redis_client.hset(Keys(settings.namespace).translations("telegram", "C1", "1700.000100"),
                      mapping=fields)  # fmt: skip
    remember_posted(redis_client, settings, private, "77")
    assert find_posted_translation(redis_client, settings, "telegram", "C1", "77") is None
    posted = find_posted_translation(redis_client, settings, "telegram", "42", "77")
    assert posted is not None and posted.thread == ""
    edit = apply_correction(redis_client, settings, posted, "Fixed.", user="telegram:42")
    assert edit is not None and edit.channel == "42"
    slack_ephemeral = dataclasses.replace(translation, ephemeral_to="U1")
    remember_posted(redis_client, settings, slack_ephemeral, "1700.000300")
    assert find_posted_translation(redis_client, settings, "slack", "C1", "1700.000300") is None


def test_with_fixers_set_to_agents_only_support_agents_may_correct(
    make_settings: Callable[..., Settings], redis_client: redis.Redis
) -> None:
    settings = make_settings(translation_fixers="agents", review_agents="slack:U9")
    _posted(settings, redis_client)
    posted = find_posted_translation(redis_client, settings, "slack", "C1", "1700.000200")
    assert posted is not None
    assert not may_fix(redis_client, settings, "slack:U2")
    with pytest.raises(InvalidInputError, match="Only support agents can fix translations"):
        apply_correction(redis_client, settings, posted, "Where is it?", user="slack:U2")
    stream = Keys(settings.namespace).translation_corrections_stream()
    assert redis_client.xlen(stream) == 0  # nothing recorded, nothing edited
    assert apply_correction(redis_client, settings, posted, "Where is it?", user="slack:U9")
    # An agent added at run time (`/parley review agents add`) may correct too.
    add_agent(settings, redis_client, "telegram:7")
    assert may_fix(redis_client, settings, "telegram:7")
    assert may_fix(redis_client, make_settings(), "slack:U2")  # the default: anyone
