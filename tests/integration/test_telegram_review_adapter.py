"""The Telegram side of review (real PTB, real worker, fake Bot API) with recording review
functions: which button, reply or command leads to which neutral call, and what agents see."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import redis

from bot.settings import Settings
from bot.telegram.agent_commands import NOT_HERE
from bot.telegram.delivery import TelegramDeliverer
from bot.telegram.review import BAD_BUTTON, ReviewActions
from bot.types import OutgoingMessage
from tests import fake_telegram as tg
from tests.conftest import WorkerProcess
from tests.unit.test_telegram_review_card import BUTTONS, RID, card
from workers.delivery import PostedMessages
from workers.review import Agent, DecisionResult

pytestmark = pytest.mark.integration

AGENTS = -1009999999999
AGENT = 7


@dataclass
class Recorder:
    """Stands in for the neutral review functions; records every call."""

    decisions: list[dict[str, Any]] = field(default_factory=list)
    checks: list[str] = field(default_factory=list)
    commands: list[tuple[str, str, str]] = field(default_factory=list)
    allowed: bool = True

    def decide(self, runtime: object, **kwargs: Any) -> DecisionResult:
        self.decisions.append(kwargs)
        return DecisionResult(True, "approved", f"Done: {kwargs['decision']}.", kwargs["review_id"])

    def check(self, runtime: object, *, review_id: str, agent: Agent) -> DecisionResult:
        self.checks.append(agent.user)
        if self.allowed:
            return DecisionResult(True, "pending", "", review_id)
        return DecisionResult(False, "pending", "Only support agents can review drafts.", review_id)

    def agent_command(self, runtime: object, agent: Agent, command: str, arg: str = "") -> str:
        self.commands.append((agent.user, command, arg))
        return f"{command} <{arg}> for {agent.name}"

    def actions(self) -> ReviewActions:
        return ReviewActions(decide=self.decide, check=self.check, agent_command=self.agent_command)


@pytest.fixture
def fake() -> Iterator[tg.FakeTelegram]:
    with tg.FakeTelegram().serve() as server:
        yield server


@pytest.fixture
def settings(make_settings: Callable[..., Settings], fake: tg.FakeTelegram) -> Settings:
    return make_settings(
        telegram_bot_token=tg.TOKEN,
        telegram_base_url=fake.base_url,
        telegram_poll_timeout=1,
        telegram_rate_per_chat=100.0,
        telegram_rate_per_group=6000.0,
    )


@pytest.fixture
def worker(start_worker: Callable[..., WorkerProcess], fake: tg.FakeTelegram) -> WorkerProcess:
    return start_worker(
        PARLEY_TELEGRAM_BOT_TOKEN=tg.TOKEN,
        PARLEY_TELEGRAM_BASE_URL=fake.base_url,
        PARLEY_TELEGRAM_RATE_PER_CHAT="100",
        PARLEY_TELEGRAM_RATE_PER_GROUP="6000",
    )


@pytest.fixture
def adapter(settings: Settings) -> Iterator[Callable[[Recorder], tg.AdapterThread]]:
    started: list[tg.AdapterThread] = []

    def start(recorder: Recorder) -> tg.AdapterThread:
        started.append(tg.AdapterThread(settings, review=recorder.actions()))
        return started[-1]

    yield start
    for thread in started:
        thread.stop()


def post_card(settings: Settings, client: redis.Redis, fake: tg.FakeTelegram) -> dict[str, Any]:
    """Deliver a pending card to the agents' group; the card as Telegram shows it in updates."""
    deliverer = TelegramDeliverer(settings, client)
    key = f"review:{RID}:card"
    outgoing = OutgoingMessage(
        "telegram", str(AGENTS), "fallback", key, buttons=BUTTONS,
        metadata={"review": card()}, kind="review",
    )  # fmt: skip
    assert deliverer.deliver(outgoing)
    deliverer.close()
    posted = PostedMessages(settings, client).posted_id(key)
    return fake.bot_message(AGENTS, int(posted or 0))


def _sent_after(fake: tg.FakeTelegram, count: int, timeout: float = 30.0) -> list[dict[str, Any]]:
    return [c.params for c in fake.wait_for("sendMessage", count, timeout)]


def _wait(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_buttons_prompts_and_replies(
    fake: tg.FakeTelegram,
    settings: Settings,
    redis_client: redis.Redis,
    worker: WorkerProcess,
    adapter: Callable[[Recorder], tg.AdapterThread],
) -> None:
    card_message = post_card(settings, redis_client, fake)
    recorder = Recorder()
    adapter(recorder)
    fake.queue_updates(
        tg.callback_query(801, f"review:approve:{RID}", card_message, user=AGENT, language="pt"),
        tg.callback_query(802, "review:explode:123", card_message),
        tg.callback_query(803, "something else", card_message),
        tg.callback_query(804, f"review:edit:{RID}", card_message, user=AGENT),
        tg.callback_query(805, f"review:reject:{RID}", card_message, user=AGENT),
    )
    _wait(lambda: len(fake.answers()) == 5)
    answers = fake.answers()
    assert answers[0]["text"] == "Done: approve." and not answers[0].get("show_alert")
    assert answers[1] == {"callback_query_id": answers[1]["callback_query_id"],
                          "text": BAD_BUTTON, "show_alert": True}  # fmt: skip
    assert answers[2]["text"] == BAD_BUTTON and answers[2]["show_alert"] is True
    assert answers[3]["text"].startswith("Reply to the card, or to my prompt")
    assert "Reject without reason" in answers[4]["text"]
    (approve,) = recorder.decisions
    assert approve["decision"] == "approve" and approve["review_id"] == RID
    assert approve["agent"] == Agent("telegram", "7", "User7", "pt")
    assert recorder.checks == ["7", "7"]

    prompts = _sent_after(fake, 3)[1:]  # the card, then the two prompts (io queue)
    by_kind = {"edit" if "new answer" in p["text"] else "reject": p for p in prompts}
    edit_prompt, reject_prompt = by_kind["edit"], by_kind["reject"]
    expected = f"@user7, reply to this message with the new answer for review {RID}."
    assert edit_prompt["text"].startswith(expected)
    assert edit_prompt["reply_markup"]["force_reply"] is True
    assert edit_prompt["reply_markup"]["selective"] is True
    assert edit_prompt["reply_parameters"]["message_id"] == card_message["message_id"]
    (button,) = reject_prompt["reply_markup"]["inline_keyboard"][0]
    assert button == {"text": "Reject without reason", "callback_data": f"review:reject-now:{RID}"}

    edit_id = next(k[1] for k, v in fake.messages.items() if "new answer" in v)
    reject_id = next(k[1] for k, v in fake.messages.items() if "reason for rejecting" in v)
    edit_msg, reject_msg = fake.bot_message(AGENTS, edit_id), fake.bot_message(AGENTS, reject_id)
    fake.queue_updates(
        tg.reply(806, "Neue Antwort <b>", edit_msg, message_id=91),
        tg.reply(807, "Direct answer", card_message, message_id=92),
        tg.reply(808, "wrong product", reject_msg, message_id=93),
        tg.reply(809, "/answer Please call us.", reject_msg, message_id=94),
        tg.reply(810, "/answer", card_message, message_id=95),
        tg.callback_query(811, f"review:reject-now:{RID}", reject_msg, user=AGENT),
        tg.group_text(812, f"/answer {RID} Our own answer", chat=AGENTS, message_id=96, user=7),
    )
    _wait(lambda: len(recorder.decisions) == 7)
    got = [(d["decision"], d["text"], d["reason"]) for d in recorder.decisions[1:]]
    assert got == [
        ("edit", "Neue Antwort <b>", ""),
        ("edit", "Direct answer", ""),
        ("reject", "", "wrong product"),
        ("reject", "Please call us.", ""),
        ("reject", "", ""),
        ("reject", "Our own answer", ""),
    ]
    _wait(lambda: len(fake.calls_of("editMessageText")) == 1 and len(fake.answers()) == 6)
    # Each reply got its result as a reply; the usage note for the bare /answer.
    sent = _sent_after(fake, 3 + 6)
    replies = {p["reply_parameters"]["message_id"]: p["text"] for p in sent[3:]}
    assert replies[91] == f"Review {RID}: Done: edit."
    assert replies[95].startswith("Usage: reply to a review card")
    assert replies[96] == f"Review {RID}: Done: reject."
    closed = fake.calls_of("editMessageText")[0].params
    assert closed["message_id"] == reject_id and "reply_markup" not in closed
    assert (AGENTS, reject_id) not in fake.markups  # the button is gone


def test_non_agent_tap_is_an_alert_and_posts_nothing(
    fake: tg.FakeTelegram,
    settings: Settings,
    redis_client: redis.Redis,
    adapter: Callable[[Recorder], tg.AdapterThread],
) -> None:
    card_message = post_card(settings, redis_client, fake)
    recorder = Recorder(allowed=False)
    thread = adapter(recorder)
    fake.queue_updates(tg.callback_query(901, f"review:edit:{RID}", card_message, user=99))
    _wait(lambda: len(fake.answers()) == 1)
    assert fake.answers()[0]["text"] == "Only support agents can review drafts."
    assert fake.answers()[0]["show_alert"] is True
    _wait(lambda: thread.adapter.services.inbox.size() == 0)
    assert redis_client.llen("io") == 0 and not recorder.decisions


def test_agents_commands_only_where_agents_work(
    fake: tg.FakeTelegram,
    settings: Settings,
    redis_client: redis.Redis,
    worker: WorkerProcess,
    adapter: Callable[[Recorder], tg.AdapterThread],
) -> None:
    card_message = post_card(settings, redis_client, fake)
    recorder = Recorder()
    thread = adapter(recorder)
    customers = -1001234567890
    fake.members[(customers, 5)] = "administrator"
    fake.queue_updates(
        tg.group_text(1000, f"/settings review telegram:{AGENTS}", chat=customers, user=5),
        tg.private_text(1001, "/pending", chat=7, message_id=11),
        tg.group_text(1002, "/pending", chat=customers, message_id=12, user=7),
        tg.group_text(
            1003, f"/history@{tg.BOT_USERNAME} {RID}", chat=AGENTS, message_id=13, user=7
        ),
        tg.reply(1004, "/take", card_message, message_id=14),
    )
    _wait(lambda: len(fake.calls_of("sendMessage")) == 1 + 5)
    group = thread.runtime.preferences.channel("telegram", str(customers))
    assert group.review_destination == f"telegram:{AGENTS}"
    assert recorder.commands == [("7", "pending", ""), ("7", "history", RID), ("7", "take", RID)]
    replies = {p["reply_parameters"]["message_id"]: p["text"] for p in _sent_after(fake, 6)[1:]}
    assert replies[20].startswith("Saved. Mode: answer. ") and f"telegram:{AGENTS}." in replies[20]
    assert replies[11] == "pending &lt;&gt; for User7"  # agent_command's text, escaped
    assert replies[12] == NOT_HERE
    assert replies[13] == f"history &lt;{RID}&gt; for User7"
