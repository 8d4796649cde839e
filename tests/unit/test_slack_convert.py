"""The pure converters on payloads shaped as Slack sends them."""

from __future__ import annotations

from bot.slack.channel_settings import change_channel
from bot.slack.command_text import parse_command, parse_languages
from bot.slack.convert import command_message, message_from_event, plain_text, shortcut_message
from bot.slack.kb_search import render_hits
from bot.types import MessageKind
from tests.fake_slack import (
    BOT_USER,
    bot_message_event,
    delete_event,
    edit_event,
    envelope,
    mention_event,
    message_event,
    shortcut_payload,
)
from workers.preferences import ChannelSettings


def test_dm_is_answered_top_level_or_in_its_thread() -> None:
    body = envelope(message_event("How do I reset?", channel="D0001", channel_type="im"))
    message = message_from_event(body, bot_user_id=BOT_USER)
    assert message is not None
    assert (message.kind, message.thread, message.channel) == (MessageKind.DM, "", "D0001")
    assert message.event_id == "D0001:1700000000.000100"
    threaded = envelope(
        message_event("more", channel="D0001", channel_type="im", thread_ts="1699.000001")
    )
    assert message_from_event(threaded, bot_user_id=BOT_USER).thread == "1699.000001"  # type: ignore[union-attr]


def test_mention_and_message_events_for_one_post_are_the_same_message() -> None:
    text = f"<@{BOT_USER}> where is the &lt;config&gt; file?"
    mention = message_from_event(
        envelope(mention_event(text), event_id="Ev1"), bot_user_id=BOT_USER
    )
    message = message_from_event(
        envelope(message_event(text), event_id="Ev2"), bot_user_id=BOT_USER
    )
    assert mention == message or (mention and message and mention.event_id == message.event_id)
    assert mention is not None and message is not None
    assert mention.kind == message.kind == MessageKind.MENTION
    assert mention.text == "where is the <config> file?"
    assert mention.thread == "1700000000.000100"  # answered in a thread under the post


def test_reply_in_a_thread_keeps_the_thread() -> None:
    body = envelope(mention_event(f"<@{BOT_USER}> and?", ts="1700.2", thread_ts="1700.1"))
    assert message_from_event(body, bot_user_id=BOT_USER).thread == "1700.1"  # type: ignore[union-attr]
    plain = envelope(message_event("and then?", ts="1700.3", thread_ts="1700.1"))
    assert message_from_event(plain, bot_user_id=BOT_USER).kind == MessageKind.CHANNEL  # type: ignore[union-attr]
    active = message_from_event(plain, bot_user_id=BOT_USER, active_thread=True)
    assert active is not None and active.kind == MessageKind.MENTION


def test_bot_messages_are_flagged() -> None:
    message = message_from_event(envelope(bot_message_event("<!channel> hi")))
    assert message is not None and message.is_bot


def test_edit_and_delete() -> None:
    edit = message_from_event(envelope(edit_event("hola a todos", "hola")))
    assert edit is not None
    assert (edit.kind, edit.message_id, edit.text) == (
        MessageKind.EDIT,
        "1700000000.000100",
        "hola a todos",
    )
    assert message_from_event(envelope(edit_event("same", "same"))) is None  # an unfurl
    delete = message_from_event(envelope(delete_event()))
    assert delete is not None
    assert (delete.kind, delete.message_id) == (MessageKind.DELETE, "1700000000.000100")


def test_ignored_subtypes_and_broken_events() -> None:
    join = message_event("<@U1> has joined", subtype="channel_join")
    assert message_from_event(envelope(join)) is None
    assert message_from_event({"event": {}}) is None
    file_only = message_from_event(envelope(message_event("", subtype="file_share")))
    assert file_only is not None and file_only.text == ""


def test_plain_text_makes_markup_readable() -> None:
    raw = "see <https://x.io|the docs> and <#C1|general>, ping <@U2> <!here> &amp; more"
    assert plain_text(raw) == "see the docs (https://x.io) and #general, ping @U2 @here & more"


def test_command_and_shortcut() -> None:
    body = {"user_id": "U1", "channel_id": "C1", "trigger_id": "t1", "team_id": "T1"}
    message = command_message(body, "hi", intent="translate", targets=("de",))
    assert (message.kind, message.intent, message.targets) == (
        MessageKind.COMMAND,
        "translate",
        ("de",),
    )
    assert message.event_id == "command:t1"
    shortcut = shortcut_message(shortcut_payload("hola"), language="de")
    assert shortcut is not None
    assert (shortcut.intent, shortcut.targets, shortcut.user) == ("translate", ("de",), "U0002")


def test_command_parsing() -> None:
    assert parse_command("  channel translate de, fr ") == ("channel", "translate de, fr")
    assert parse_command("") == ("help", "")
    assert parse_languages("de, fr es") == ("de", "fr", "es")
    assert parse_languages("german") is None
    new, _ = change_channel(ChannelSettings(policy="review"), "translate de fr")
    assert new == ChannelSettings(policy="review", languages=("de", "fr"), auto_translate=True)
    current = ChannelSettings(policy="translate", languages=("de",))
    new, _ = change_channel(current, "translate off")
    assert new == ChannelSettings(policy="answer", languages=())
    new, _ = change_channel(ChannelSettings(), "mode review")
    assert new is not None and new.policy == "review"
    assert change_channel(ChannelSettings(), "mode loud")[0] is None
    assert "<https://d.io|A &amp; B>" in render_hits(
        "q", [{"title": "A & B", "url": "https://d.io"}]
    )


def test_huge_message_keeps_its_text_for_the_pipeline_to_bound() -> None:
    # Slack allows 40,000 characters; the adapter passes them on and the pipeline truncates
    # to PARLEY_MAX_INPUT_CHARS with a note (tests/integration/test_workers_pipeline.py).
    text = "why? " * 8000
    body = envelope(message_event(text, channel="D0001", channel_type="im"))
    message = message_from_event(body, bot_user_id=BOT_USER)
    assert message is not None and len(message.text) == len(text.strip())
