"""Converting real Telegram Update JSON to IncomingMessage (no network)."""

from __future__ import annotations

import pytest
from telegram import Update

from bot.errors import ConfigurationError
from bot.settings import Settings
from bot.telegram import commands
from bot.telegram.convert import (
    classify,
    event_id_for,
    message_id_from_event,
    strip_mention,
    to_incoming,
)
from bot.telegram.run import check_settings
from bot.telegram.webhook import secret_matches
from bot.types import MessageKind
from tests import fake_telegram as tg


def _message(data: dict[str, object]) -> Update:
    return Update.de_json(data, None)


def test_private_message_is_a_dm() -> None:
    update = _message(tg.private_text(1, "How do I reset my password?"))
    assert update.message is not None
    kind = classify(update.message, tg.BOT_ID, tg.BOT_USERNAME)
    incoming = to_incoming(update.message, kind=kind, text=update.message.text or "")
    assert incoming.kind is MessageKind.DM
    assert (incoming.platform, incoming.channel, incoming.user) == ("telegram", "42", "42")
    assert incoming.event_id == "42:10" and incoming.message_id == "10"
    assert message_id_from_event(incoming.event_id) == "10"


def test_group_mention_with_emoji_before_it_uses_utf16_offsets() -> None:
    text = f"😀😀 hi @{tg.BOT_USERNAME} where is my order?"
    update = _message(tg.group_text(2, text))
    assert update.message is not None
    assert classify(update.message, tg.BOT_ID, tg.BOT_USERNAME) is MessageKind.MENTION
    assert strip_mention(text, tg.BOT_USERNAME.upper()) == "😀😀 hi where is my order?"


def test_group_message_not_addressed_is_channel() -> None:
    update = _message(tg.group_text(3, "just chatting"))
    assert update.message is not None
    assert classify(update.message, tg.BOT_ID, tg.BOT_USERNAME) is MessageKind.CHANNEL


def test_reply_to_the_bot_is_a_mention() -> None:
    update = _message(tg.reply_to_bot(4, "and in German?"))
    assert update.message is not None
    assert classify(update.message, tg.BOT_ID, tg.BOT_USERNAME) is MessageKind.MENTION


def test_bot_sender_and_edit_event_ids() -> None:
    update = _message(tg.group_text(5, "beep", is_bot=True, user=999))
    assert update.message is not None
    incoming = to_incoming(update.message, kind=MessageKind.CHANNEL, text="beep")
    assert incoming.is_bot and incoming.user == "999"
    edited = _message(tg.edited_group_text(6, "fixed typo"))
    assert edited.edited_message is not None
    event = event_id_for(edited.edited_message, edited=True)
    assert event.startswith("-1001234567890:20:edit:")
    assert message_id_from_event(event) == "20"


def test_command_menu_languages_and_language_parsing() -> None:
    assert [c.command for c in commands.menu("de")] == list(commands.COMMANDS)
    assert all(c.command.islower() for c in commands.menu("en"))
    assert "fix" in [c.command for c in commands.menu("uk")]
    assert "/fix <corrected text>" in commands.HELP_TEXT
    assert commands.menu_languages(("en", "xx", "de")) == ["en", "de"]
    assert commands.parse_languages("de, FR  pt-br") == ("de", "fr", "pt-br")
    assert commands.parse_languages("none") == ()
    assert commands.parse_languages("german!") is None


def test_secret_comparison() -> None:
    assert secret_matches("s3cret_-X", b"s3cret_-X")
    assert not secret_matches("s3cret_-X", b"s3cret_-Y")
    assert not secret_matches("s3cret_-X", None)
    assert not secret_matches("s3cret_-X", b"")


def test_startup_checks_name_the_variable() -> None:
    def build(**values: object) -> Settings:
        return Settings(_env_file=None, telegram_bot_token=tg.TOKEN, **values)  # type: ignore[call-arg]

    check_settings(build())  # polling needs only the token
    with pytest.raises(ConfigurationError, match="PARLEY_TELEGRAM_BOT_TOKEN"):
        check_settings(Settings(_env_file=None))  # type: ignore[call-arg]
    with pytest.raises(ConfigurationError, match="PARLEY_TELEGRAM_WEBHOOK_SECRET"):
        check_settings(build(telegram_mode="webhook", telegram_webhook_secret="bad secret!"))
    with pytest.raises(ConfigurationError, match="PARLEY_TELEGRAM_WEBHOOK_URL"):
        check_settings(
            build(
                telegram_mode="webhook",
                telegram_webhook_secret="ok_secret",
                telegram_webhook_url="http://insecure.example",
            )
        )
