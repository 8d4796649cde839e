from __future__ import annotations

import pytest

from bot.types import IncomingMessage, Intent, MessageKind
from workers.preferences import ChannelSettings, UserSettings
from workers.translation_policy import plan_translation, route_message

AUTO = ChannelSettings(languages=("en", "es", "de"), auto_translate=True)


def msg(
    kind: MessageKind = MessageKind.CHANNEL,
    intent: Intent = "auto",
    targets: tuple[str, ...] = (),
    is_bot: bool = False,
) -> IncomingMessage:
    return IncomingMessage(
        platform="slack", channel="C1", user="U1", text="hi", event_id="e1", message_id="1.0",
        kind=kind, intent=intent, targets=targets, is_bot=is_bot,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("message", "channel", "route"),
    [
        (msg(MessageKind.DM), AUTO, "answer"),
        (msg(MessageKind.MENTION), AUTO, "answer"),
        (msg(MessageKind.COMMAND), AUTO, "answer"),
        (msg(MessageKind.CHANNEL), AUTO, "translate"),
        (msg(MessageKind.EDIT), AUTO, "translate"),
        (msg(MessageKind.DELETE), AUTO, "translate"),
        (msg(MessageKind.CHANNEL), ChannelSettings(), "ignore"),
        (msg(MessageKind.CHANNEL), ChannelSettings(auto_translate=True), "ignore"),
        (
            msg(MessageKind.CHANNEL),
            ChannelSettings(policy="translate", languages=("de",)),
            "translate",
        ),
        (msg(MessageKind.CHANNEL, is_bot=True), AUTO, "ignore"),
        (msg(MessageKind.CHANNEL, intent="answer"), AUTO, "answer"),
        (
            msg(MessageKind.COMMAND, intent="translate", targets=("es",)),
            ChannelSettings(),
            "translate",
        ),
        (msg(MessageKind.COMMAND, intent="translate", is_bot=True), AUTO, "ignore"),
    ],
)
def test_routes(message: IncomingMessage, channel: ChannelSettings, route: str) -> None:
    assert route_message(message, channel)[0] == route


def plan(message: IncomingMessage, source: str | None, channel: ChannelSettings = AUTO,
         user: UserSettings | None = None) -> tuple[str, ...]:  # fmt: skip
    return plan_translation(
        message, channel=channel, user=user or UserSettings(), source=source, default_language="en"
    ).targets


def test_auto_translates_into_the_other_channel_languages() -> None:
    assert plan(msg(), "es") == ("en", "de")
    assert plan(msg(), "sv") == ("en", "es", "de")


def test_already_in_the_only_target_is_not_translated() -> None:
    assert plan(msg(), "de", ChannelSettings(languages=("de",), auto_translate=True)) == ()


def test_unsure_language_is_not_auto_translated() -> None:
    assert plan(msg(), None) == ()


def test_bots_are_never_translated() -> None:
    assert plan(msg(is_bot=True), "es") == ()
    assert (
        plan(msg(MessageKind.COMMAND, intent="translate", targets=("de",), is_bot=True), "en") == ()
    )


def test_channel_without_auto_translate_plans_nothing() -> None:
    assert plan(msg(), "es", ChannelSettings(languages=("en",))) == ()


def test_explicit_targets_then_user_then_channel_then_default() -> None:
    explicit = msg(MessageKind.COMMAND, intent="translate", targets=("DE", "de", "fr"))
    assert plan(explicit, "en") == ("de", "fr")
    bare = msg(MessageKind.COMMAND, intent="translate")
    assert plan(bare, "en", ChannelSettings(), UserSettings("sv")) == ("sv",)
    assert plan(bare, "en", ChannelSettings(languages=("es",))) == ("es",)
    assert plan(bare, "es", ChannelSettings()) == ("en",)
    assert plan(bare, None, ChannelSettings()) == ("en",)  # explicit: translate even if unsure


def test_channel_settings_round_trip_auto_translate() -> None:
    value = ChannelSettings(policy="answer", languages=("en", "es"), auto_translate=True)
    assert ChannelSettings.from_hash(value.to_hash()) == value
    assert ChannelSettings.from_hash({"languages": "en"}).auto_translate is False
