"""The translation pipeline as plain functions (`parley.translate_message` wraps them).

Outgoing conventions (the Slack and Telegram deliverers rely on them):
- a translation is `OutgoingMessage(kind="translation")` in the original's thread (or starting a
  thread on the original message; on Telegram only a forum topic is a thread, and the reply to
  the original threads it), `reply_to_message` = the original message id, idempotency key
  `translation:<platform>:<channel>:<message_id>:<lang>`;
- an edit re-translates and sends key `<that key>:edit:<edit event id>` with `replaces=<that key>`;
- a delete sends `delete=True` with `replaces=<that key>` for every posted translation.
Each (message, language) is translated once: the text is kept in the Redis hash
`Keys.translations` (HSETNX), so a duplicate event or a task re-run reuses it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

import redis

from bot.errors import ParleyError, TransientError
from bot.settings import Settings
from bot.types import IncomingMessage, MessageKind, OutgoingMessage
from nlp.glossary import Glossary, parse_glossary
from nlp.prompts import LANGUAGE_NAMES
from nlp.translation.chat import ChatTranslator
from workers.keys import Keys
from workers.pipeline import clean_text
from workers.preferences import ChannelSettings, UserSettings
from workers.translation_policy import plan_translation

log = logging.getLogger(__name__)

NOTHING_TO_TRANSLATE = "There is nothing to translate in this message."
ALREADY_IN = "This message is already in {language}."
FAILED_TRANSLATION = "Sorry, I could not translate this: {reason}"


def translation_key(platform: str, channel: str, message_id: str, lang: str) -> str:
    """Idempotency key of the first post of one message's translation into `lang`."""
    return f"translation:{platform}:{channel}:{message_id}:{lang}"


class GlossaryStore:
    """Per-workspace glossaries in Redis (JSON Lines strings)."""

    def __init__(self, client: redis.Redis, namespace: str) -> None:
        self._redis = client
        self._keys = Keys(namespace)

    def get(self, platform: str, workspace: str) -> Glossary | None:
        raw: str | bytes | None = self._redis.get(self._keys.glossary(platform, workspace))
        if raw is None:
            return None
        text = raw.decode() if isinstance(raw, bytes) else raw
        return parse_glossary(text.splitlines(), source=f"glossary of {platform}:{workspace}")

    def set(self, platform: str, workspace: str, glossary: Glossary) -> None:
        self._redis.set(self._keys.glossary(platform, workspace), glossary.to_jsonl())


@dataclass(frozen=True, slots=True)
class TranslationContext:
    """What translating one message needs besides the message."""

    settings: Settings
    redis: redis.Redis
    translator: Callable[[], ChatTranslator]
    channel: ChannelSettings
    user: UserSettings
    glossary: Glossary | None = None


def _message_id(message: IncomingMessage) -> str:
    return message.message_id or message.event_id


def make_translation(
    message: IncomingMessage, text: str, key: str, *, kind: str = "translation", **extra: Any
) -> OutgoingMessage:
    """An OutgoingMessage in reply to `message` (a thread reply on the original)."""
    metadata = {"reply_to": message.event_id, "translation_of": _message_id(message)}
    metadata.update(extra.pop("metadata", {}))
    explicit_command = message.intent == "translate" and message.kind == MessageKind.COMMAND
    # Slack starts a thread on the original; Telegram threads by replying to it
    # (`reply_to_message`): its threads are forum topics, and it refuses any other thread id.
    starts_thread = message.platform != "telegram"
    return OutgoingMessage(
        platform=message.platform,
        channel=message.channel,
        thread=message.thread or (message.message_id if starts_thread else ""),
        text=text,
        idempotency_key=key,
        kind=kind,  # type: ignore[arg-type]
        reply_to_message=message.message_id,
        ephemeral_to=message.user if explicit_command else "",
        metadata=metadata,
        **extra,
    )


class _Record:
    """The Redis hash of one message's translations."""

    def __init__(self, ctx: TranslationContext, message: IncomingMessage) -> None:
        keys = Keys(ctx.settings.namespace)
        self.key = keys.translations(message.platform, message.channel, _message_id(message))
        self.redis = ctx.redis
        self.ttl = ctx.settings.dedupe_ttl

    def posted(self) -> dict[str, dict[str, str]]:
        raw = cast(dict[Any, Any], self.redis.hgetall(self.key))
        out = {}
        for field, value in raw.items():
            name = field.decode() if isinstance(field, bytes) else str(field)
            out[name] = json.loads(value)
        return out

    def store(self, field: str, key: str, text: str, **about: str) -> dict[str, str]:
        """Keep the first translation stored under `field` (a concurrent run may have won);
        `about`: its source text and languages, which a correction needs (corrections.py)."""
        entry = {"key": key, "text": text, **about}
        if self.redis.hsetnx(self.key, field, json.dumps(entry)):
            self.redis.expire(self.key, self.ttl)
            return entry
        stored = self.redis.hget(self.key, field)
        return cast(dict[str, str], json.loads(stored)) if stored else entry


def _deletes(message: IncomingMessage, posted: dict[str, dict[str, str]]) -> list[OutgoingMessage]:
    return [
        make_translation(message, "", f"{entry['key']}:delete", replaces=entry["key"], delete=True)
        for field, entry in posted.items()
        if "@" not in field
    ]


def _notice(message: IncomingMessage, text: str, suffix: str) -> OutgoingMessage:
    key = translation_key(message.platform, message.channel, _message_id(message), suffix)
    return make_translation(message, text, key, kind="notice")


def translate_incoming(message: IncomingMessage, ctx: TranslationContext) -> list[OutgoingMessage]:
    """The translations (or edits, deletes, notices) to deliver for one incoming message.

    Transient errors propagate (the task retries); other Parley errors become an error reply for
    an explicit request and a log line for auto-translation (channels are not spammed).
    """
    ids = (message.platform, message.channel, message.event_id)
    if message.is_bot:
        log.info("bot message not translated platform=%s channel=%s event=%s", *ids)
        return []
    record = _Record(ctx, message)
    if message.kind == MessageKind.DELETE:
        return _deletes(message, record.posted())
    text = clean_text(message.text)
    explicit = message.intent == "translate"
    if not text:
        return [_notice(message, NOTHING_TO_TRANSLATE, "empty")] if explicit else []
    try:
        return _translate(message, text, ctx, record)
    except TransientError:
        raise
    except ParleyError as exc:
        log.warning("cannot translate platform=%s channel=%s event=%s: %s", *ids, exc)
        if not explicit:
            return []
        key = translation_key(message.platform, message.channel, _message_id(message), "error")
        reply = FAILED_TRANSLATION.format(reason=exc)
        return [make_translation(message, reply, key, kind="error", metadata={"error": "failed"})]


def _translate(
    message: IncomingMessage, text: str, ctx: TranslationContext, record: _Record
) -> list[OutgoingMessage]:
    ids = (message.platform, message.channel, message.event_id)
    translator = ctx.translator()
    source = message.language or translator.detect(text)
    plan = plan_translation(
        message,
        channel=ctx.channel,
        user=ctx.user,
        source=source,
        default_language=ctx.settings.default_language,
    )
    log.info(
        "translation plan platform=%s channel=%s event=%s source=%s targets=%s (%s)",
        *ids, source, ",".join(plan.targets) or "-", plan.reason,
    )  # fmt: skip
    posted = record.posted()
    out: list[OutgoingMessage] = []
    if message.kind == MessageKind.EDIT and source is not None and source in posted:
        # Edited into a language it used to be translated into: that translation is stale.
        out += _deletes(message, {source: posted[source]})
    if not plan.targets:
        if plan.explicit:
            name = LANGUAGE_NAMES.get(source or "", source or "")
            out.append(_notice(message, ALREADY_IN.format(language=name), "same"))
        return out
    for lang in plan.targets:
        base = translation_key(message.platform, message.channel, _message_id(message), lang)
        edit = message.kind == MessageKind.EDIT and lang in posted
        field, key = (f"{lang}@{message.event_id}", f"{base}:edit:{message.event_id}") if edit \
            else (lang, base)  # fmt: skip
        entry = posted.get(field)
        if entry is None:
            result = translator.translate_messages(
                [text], target=lang, source=source, glossary=ctx.glossary
            )[0]
            if not result.translated:
                continue  # all code / emoji / links: nothing a reader needs translated
            entry = record.store(
                field, key, result.text, source=text, source_language=source or "",
                target_language=lang,
            )  # fmt: skip
        meta = {"source_language": source, "target_language": lang}
        extra: dict[str, Any] = {"replaces": base} if edit else {}
        out.append(make_translation(message, entry["text"], key, metadata=meta, **extra))
    return out
