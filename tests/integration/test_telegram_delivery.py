"""TelegramDeliverer (PTB's Bot) against the fake Bot API: splitting, escaping, edits, limits."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest
import redis

from bot.errors import TransientError
from bot.settings import Settings
from bot.telegram.delivery import TelegramDeliverer
from bot.telegram.render import utf16_len
from bot.types import OutgoingMessage
from tests import fake_telegram as tg
from workers.delivery import PostedMessages, build_deliverers

pytestmark = pytest.mark.integration

GROUP = "-1001234567890"


@pytest.fixture
def fake() -> Iterator[tg.FakeTelegram]:
    with tg.FakeTelegram().serve() as server:
        yield server


@pytest.fixture
def deliverer(
    make_settings: Callable[..., Settings], fake: tg.FakeTelegram, redis_client: redis.Redis
) -> Iterator[Callable[..., TelegramDeliverer]]:
    made: list[TelegramDeliverer] = []

    def build(**overrides: object) -> TelegramDeliverer:
        settings = make_settings(
            telegram_bot_token=tg.TOKEN, telegram_base_url=fake.base_url, **overrides
        )
        made.append(TelegramDeliverer(settings, redis_client))
        return made[-1]

    yield build
    for item in made:
        item.close()


def _out(text: str, key: str, chat: str = "42", **extra: object) -> OutgoingMessage:
    return OutgoingMessage(
        platform="telegram",
        channel=chat,
        text=text,
        idempotency_key=key,
        **extra,  # type: ignore[arg-type]
    )


def test_registered_for_the_workers(
    make_settings: Callable[..., Settings], redis_client: redis.Redis
) -> None:
    deliverers = build_deliverers(make_settings(), redis_client)
    assert isinstance(deliverers["telegram"], TelegramDeliverer)


def test_long_answer_is_split_escaped_and_sent_once(
    fake: tg.FakeTelegram, deliverer: Callable[..., TelegramDeliverer]
) -> None:
    sender = deliverer(telegram_rate_per_chat=50.0)
    text = "A&B <tag> " + "😀" * 2500  # 5010 code units after the prefix
    outgoing = _out(text, "reply:telegram:42:10", metadata={"reply_to": "42:10"})
    assert sender.deliver(outgoing)
    assert not sender.deliver(outgoing)  # idempotent: a resend posts nothing
    sent = [c.params for c in fake.calls_of("sendMessage")]
    assert len(sent) == 2
    assert sent[0]["text"].startswith("A&amp;B &lt;tag&gt; ")
    assert sent[0]["reply_parameters"]["message_id"] == 10 and "reply_parameters" not in sent[1]
    assert all(
        utf16_len(p["text"].replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">")) <= 4096
        for p in sent
    )
    assert "".join(p["text"] for p in sent).count("😀") == 2500


def test_edit_delete_and_not_modified(
    fake: tg.FakeTelegram,
    deliverer: Callable[..., TelegramDeliverer],
    make_settings: Callable[..., Settings],
    redis_client: redis.Redis,
) -> None:
    sender = deliverer(telegram_rate_per_chat=50.0, telegram_rate_per_group=6000.0)
    base = f"translation:telegram:{GROUP}:20:de"
    assert sender.deliver(_out("Hallo", base, GROUP, kind="translation", reply_to_message="20"))
    assert fake.calls_of("sendMessage")[0].params["reply_parameters"]["message_id"] == 20
    edit = _out("Hallo!", f"{base}:edit:1", GROUP, kind="translation", replaces=base)
    assert sender.deliver(edit)
    same = _out("Hallo!", f"{base}:edit:2", GROUP, kind="translation", replaces=f"{base}:edit:1")
    assert sender.deliver(same)  # "message is not modified" counts as done
    assert len(fake.calls_of("editMessageText")) == 2
    posted = PostedMessages(make_settings(), redis_client).posted_id(base)
    assert fake.messages[(int(GROUP), int(posted or 0))] == "Hallo!"
    gone = _out("", f"{base}:delete", GROUP, replaces=base, delete=True)
    assert sender.deliver(gone)
    assert not sender.deliver(gone)
    assert len(fake.calls_of("deleteMessage")) == 1 and not fake.messages


def test_429_becomes_a_transient_error_with_retry_after(
    fake: tg.FakeTelegram, deliverer: Callable[..., TelegramDeliverer]
) -> None:
    sender = deliverer()
    fake.fail_next("sendMessage", retry_after=3)
    with pytest.raises(TransientError) as caught:
        sender.deliver(_out("hi", "k-429"))
    assert caught.value.retry_after == 3.0
    with pytest.raises(TransientError):  # the chat is held back until retry_after has passed
        TelegramDeliverer.deliver(deliverer(telegram_max_wait=0.5), _out("hi", "k-429"))


def test_burst_to_one_group_gets_no_429(
    fake: tg.FakeTelegram, deliverer: Callable[..., TelegramDeliverer]
) -> None:
    # Telegram's limits scaled 10x faster: 10 msg/s per chat, 20 per 6 s per group, 30/s overall.
    fake.enforce_limits(per_chat=0.1, group_per_window=20, window=6.0, global_per_s=30)
    sender = deliverer(
        telegram_rate_per_chat=10.0, telegram_rate_per_group=200.0, telegram_max_wait=30.0
    )
    started = time.monotonic()
    for i in range(12):
        assert sender.deliver(_out(f"reply {i}", f"burst-{i}", GROUP))
    assert fake.too_many == 0
    assert len(fake.messages) == 12
    assert time.monotonic() - started >= 11 * 0.3  # paced at the group interval (6 s / 20)


def test_a_translation_replies_to_its_original_and_names_only_forum_topics(
    deliverer: Callable[..., TelegramDeliverer], fake: tg.FakeTelegram
) -> None:
    """Telegram refuses a message_thread_id that is not a forum topic (the fake does too), so a
    group translation threads by replying to its original; in a forum topic it names the topic."""
    from bot.types import IncomingMessage, MessageKind
    from workers.translation import make_translation

    fake.forum_topics.add((int(GROUP), 500))
    plain = IncomingMessage(
        platform="telegram", channel=GROUP, user="7", event_id=f"{GROUP}:91", message_id="91",
        text="hola", kind=MessageKind.CHANNEL,
    )  # fmt: skip
    topic = IncomingMessage(
        platform="telegram", channel=GROUP, user="7", event_id=f"{GROUP}:92", message_id="92",
        text="hola", kind=MessageKind.CHANNEL, thread="500",
    )  # fmt: skip
    d = deliverer()
    for message, key in ((plain, "translation:a"), (topic, "translation:b")):
        assert d.deliver(make_translation(message, "[en] hello", key))
    first, second = fake.calls_of("sendMessage")
    assert "message_thread_id" not in first.params
    assert first.params["reply_parameters"]["message_id"] == 91
    assert second.params["message_thread_id"] == 500
    assert second.params["reply_parameters"]["message_id"] == 92


def test_a_reply_into_a_deleted_forum_topic_is_posted_in_the_chat_not_lost(
    deliverer: Callable[..., TelegramDeliverer], fake: tg.FakeTelegram
) -> None:
    outgoing = _out("The answer.", "reply:gone", chat=GROUP, thread="600", reply_to_message="93")
    assert deliverer().deliver(outgoing)  # topic 600 is not (or no longer) a forum topic
    refused, posted = fake.calls_of("sendMessage")
    assert refused.params["message_thread_id"] == 600
    assert "message_thread_id" not in posted.params
    assert posted.params["reply_parameters"]["message_id"] == 93
    assert list(fake.messages.values()) == ["The answer."]


def test_an_answers_markdown_bold_arrives_as_html_and_a_translation_as_typed(
    fake: tg.FakeTelegram, deliverer: Callable[..., TelegramDeliverer]
) -> None:
    sender = deliverer()
    draft = {"action": "answer", "citations": [{"doc_id": "d", "source": "s.md", "title": "T"}]}
    answer = _out("Open **Settings > Security** [1].", "reply:telegram:42:11",
                  metadata={"draft": draft})  # fmt: skip
    translation = _out("Use **two** stars", "translate:telegram:42:12", kind="translation")
    assert sender.deliver(answer) and sender.deliver(translation)
    first, second = (c.params for c in fake.calls_of("sendMessage"))
    assert first["parse_mode"] == "HTML"
    assert first["text"].startswith("Open <b>Settings &gt; Security</b> [1].\n\n<b>Sources:</b>")
    assert second["text"] == "Use **two** stars"
