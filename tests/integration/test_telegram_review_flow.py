"""Review end to end in Telegram with the real `decide`: a customer's question, the card in the
agents' group, each button path, two agents at once, bad clicks and bad edits.

Real PTB against the fake Bot API, real Redis, a real `parley worker` (echo answerer)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from bot.settings import Settings
from bot.types import IncomingMessage
from tests import fake_telegram as tg
from tests.conftest import WorkerProcess
from tests.fake_slack import TOKEN as SLACK_TOKEN
from tests.fake_slack import FakeSlackServer
from tests.waiting import wait_for
from workers.intake import accept_message
from workers.preferences import ChannelSettings

pytestmark = pytest.mark.integration

AGENTS = -1009999999999
CUSTOMER = 42
ANA, BO, STRANGER = 7, 8, 99
TRANSLATOR = "tests.fakes_translation:build_recording_translator"


@pytest.fixture
def fake() -> Iterator[tg.FakeTelegram]:
    with tg.FakeTelegram().serve() as server:
        yield server


@pytest.fixture
def agents_setup(
    make_settings: Callable[..., Settings],
    fake: tg.FakeTelegram,
    start_worker: Callable[..., WorkerProcess],
) -> Iterator[Callable[..., tg.AdapterThread]]:
    """Start a worker and the adapter; the customer chat 42 is reviewed in the agents' group."""
    started: list[tg.AdapterThread] = []

    def start(*, expiry: int = 3600, max_input_chars: int = 4000, **env: str) -> tg.AdapterThread:
        common: dict[str, str] = {
            "PARLEY_TELEGRAM_BOT_TOKEN": tg.TOKEN,
            "PARLEY_TELEGRAM_BASE_URL": fake.base_url,
            "PARLEY_TELEGRAM_RATE_PER_CHAT": "100",
            "PARLEY_TELEGRAM_RATE_PER_GROUP": "6000",
            "PARLEY_REVIEW_AGENTS": f"telegram:{ANA},telegram:{BO}",
            "PARLEY_REVIEW_EXPIRY": str(expiry),
            "PARLEY_MAX_INPUT_CHARS": str(max_input_chars),
        }
        start_worker(PARLEY_TRANSLATOR_FACTORY=TRANSLATOR, **common, **env)
        settings = make_settings(
            telegram_bot_token=tg.TOKEN,
            telegram_base_url=fake.base_url,
            telegram_poll_timeout=1,
            telegram_rate_per_chat=100.0,
            telegram_rate_per_group=6000.0,
            review_agents=(f"telegram:{ANA}", f"telegram:{BO}"),
            review_expiry=expiry,
            max_input_chars=max_input_chars,
            translator_factory=TRANSLATOR,
        )
        thread = tg.AdapterThread(settings)
        started.append(thread)
        review = ChannelSettings(policy="review", review_destination=f"telegram:{AGENTS}")
        thread.runtime.preferences.set_channel("telegram", str(CUSTOMER), review)
        return thread

    yield start
    for thread in started:
        thread.stop()


def wait(condition: Callable[[], Any]) -> Any:
    return wait_for(condition, timeout=40.0)


def to_chat(fake: tg.FakeTelegram, chat: int) -> list[dict[str, Any]]:
    return [c.params for c in fake.calls_of("sendMessage") if c.params["chat_id"] == chat]


def ask(fake: tg.FakeTelegram, update_id: int = 501) -> dict[str, Any]:
    """The customer asks; wait for the "an agent will reply" note and the pending card."""
    fake.queue_updates(tg.private_text(update_id, "How do I reset my password?", chat=CUSTOMER))
    wait(lambda: to_chat(fake, CUSTOMER))
    card = wait(lambda: [p for p in to_chat(fake, AGENTS) if "reply_markup" in p])[0]
    message_id = next(k[1] for k, v in fake.messages.items() if v == card["text"])
    return fake.bot_message(AGENTS, message_id)


def card_text(fake: tg.FakeTelegram, card: dict[str, Any]) -> str:
    return fake.messages[(AGENTS, card["message_id"])]


def decided(fake: tg.FakeTelegram, card: dict[str, Any], label: str) -> str:
    """Wait until the card shows `label` without buttons; its HTML."""
    key = (AGENTS, card["message_id"])
    wait(lambda: label in fake.messages[key] and key not in fake.markups)
    return fake.messages[key]


def rid_of(card: dict[str, Any]) -> str:
    return str(card["text"].split()[1])


def test_approve_by_two_agents_at_once_sends_exactly_one_answer(
    fake: tg.FakeTelegram, agents_setup: Callable[..., tg.AdapterThread]
) -> None:
    first = agents_setup()
    card = ask(fake)
    rid = rid_of(card)
    assert [b["callback_data"] for b in card["reply_markup"]["inline_keyboard"][0]] == [
        f"review:approve:{rid}",
        f"review:edit:{rid}",
        f"review:reject:{rid}",
    ]
    assert "How do I reset my password?" in card["text"] and "echo: How do I reset" in card["text"]
    # Two adapters (webhook replicas) get Ana's and Bo's taps at the same instant.
    second = tg.AdapterThread(first.runtime.settings, poll=False)
    barrier = threading.Barrier(2)

    def tap(thread: tg.AdapterThread, raw: dict[str, Any]) -> None:
        barrier.wait()
        thread.call(thread.adapter.submit(raw))

    taps = [
        threading.Thread(
            target=tap,
            args=(first, tg.callback_query(601, f"review:approve:{rid}", card, user=ANA)),
        ),
        threading.Thread(
            target=tap,
            args=(second, tg.callback_query(602, f"review:approve:{rid}", card, user=BO)),
        ),
    ]
    try:
        for thread in taps:
            thread.start()
        for thread in taps:
            thread.join(30)
        wait(lambda: len(fake.answers()) == 2)
    finally:
        second.stop()
    won = [a for a in fake.answers() if a["text"] == "Approved: the answer is being sent."]
    lost = [a for a in fake.answers() if a["text"].startswith("Already approved by User")]
    assert len(won) == 1 and len(lost) == 1 and lost[0]["show_alert"] is True
    winner = lost[0]["text"].split()[3]  # "Already approved by User7 at 14:02."
    fake.queue_updates(tg.callback_query(603, f"review:approve:{rid}", card, user=STRANGER))
    wait(lambda: len(fake.answers()) == 3)
    stranger = fake.answers()[2]
    assert stranger["text"] == "Only support agents can review drafts."
    assert stranger["show_alert"] is True
    html = decided(fake, card, "✅ Approved")
    assert f"<b>✅ Approved</b> by {winner} at " in html
    answer = wait(lambda: to_chat(fake, CUSTOMER)[1:])
    time.sleep(1.0)
    assert len(to_chat(fake, CUSTOMER)) == 2  # the note, then exactly one answer
    assert answer[0]["text"].startswith("echo: How do I reset my password?")
    wait(lambda: "<b>Sent to the customer</b>" in card_text(fake, card))
    assert "echo: How do I reset my password?" in card_text(fake, card).split("Sent to the")[1]


def test_edit_via_the_prompt_and_bad_edits(
    fake: tg.FakeTelegram, agents_setup: Callable[..., tg.AdapterThread]
) -> None:
    agents_setup(max_input_chars=200)
    card = ask(fake)
    rid = rid_of(card)
    fake.queue_updates(tg.callback_query(601, f"review:edit:{rid}", card, user=ANA))
    wait(lambda: fake.answers())
    prompt = wait(
        lambda: [p for p in to_chat(fake, AGENTS) if "new answer for review" in p["text"]]
    )
    assert prompt[0]["reply_markup"]["force_reply"] is True
    prompt_id = next(k[1] for k, v in fake.messages.items() if "new answer for review" in v)
    prompt_message = fake.bot_message(AGENTS, prompt_id)
    sticker = tg.reply(602, "", card, user=ANA, message_id=70)
    del sticker["message"]["text"]
    sticker["message"]["sticker"] = tg.sticker(0)["message"]["sticker"]
    fake.queue_updates(
        sticker,  # an empty edit
        tg.reply(603, "x" * 201, card, user=ANA, message_id=71),  # too long
        tg.reply(604, "Open Settings > Security > Reset.", prompt_message, user=ANA, message_id=72),
    )
    html = decided(fake, card, "✏️ Edited")

    def replies() -> dict[int, str]:
        found = {}
        for params in to_chat(fake, AGENTS):
            replied = params.get("reply_parameters", {}).get("message_id")
            if replied in (70, 71, 72):
                found[replied] = params["text"]
        return found

    notes = wait(lambda: len(replies()) == 3 and replies())
    assert notes[70] == f"Review {rid}: The edited text is empty."
    assert notes[71].startswith(f"Review {rid}: The edited text is too long (201 characters")
    assert notes[72] == f"Review {rid}: Edited: your answer is being sent."
    answer = wait(lambda: to_chat(fake, CUSTOMER)[1:])
    assert answer[0]["text"].startswith("Open Settings &gt; Security &gt; Reset.")
    time.sleep(1.0)
    assert len(to_chat(fake, CUSTOMER)) == 2
    wait(lambda: "<b>Sent to the customer</b>" in card_text(fake, card))
    assert "<b>✏️ Edited</b> by User7" in html


def test_reject_with_a_reason_sends_nothing_and_answer_instead_sends_once(
    fake: tg.FakeTelegram, agents_setup: Callable[..., tg.AdapterThread]
) -> None:
    agents_setup()
    card = ask(fake)
    rid = rid_of(card)
    fake.queue_updates(tg.callback_query(601, f"review:reject:{rid}", card, user=ANA))
    wait(lambda: [k for k, v in fake.messages.items() if "reason for rejecting" in v])
    prompt_id = next(k[1] for k, v in fake.messages.items() if "reason for rejecting" in v)
    prompt = fake.bot_message(AGENTS, prompt_id)
    assert prompt["reply_markup"]["inline_keyboard"][0][0]["text"] == "Reject without reason"
    fake.queue_updates(tg.reply(602, "Not a <product> question", prompt, user=ANA, message_id=72))
    html = decided(fake, card, "❌ Rejected")
    assert "Reason: Not a &lt;product&gt; question" in html
    closed = f"Review {rid}: Rejected: nothing will be sent to the customer."
    wait(lambda: fake.messages[(AGENTS, prompt_id)] == closed)
    assert (AGENTS, prompt_id) not in fake.markups  # its button went with the edit
    time.sleep(1.5)
    assert len(to_chat(fake, CUSTOMER)) == 1  # only the "an agent will reply" note

    # A second question: the agent writes the answer instead (/answer as a reply to the card).
    second = ask_again(fake)
    rid2 = rid_of(second)
    fake.queue_updates(tg.reply(604, "/answer Call us at the office.", second, user=BO))
    decided(fake, second, "❌ Rejected")
    answer = wait(lambda: [p for p in to_chat(fake, CUSTOMER) if "office" in p["text"]])
    assert answer[0]["text"] == "Call us at the office."
    # Tapping on a decided card (a stale client still showing the buttons): an alert.
    fake.queue_updates(tg.callback_query(605, f"review:reject-now:{rid2}", second, user=ANA))
    wait(lambda: len(fake.answers()) == 2)
    assert fake.answers()[1]["text"].startswith("Already rejected by User8")
    assert fake.answers()[1]["show_alert"] is True
    time.sleep(1.0)
    assert len([p for p in to_chat(fake, CUSTOMER) if "office" in p["text"]]) == 1


def ask_again(fake: tg.FakeTelegram) -> dict[str, Any]:
    cards_before = {k for k, v in fake.markups.items()}
    fake.queue_updates(tg.private_text(603, "And my invoice?", chat=CUSTOMER, message_id=11))
    key = wait(lambda: [k for k in fake.markups if k not in cards_before and k[0] == AGENTS
                        and fake.messages[k].startswith("<b>Review ")])[0]  # fmt: skip
    return fake.bot_message(AGENTS, key[1])


def test_expired_card_and_malformed_data(
    fake: tg.FakeTelegram, agents_setup: Callable[..., tg.AdapterThread]
) -> None:
    agents_setup(expiry=3)
    card = ask(fake)
    rid = rid_of(card)
    fake.queue_updates(tg.callback_query(600, f"review:approve:{rid}x", card, user=ANA))
    wait(lambda: fake.answers())
    assert fake.answers()[0]["show_alert"] is True
    time.sleep(3.5)
    fake.queue_updates(tg.callback_query(601, f"review:approve:{rid}", card, user=ANA))
    wait(lambda: len(fake.answers()) == 2)
    assert fake.answers()[1] == {
        "callback_query_id": fake.answers()[1]["callback_query_id"],
        "text": "This draft expired.",
        "show_alert": True,
    }
    decided(fake, card, "⌛ Expired")
    assert len(to_chat(fake, CUSTOMER)) == 1


def test_slack_customer_reviewed_in_a_telegram_group(
    fake: tg.FakeTelegram, agents_setup: Callable[..., tg.AdapterThread]
) -> None:
    with FakeSlackServer() as slack:
        thread = agents_setup(
            PARLEY_SLACK_API_URL=slack.url,
            PARLEY_SLACK_BOT_TOKEN=SLACK_TOKEN,
            PARLEY_SLACK_CHANNEL_INTERVAL="0",
        )
        runtime = thread.runtime
        review = ChannelSettings(policy="review", review_destination=f"telegram:{AGENTS}")
        runtime.preferences.set_channel("slack", "C0001", review)
        message = IncomingMessage(
            platform="slack", channel="C0001", user="UCARLA", text="Where is my invoice?",
            event_id="Ev0001", message_id="1700000000.000100", user_name="Carla",
        )  # fmt: skip
        assert accept_message(message, runtime)
        card_sent = wait(lambda: [p for p in to_chat(fake, AGENTS) if "reply_markup" in p])[0]
        assert "From <b>Carla</b> (slack:UCARLA)" in card_sent["text"]
        card_id = next(k[1] for k, v in fake.messages.items() if v == card_sent["text"])
        card = fake.bot_message(AGENTS, card_id)
        fake.queue_updates(tg.callback_query(601, f"review:approve:{rid_of(card)}", card, user=ANA))
        decided(fake, card, "✅ Approved")

        def to_customer() -> list[str]:
            return [str(c.params.get("text")) for c in slack.of("chat.postMessage")
                    if c.params.get("channel") == "C0001"]  # fmt: skip

        # The "an agent will reply" note, then exactly one answer, in Slack.
        texts = wait(lambda: len(to_customer()) >= 2 and to_customer())
        time.sleep(1.0)
        assert len(to_customer()) == 2
        assert texts[1].startswith("echo: Where is my invoice?")
