"""/fix in Telegram: a reader corrects a translation Parley posted by replying to it.

Real PTB against the fake Bot API, real Redis; end to end with a real `parley worker` (tagging
translator, the Telegram deliverer): the group message is translated and posted, `/fix` edits the
posted translation and the correction lands, redacted, on the learning stream."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any, cast

import pytest
import redis

from bot.settings import Settings
from bot.telegram.corrections import FIX_USAGE, FIXED, UNCHANGED
from bot.types import IncomingMessage, MessageKind
from tests import fake_telegram as tg
from tests.conftest import WorkerProcess
from tests.fakes_translation import seed_posted_translation
from tests.waiting import wait_for
from workers.corrections import AGENTS_ONLY, find_posted_translation
from workers.keys import Keys
from workers.preferences import ChannelSettings

pytestmark = pytest.mark.integration

GROUP = -1001234567890
TRANSLATOR = "tests.fakes_translation:build_recording_translator"
SPANISH = "¿Dónde está la factura de abril? Escríbeme a ana@example.com"
FIX = "Where is the April invoice?\nWrite to me at ana@example.com"
AUTO_TRANSLATE = ChannelSettings(languages=("en", "es"), auto_translate=True)


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
        translator_factory=TRANSLATOR,
    )


@pytest.fixture
def adapters() -> Iterator[list[tg.AdapterThread]]:
    started: list[tg.AdapterThread] = []
    yield started
    for adapter in started:
        adapter.stop()


def _corrections(client: redis.Redis, settings: Settings) -> list[dict[str, Any]]:
    stream = Keys(settings.namespace).translation_corrections_stream()
    entries = cast(list[tuple[str, dict[str, str]]], client.xrange(stream))
    return [json.loads(fields["data"]) for _, fields in entries]


def _wait_handled(thread: tg.AdapterThread, fake: tg.FakeTelegram, last_update: int) -> None:
    deadline = time.monotonic() + 20
    while thread.adapter.services.inbox.size() or fake.confirmed_offset <= last_update:
        assert time.monotonic() < deadline
        time.sleep(0.1)


def _fix(update_id: int, text: str, replied: dict[str, Any] | None, message_id: int) -> Any:
    """`/fix ...` from user 7 in the group, as a reply to `replied` (None: not a reply)."""
    if replied is None:
        return tg.group_text(update_id, text, message_id=message_id, user=7)
    return tg.reply(update_id, text, replied, user=7, message_id=message_id)


def test_fix_edits_the_posted_translation_and_records_the_correction(
    fake: tg.FakeTelegram,
    settings: Settings,
    start_worker: Callable[..., WorkerProcess],
    adapters: list[tg.AdapterThread],
    redis_client: redis.Redis,
) -> None:
    start_worker(
        PARLEY_TELEGRAM_BOT_TOKEN=tg.TOKEN,
        PARLEY_TELEGRAM_BASE_URL=fake.base_url,
        PARLEY_TELEGRAM_RATE_PER_CHAT="100",
        PARLEY_TELEGRAM_RATE_PER_GROUP="6000",
        PARLEY_TRANSLATOR_FACTORY=TRANSLATOR,
    )
    thread = tg.AdapterThread(settings)
    adapters.append(thread)
    thread.runtime.preferences.set_channel("telegram", str(GROUP), AUTO_TRANSLATE)
    fake.queue_updates(tg.group_text(901, SPANISH, message_id=91))

    # The worker translates the message and posts the translation as a reply to it.
    [sent] = fake.wait_for("sendMessage", 1, timeout=40)
    assert sent.params["reply_parameters"]["message_id"] == 91
    [posted_id] = wait_for(lambda: [m for (c, m) in fake.messages if c == GROUP])
    assert fake.messages[(GROUP, posted_id)].startswith("[en] ")
    posted = wait_for(
        lambda: find_posted_translation(
            redis_client, settings, "telegram", str(GROUP), str(posted_id)
        )
    )
    assert posted.source_language == "es" and posted.target_language == "en"

    # /fix@bot with a multiline correction, as a reply to the translation.
    replied = fake.bot_message(GROUP, posted_id)
    fake.queue_updates(_fix(902, f"/fix@{tg.BOT_USERNAME} {FIX}", replied, 92))
    [edit] = fake.wait_for("editMessageText", 1, timeout=40)
    assert edit.params["chat_id"] == GROUP and edit.params["message_id"] == posted_id
    assert tg.visible_text(edit.params["text"]) == FIX == fake.messages[(GROUP, posted_id)]
    confirm = wait_for(lambda: _replies_to(fake, 92))
    assert confirm == [FIXED]

    [correction] = _corrections(redis_client, settings)
    assert correction["corrected_translation"].startswith("Where is the April invoice?")
    assert correction["machine_translation"].startswith("[en] ")
    assert correction["user"] == "telegram:7" and correction["target_language"] == "en"
    assert "ana@example.com" not in json.dumps(correction).lower()  # redacted before it is stored

    # The same text again, on the translation as it shows now: nothing changes.
    fake.queue_updates(_fix(903, f"/fix {FIX}", fake.bot_message(GROUP, posted_id), 93))
    assert wait_for(lambda: _replies_to(fake, 93)) == [UNCHANGED]
    time.sleep(1.0)
    assert len(fake.calls_of("editMessageText")) == 1
    assert len(_corrections(redis_client, settings)) == 1


def _replies_to(fake: tg.FakeTelegram, message_id: int) -> list[str]:
    return [
        tg.visible_text(str(c.params["text"]))
        for c in fake.calls_of("sendMessage")
        if (c.params.get("reply_parameters") or {}).get("message_id") == message_id
    ]


def _seed(settings: Settings, client: redis.Redis, posted_id: int) -> str:
    """A posted translation, as the worker pipeline leaves it; its text."""
    message = IncomingMessage(
        platform="telegram", channel=str(GROUP), user="42", event_id=f"{GROUP}:91",
        message_id="91", text=SPANISH, kind=MessageKind.CHANNEL,
    )  # fmt: skip
    [translation] = seed_posted_translation(settings, client, message, str(posted_id))
    return translation.text


def test_fix_usage_help_refusals_and_an_enqueued_edit(
    fake: tg.FakeTelegram,
    settings: Settings,
    adapters: list[tg.AdapterThread],
    redis_client: redis.Redis,
) -> None:
    text = _seed(settings, redis_client, 1001)
    translation = tg.sent_message(GROUP, 1001, text)
    unknown = tg.sent_message(GROUP, 5, "an answer, not a translation")
    fake.queue_updates(
        _fix(911, "/fix Where is the April invoice?", None, 111),  # not a reply
        _fix(912, "/fix", translation, 112),  # no text
        _fix(913, f"/fix@{tg.BOT_USERNAME}", translation, 113),  # no text, addressed to us
        _fix(914, "/fix Where is the April invoice?", unknown, 114),  # not a translation
        _fix(915, "/fix@other_bot Where is it?", translation, 115),  # another bot's command
        _fix(916, "/fix " + "x" * 4050, translation, 116),  # too long
        _fix(917, f"/fix {text}", translation, 117),  # unchanged
    )
    thread = tg.AdapterThread(settings)
    adapters.append(thread)
    _wait_handled(thread, fake, 917)
    assert _corrections(redis_client, settings) == []
    deliveries = tg.queued_kwargs(redis_client, "io", "outgoing")
    assert all(d["kind"] == "notice" and d["reply_to_message"] for d in deliveries)
    notices = {int(d["reply_to_message"]): d["text"] for d in deliveries}
    assert set(notices) == {111, 112, 113, 114, 116, 117}
    for message_id in (111, 112, 113, 114):
        assert notices[message_id] == FIX_USAGE
    assert "reply to the translation you want to fix" in FIX_USAGE
    assert notices[116].startswith("The corrected translation is too long (4050 characters")
    assert notices[117] == UNCHANGED

    # A correction: recorded, and the edit of the translation waits for the io workers.
    fake.queue_updates(_fix(918, "/fix Where is the April invoice?", translation, 118))
    _wait_handled(thread, fake, 918)
    [correction] = _corrections(redis_client, settings)
    assert correction["user"] == "telegram:7"
    [edit] = [
        d for d in tg.queued_kwargs(redis_client, "io", "outgoing") if d["kind"] == "translation"
    ]
    assert edit["replaces"] == f"translation:telegram:{GROUP}:91:en"
    assert edit["channel"] == str(GROUP) and edit["text"] == "Where is the April invoice?"
    notices = {
        int(d["reply_to_message"]): d["text"]
        for d in tg.queued_kwargs(redis_client, "io", "outgoing")
        if d["kind"] == "notice"
    }
    assert notices[118] == FIXED
    menu = [c.params for c in fake.calls_of("setMyCommands") if not c.params.get("language_code")]
    assert "fix" in [c["command"] for c in menu[0]["commands"]]


def test_with_fixers_set_to_agents_a_reader_is_told_and_nothing_changes(
    fake: tg.FakeTelegram,
    settings: Settings,
    adapters: list[tg.AdapterThread],
    redis_client: redis.Redis,
) -> None:
    settings = settings.model_copy(
        update={"translation_fixers": "agents", "review_agents": ("telegram:8",)}
    )
    translation = tg.sent_message(GROUP, 1001, _seed(settings, redis_client, 1001))
    fake.queue_updates(_fix(921, "/fix Where is the April invoice?", translation, 121))
    thread = tg.AdapterThread(settings)
    adapters.append(thread)
    _wait_handled(thread, fake, 921)
    assert _corrections(redis_client, settings) == []
    [notice] = tg.queued_kwargs(redis_client, "io", "outgoing")
    assert notice["kind"] == "notice" and notice["text"] == f"{AGENTS_ONLY}."
