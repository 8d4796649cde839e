"""Translation policy as pure functions: where a message goes, and into which languages.

Rules (docs/translation.md):
- bots' messages (Parley's own included, `is_bot`) are never translated;
- intent `answer` -> answering; intent `translate` -> translation into `targets` (else the
  asker's preferred language, else the channel's languages, else the default language);
- intent `auto`: DMs, mentions and commands are answered; channel messages, edits and deletes are
  translated when the channel auto-translates (`auto_translate` or policy `translate`, and
  target languages set), otherwise ignored;
- a message already in a target language is not translated into it; in auto mode, a message
  whose language cannot be told (too short, ambiguous) is not translated at all.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from bot.types import IncomingMessage, MessageKind
from workers.preferences import ChannelSettings, UserSettings

Route = Literal["answer", "translate", "summarize", "write", "ignore"]

_ANSWERED_KINDS = {MessageKind.DM, MessageKind.MENTION, MessageKind.COMMAND}


def route_message(message: IncomingMessage, channel: ChannelSettings) -> tuple[Route, str]:
    """Where intake sends a message, and why."""
    if message.intent == "answer":
        return "answer", "asked for an answer"
    if message.intent in ("summarize", "write"):
        return message.intent, f"asked to {message.intent}"
    if message.intent == "translate":
        if message.is_bot:
            return "ignore", "bot message"
        return "translate", "asked for a translation"
    if message.kind in _ANSWERED_KINDS:
        return "answer", f"{message.kind.value} is answered"
    if message.is_bot:
        return "ignore", "bot message"
    if channel.translates:
        return "translate", "channel auto-translates"
    return "ignore", "channel does not auto-translate"


@dataclass(frozen=True, slots=True)
class TranslationPlan:
    """The languages to translate one message into (empty: none), and why."""

    targets: tuple[str, ...]
    reason: str
    explicit: bool = False


def _unique(codes: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(c.strip().lower() for c in codes if c.strip()))


def plan_translation(
    message: IncomingMessage,
    *,
    channel: ChannelSettings,
    user: UserSettings,
    source: str | None,
    default_language: str,
) -> TranslationPlan:
    """Target languages for `message`, whose detected language is `source` (None: unsure)."""
    if message.is_bot:
        return TranslationPlan((), "bot message")
    if message.intent == "translate":
        preferred = (user.language,) if user.language else ()
        wanted = message.targets or preferred or channel.languages or (default_language,)
        targets = tuple(t for t in _unique(wanted) if t != source)
        reason = "explicit request" if targets else f"already in {source}"
        return TranslationPlan(targets, reason, explicit=True)
    if not channel.translates:
        return TranslationPlan((), "channel does not auto-translate")
    if source is None:
        return TranslationPlan((), "language unsure (too short or mixed)")
    targets = tuple(t for t in _unique(channel.languages) if t != source)
    return TranslationPlan(targets, "auto-translate" if targets else f"already in {source}")
