"""Opening reviews and preparing the final answer, in-process on a real Redis (no worker)."""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest
import redis

from bot.settings import Settings
from bot.types import IncomingMessage
from nlp.langid import Py3LangidDetector
from nlp.translation.chat import ChatTranslator
from tests.fakes_nlp import FakeTranslator
from workers.pipeline import make_reply
from workers.preferences import ChannelSettings
from workers.review.card import card_metadata, card_text
from workers.review.decide import review_store
from workers.review.finish import final_answer
from workers.review.opening import open_review, prepare_card
from workers.runtime import Runtime, configure

FAILING = "tests.unit.test_review_opening:build_failing_translator"


def build_failing_translator(settings: Settings) -> ChatTranslator:
    return ChatTranslator(FakeTranslator(fail=True), detector=Py3LangidDetector())


def escalated(runtime: Runtime, text: str, event: str = "e1") -> tuple[IncomingMessage, str]:
    message = IncomingMessage(
        platform="telegram", channel="-100", user="42", text=text, event_id=event, language="es"
    )
    draft = {
        "action": "escalate",
        "language": "es",
        "confidence": 0.3,
        "draft_text": "Premium cuesta 49 euros al mes.",
        "citations": [],
        "reason": "low",
    }
    reply = make_reply(message, "nota", draft=draft)
    reply.metadata["passages"] = [{"doc_id": "plans", "title": "Plans", "score": 0.8, "text": "t"}]
    channel = ChannelSettings(review_destination="slack:C0REVIEW")
    out = open_review(runtime, message, reply, channel)
    assert "passages" not in out.metadata
    return message, str(out.metadata["review_id"])


def test_translation_failure_keeps_the_card_untranslated_with_a_note(
    make_settings: Callable[..., Settings], redis_client: redis.Redis
) -> None:
    runtime = configure(make_settings(translator_factory=FAILING))
    _, rid = escalated(runtime, "¿Cuánto cuesta el plan Premium?")
    store = review_store(runtime)
    prepare_card(runtime, store, rid)
    review = store.get(rid)
    assert review is not None and review.data["translated"]
    card = card_metadata(review)
    assert card["customer_text_translated"] == "" and card["draft_translated"] == ""
    assert card["passages"][0]["title"] == "Plans"
    assert "translation into en failed: shown untranslated" in card_text(card)
    assert redis_client.llen("models") == 1  # parley.review_open queued

    # An agent's edit that cannot be translated is not sent; the reason is kept for the card.
    store.decide(rid, "edited", by="slack:U1", name="Ana", final_text="Premium costs 49 euros.")
    decided = store.get(rid)
    assert decided is not None
    text, _, error = final_answer(runtime, store, decided)
    assert text == "" and "could not translate the answer into es" in error
    assert "Not delivered to the customer" in card_text(card_metadata(store.get(rid)))  # type: ignore[arg-type]


def test_no_review_destination_keeps_the_handoff_note(
    make_settings: Callable[..., Settings],
    redis_client: redis.Redis,
    caplog: pytest.LogCaptureFixture,
) -> None:
    runtime = configure(make_settings())
    message = IncomingMessage(platform="slack", channel="C1", user="U1", text="hi", event_id="e")
    reply = make_reply(message, "note", draft={"action": "escalate", "draft_text": "x"})
    reply.metadata["passages"] = []
    with caplog.at_level(logging.WARNING):
        out = open_review(runtime, message, reply, ChannelSettings())
    assert out.text == "note" and "review_id" not in out.metadata
    assert "no review destination" in caplog.text
    assert redis_client.zcard("parley:reviews:pending") == 0
    bad = ChannelSettings(review_destination="email:ops")
    assert "review_id" not in open_review(runtime, message, reply, bad).metadata
    # The terminal has no reviewers: no warning printed into `parley chat`.
    caplog.clear()
    local = IncomingMessage(
        platform="local", channel="terminal", user="me", text="hi", event_id="l"
    )
    with caplog.at_level(logging.WARNING):
        open_review(
            runtime,
            local,
            make_reply(local, "note", draft={"action": "escalate"}),
            ChannelSettings(),
        )
    assert caplog.text == ""


def test_review_policy_turns_every_answer_into_a_note_and_keeps_the_passages(
    make_settings: Callable[..., Settings],
) -> None:
    from tests.fakes import EchoAnswerer
    from workers.pipeline import draft_reply

    settings = make_settings()
    runtime = configure(settings)
    message = IncomingMessage(
        platform="slack", channel="C1", user="U1", text="hola", event_id="e9", language="es"
    )
    reply = draft_reply(
        message,
        settings=settings,
        store=runtime.conversations,
        answerer=lambda: EchoAnswerer(settings),
        channel=ChannelSettings(policy="review", review_destination="slack:C0REVIEW"),
    )
    assert reply is not None and reply.text.startswith("¡Gracias por tu mensaje!")
    draft = reply.metadata["draft"]
    assert (draft["action"], draft["draft_text"]) == ("escalate", "echo: hola")
    assert draft["reason"] == "the channel reviews every draft"
    assert reply.metadata["passages"][0]["text"] == "passage"


def test_the_default_review_destination_serves_channels_without_one(
    make_settings: Callable[..., Settings], redis_client: redis.Redis
) -> None:
    runtime = configure(make_settings(review_destination="telegram:-1009"))
    message = IncomingMessage(platform="telegram", channel="5", user="5", text="hi", event_id="p")
    reply = make_reply(message, "note", draft={"action": "escalate", "draft_text": "x"})
    out = open_review(runtime, message, reply, ChannelSettings())
    review = review_store(runtime).get(str(out.metadata["review_id"]))
    assert review is not None and review.data["destination"] == "telegram:-1009"
