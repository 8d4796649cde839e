"""The real PTB Application and Bot against the fake Bot API, with a real Celery worker."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator

import pytest
import redis

from bot.settings import Settings
from tests import fake_telegram as tg
from tests.conftest import WorkerProcess
from tests.fakes import calls_key

pytestmark = pytest.mark.integration

GROUP = -1001234567890


@pytest.fixture
def fake() -> Iterator[tg.FakeTelegram]:
    with tg.FakeTelegram().serve() as server:
        yield server


@pytest.fixture
def tg_settings(
    make_settings: Callable[..., Settings], fake: tg.FakeTelegram
) -> Callable[..., Settings]:
    def build(**overrides: object) -> Settings:
        values: dict[str, object] = {
            "telegram_bot_token": tg.TOKEN,
            "telegram_base_url": fake.base_url,
            "telegram_poll_timeout": 1,
            "telegram_inbox_grace": 2.0,
        }
        values.update(overrides)
        return make_settings(**values)

    return build


@pytest.fixture
def adapters() -> Iterator[list[tg.AdapterThread]]:
    started: list[tg.AdapterThread] = []
    yield started
    for adapter in started:
        adapter.stop()


def _worker(start_worker: Callable[..., WorkerProcess], fake: tg.FakeTelegram) -> WorkerProcess:
    return start_worker(PARLEY_TELEGRAM_BOT_TOKEN=tg.TOKEN, PARLEY_TELEGRAM_BASE_URL=fake.base_url)


def _sent(fake: tg.FakeTelegram) -> list[dict[str, object]]:
    return [c.params for c in fake.calls_of("sendMessage")]


def test_private_message_answered_once_after_a_429(
    fake: tg.FakeTelegram,
    tg_settings: Callable[..., Settings],
    start_worker: Callable[..., WorkerProcess],
    adapters: list[tg.AdapterThread],
    redis_client: redis.Redis,
) -> None:
    _worker(start_worker, fake)
    fake.fail_next("sendMessage", retry_after=2)
    question = tg.private_text(501, "How do I reset <my> password?")
    fake.queue_updates(question, dict(question))  # the same update_id twice
    adapters.append(tg.AdapterThread(tg_settings()))
    calls = fake.wait_for("sendMessage", 2, timeout=40)
    time.sleep(1.5)
    calls = fake.calls_of("sendMessage")
    assert len(calls) == 2  # the 429, then the retry
    assert calls[1].at - calls[0].at >= 1.9  # Celery waited retry_after
    params = calls[1].params
    assert params["chat_id"] == 42 and params["parse_mode"] == "HTML"
    assert params["reply_parameters"]["message_id"] == 10
    assert params["text"].startswith("echo: How do I reset &lt;my&gt; password?")
    assert "<b>Sources:</b>\n1. FAQ (faq.md)" in params["text"]
    assert len(fake.messages) == 1
    assert redis_client.llen(calls_key(tg_settings())) == 1  # answered once
    assert adapters[0].adapter.services.inbox.size() == 0
    assert {c.params.get("language_code") for c in fake.calls_of("setMyCommands")} >= {None, "de"}


def test_groups_commands_and_bad_input(
    fake: tg.FakeTelegram,
    tg_settings: Callable[..., Settings],
    start_worker: Callable[..., WorkerProcess],
    adapters: list[tg.AdapterThread],
) -> None:
    _worker(start_worker, fake)
    mention = f"@{tg.BOT_USERNAME} where is my invoice?"
    fake.queue_updates(
        tg.group_text(601, "chatting among ourselves", message_id=61),
        tg.group_text(602, mention, message_id=62),
        tg.reply_to_bot(603, "and the receipt?", message_id=63),
        tg.group_text(604, f"/ask@{tg.BOT_USERNAME} opening hours?", message_id=64),
        tg.group_text(605, "/ask@other_bot ignore me", message_id=65),
        tg.group_text(606, mention, message_id=66, is_bot=True, user=999),
        tg.sticker(607),
        tg.photo_without_caption(608),
        tg.channel_post(609),
        tg.group_text(610, "/help", message_id=70),
    )
    adapters.append(tg.AdapterThread(tg_settings()))
    fake.wait_for("sendMessage", 6, timeout=40)
    time.sleep(2.0)
    by_reply = {p["reply_parameters"]["message_id"]: p["text"] for p in _sent(fake)}
    assert by_reply[62].startswith("echo: where is my invoice?")
    assert by_reply[63].startswith("echo: and the receipt?")
    assert by_reply[64].startswith("echo: opening hours?")
    assert by_reply[77].startswith("I can only read text") and by_reply[78].startswith("I can only")
    assert "/translate &lt;lang&gt; &lt;text&gt;" in by_reply[70]
    assert "/fix &lt;corrected text&gt;" in by_reply[70]
    assert set(by_reply) == {62, 63, 64, 70, 77, 78}
    assert len(_sent(fake)) == 6
    assert adapters[0].adapter.services.inbox.size() == 0


def test_lang_settings_admin_check_and_auto_translation_intake(
    fake: tg.FakeTelegram,
    tg_settings: Callable[..., Settings],
    adapters: list[tg.AdapterThread],
    redis_client: redis.Redis,
) -> None:
    fake.members[(GROUP, 7)] = "administrator"
    fake.queue_updates(
        tg.private_text(701, "/lang de", message_id=71),
        tg.group_text(702, "/settings mode off", message_id=72, user=42),  # not an admin
        tg.group_text(703, "/settings languages de, fr", message_id=73, user=7),
        tg.group_text(704, "hello everyone", message_id=74, user=42),
        tg.edited_group_text(705, "hello everyone!", message_id=74),
        tg.group_text(706, "I am a bot", message_id=75, user=999, is_bot=True),
    )
    thread = tg.AdapterThread(tg_settings())
    adapters.append(thread)
    deadline = time.monotonic() + 20
    while thread.adapter.services.inbox.size() or fake.confirmed_offset < 707:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    prefs = thread.runtime.preferences
    assert prefs.user("telegram", "42").language == "de"
    group = prefs.channel("telegram", str(GROUP))
    assert group.languages == ("de", "fr") and group.translates and group.policy == "answer"
    assert [c.params["user_id"] for c in fake.calls_of("getChatMember")] == [42, 7]
    notices = [json.loads(m) for m in redis_client.lrange("io", 0, -1)]
    assert len(notices) == 3  # /lang, the refusal, the saved settings
    events = tg.queued_events(redis_client)
    # Auto-translation is on: the message and its edit go to intake; the bot's is ignored there.
    assert sorted(events) == [f"{GROUP}:74", f"{GROUP}:74:edit:{tg.NOW + 60}"]


def test_summarize_and_write_commands(
    fake: tg.FakeTelegram,
    tg_settings: Callable[..., Settings],
    adapters: list[tg.AdapterThread],
    redis_client: redis.Redis,
) -> None:
    earlier = tg.message_json(GROUP, 80, "the export is broken", user=7)
    fake.queue_updates(
        tg.group_text(801, "/summarize 2h", message_id=81),
        tg.group_text(802, "/summarize yesterday", message_id=82),
        tg.group_text(803, "/summarize", message_id=83, reply_to=earlier),
        tg.group_text(804, "/write --to en,es announce SSO", message_id=84),
        tg.group_text(805, "/write --tone formal", message_id=85),
    )
    thread = tg.AdapterThread(tg_settings())
    adapters.append(thread)
    deadline = time.monotonic() + 20
    while thread.adapter.services.inbox.size() or fake.confirmed_offset < 806:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    queued = {str(m["message_id"]): m for m in tg.queued_kwargs(redis_client, "models", "message")}
    assert set(queued) == {"81", "83", "84"}
    assert (queued["81"]["intent"], queued["81"]["text"]) == ("summarize", "2h")
    assert (queued["83"]["intent"], queued["83"]["text"]) == ("summarize", "1m")
    assert (queued["84"]["intent"], queued["84"]["text"]) == ("write", "--to en,es announce SSO")
    notices = [json.dumps(json.loads(m)) for m in redis_client.lrange("io", 0, -1)]
    assert any("Usage: summarize" in n for n in notices)
    assert any("Usage: /write" in n for n in notices)
