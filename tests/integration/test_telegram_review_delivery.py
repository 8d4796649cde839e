"""Review cards and prompts through TelegramDeliverer (PTB's Bot) against the fake Bot API."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
import redis

from bot.errors import InvalidInputError
from bot.settings import Settings
from bot.telegram.delivery import TelegramDeliverer, review_chats_key
from bot.types import Button, OutgoingMessage
from tests import fake_telegram as tg
from tests.unit.test_telegram_review_card import BUTTONS, RID, card

pytestmark = pytest.mark.integration

AGENTS = -1009999999999


@pytest.fixture
def fake() -> Iterator[tg.FakeTelegram]:
    with tg.FakeTelegram().serve() as server:
        yield server


@pytest.fixture
def sender(
    make_settings: Callable[..., Settings], fake: tg.FakeTelegram, redis_client: redis.Redis
) -> Iterator[TelegramDeliverer]:
    settings = make_settings(
        telegram_bot_token=tg.TOKEN,
        telegram_base_url=fake.base_url,
        telegram_rate_per_chat=100.0,
        telegram_rate_per_group=6000.0,
    )
    deliverer = TelegramDeliverer(settings, redis_client)
    yield deliverer
    deliverer.close()


def _card(
    key: str, *, replaces: str = "", buttons: tuple[Button, ...] = BUTTONS, **review: object
) -> OutgoingMessage:
    return OutgoingMessage(
        platform="telegram",
        channel=str(AGENTS),
        text="plain fallback",
        idempotency_key=key,
        buttons=buttons,
        metadata={"review": card(**review), "reply_to": f"review:{RID}"},
        kind="review",
        replaces=replaces,
    )


def test_card_posted_with_keyboard_then_edited_in_place(
    fake: tg.FakeTelegram, sender: TelegramDeliverer, redis_client: redis.Redis
) -> None:
    first = f"review:{RID}:card"
    assert sender.deliver(_card(first))
    assert not sender.deliver(_card(first))  # once per key
    (sent,) = [c.params for c in fake.calls_of("sendMessage")]
    assert sent["parse_mode"] == "HTML" and "reply_parameters" not in sent
    assert sent["text"].startswith(f"<b>Review {RID}</b>")
    keyboard = sent["reply_markup"]["inline_keyboard"]
    assert [b["callback_data"] for b in keyboard[0]] == [
        f"review:approve:{RID}",
        f"review:edit:{RID}",
        f"review:reject:{RID}",
    ]
    assert [b["text"] for b in keyboard[0]] == ["Approve", "Edit", "Reject"]
    assert redis_client.smembers(review_chats_key("parley")) == {str(AGENTS)}
    message_id = int(fake.calls_of("sendMessage")[0].params.get("message_id", 0) or 1001)
    assert (AGENTS, message_id) in fake.markups

    taken = _card(f"{first}:taken", replaces=first, taken_by="Ana")
    assert sender.deliver(taken)  # still pending: the keyboard stays
    assert "Taken by <b>Ana</b>." in fake.messages[(AGENTS, message_id)]
    assert (AGENTS, message_id) in fake.markups

    decided = _card(
        f"{first}:approved",
        replaces=first,
        buttons=(),
        status="approved",
        decided_by="Ana",
        decided_at=1_764_072_120,
        final_text_sent="Öffnen Sie Einstellungen.",
    )
    assert sender.deliver(decided)
    edit = fake.calls_of("editMessageText")[-1].params
    assert edit["message_id"] == message_id and edit["reply_markup"] == {}  # PTB's empty markup
    assert "✅ Approved" in fake.messages[(AGENTS, message_id)]
    assert (AGENTS, message_id) not in fake.markups  # the buttons are gone
    assert len(fake.calls_of("sendMessage")) == 1


def test_card_to_a_chat_the_bot_cannot_post_to_is_a_clear_error(
    fake: tg.FakeTelegram, sender: TelegramDeliverer, redis_client: redis.Redis
) -> None:
    fake.forbidden_chats.add(AGENTS)
    with pytest.raises(InvalidInputError, match=r"Chat not found \(is the bot a member"):
        sender.deliver(_card("review:x:card"))
    fake.forbidden_chats.clear()
    assert sender.deliver(_card("review:x:card"))  # the claim was released: a retry posts


def test_force_reply_prompt(fake: tg.FakeTelegram, sender: TelegramDeliverer) -> None:
    prompt = OutgoingMessage(
        platform="telegram",
        channel=str(AGENTS),
        text=f"@user7, reply to this message with the new answer for review {RID}.",
        idempotency_key="review-prompt:1",
        metadata={
            "force_reply": True,
            "placeholder": "The new answer",
            "selective": True,
            "reply_to": f"{AGENTS}:1001",
        },
        kind="notice",
    )
    assert sender.deliver(prompt)
    sent = fake.calls_of("sendMessage")[0].params
    assert sent["reply_markup"] == {
        "force_reply": True,
        "selective": True,
        "input_field_placeholder": "The new answer",
    }
    assert sent["reply_parameters"]["message_id"] == 1001
