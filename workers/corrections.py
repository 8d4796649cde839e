"""Translation corrections from chat: a reader fixes a translation Parley posted.

1. When the delivery task has posted a translation, `remember_posted` maps the platform message
   to it: `Keys.posted_translation(platform, channel, message id)` -> JSON `{key, record,
   field}` (the idempotency key of the post, and where `workers.translation` keeps its text,
   source text and languages), TTL `dedupe_ttl`.
2. An adapter that receives a correction of a bot message (Slack: the "Fix translation" message
   shortcut and its modal; Telegram: `/fix <text>` in reply to the translation) looks it up with
   `find_posted_translation`: None means the message is not a translation Parley still knows.
3. `apply_correction` refuses users who may not fix translations (`may_fix`:
   `PARLEY_TRANSLATION_FIXERS=agents` keeps it to support agents), records the correction once
   (redacted, on the learning stream that `parley data collect` turns into translation
   examples, docs/learning.md), keeps the corrected text as the translation's text, and returns
   the edit of the posted translation for the adapter to deliver (`parley.deliver_reply`), so
   every reader sees the corrected text.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any, cast

import redis

from bot.errors import InvalidInputError
from bot.settings import Settings
from bot.types import OutgoingMessage
from nlp.learning.streams import record_translation_correction
from workers.keys import Keys
from workers.review.agents import is_agent_ref

MAX_CORRECTION_CHARS = 4000
AGENTS_ONLY = "Only support agents can fix translations here; ask one of them to correct it"


@dataclass(frozen=True, slots=True)
class PostedTranslation:
    """A translation Parley posted, as a correction needs it."""

    platform: str
    channel: str
    message_id: str  # the platform's id of the posted translation
    key: str  # its idempotency key (an edit `replaces` it)
    thread: str
    text: str  # the translation as shown now
    source_text: str
    source_language: str | None
    target_language: str
    record: str  # the Redis hash of the original message's translations
    field: str  # this translation's field in it


def remember_posted(
    client: redis.Redis, settings: Settings, outgoing: OutgoingMessage, message_id: str
) -> None:
    """Map the platform message `message_id` to the translation `outgoing` posted."""
    original = str(outgoing.metadata.get("translation_of") or "")
    if outgoing.kind != "translation" or outgoing.delete or not original or not message_id:
        return
    if outgoing.platform == "local":  # the terminal has no message ids to correct
        return
    chat = outgoing.channel
    if outgoing.ephemeral_to:  # Slack: an ephemeral post cannot be edited; Telegram: a private
        if outgoing.platform != "telegram":  # chat with the user holds the translation
            return
        chat = outgoing.ephemeral_to
    keys = Keys(settings.namespace)
    record = keys.translations(outgoing.platform, outgoing.channel, original)
    key = outgoing.replaces or outgoing.idempotency_key  # an edit shows in the first post
    thread = "" if chat != outgoing.channel else outgoing.thread
    for field, entry in _entries(client, record).items():
        if entry.get("key") == outgoing.idempotency_key:
            value = {"key": key, "record": record, "field": field, "thread": thread}
            where = keys.posted_translation(outgoing.platform, chat, message_id)
            client.set(where, json.dumps(value), ex=settings.dedupe_ttl)
            return


def find_posted_translation(
    client: redis.Redis, settings: Settings, platform: str, channel: str, message_id: str
) -> PostedTranslation | None:
    """The translation Parley posted as `message_id` in `channel`, or None."""
    raw = client.get(Keys(settings.namespace).posted_translation(platform, channel, message_id))
    if not raw:
        return None
    where = json.loads(raw)
    entry = _entries(client, where["record"]).get(where["field"])
    if entry is None or "source" not in entry:
        return None  # expired, or stored before corrections existed
    return PostedTranslation(
        platform=platform,
        channel=channel,
        message_id=message_id,
        key=str(where["key"]),
        thread=str(where.get("thread") or ""),
        text=str(entry.get("corrected") or entry["text"]),
        source_text=str(entry["source"]),
        source_language=entry.get("source_language") or None,
        target_language=str(entry["target_language"]),
        record=str(where["record"]),
        field=str(where["field"]),
    )


def may_fix(client: redis.Redis, settings: Settings, user: str) -> bool:
    """Whether `user` (`platform:id`) may fix translations (`PARLEY_TRANSLATION_FIXERS`)."""
    return settings.translation_fixers == "anyone" or is_agent_ref(settings, client, user)


def apply_correction(
    client: redis.Redis,
    settings: Settings,
    posted: PostedTranslation,
    corrected: str,
    *,
    user: str,
) -> OutgoingMessage | None:
    """Record `user`'s correction of `posted` once and return the edit that shows it (again for a
    repeat of the correction shown now, so a failed enqueue can be retried: the deliverer sends
    each edit once); None when the text is unchanged. InvalidInputError when it is empty or too
    long, or when `user` may not fix translations (`may_fix`)."""
    if not may_fix(client, settings, user):
        raise InvalidInputError(AGENTS_ONLY)
    text = corrected.strip()
    if not text:
        raise InvalidInputError("The corrected translation is empty: write the text it should say")
    if len(text) > MAX_CORRECTION_CHARS:
        raise InvalidInputError(
            f"The corrected translation is too long ({len(text)} characters, at most "
            f"{MAX_CORRECTION_CHARS})"
        )
    digest = hashlib.sha256(f"{posted.key}\n{text}".encode()).hexdigest()[:16]
    keys = Keys(settings.namespace)
    once = keys.correction_once(digest)
    edit = OutgoingMessage(
        platform=posted.platform,  # type: ignore[arg-type]
        channel=posted.channel,
        text=text,
        idempotency_key=f"{posted.key}:fix:{digest}",
        thread=posted.thread,
        kind="translation",
        replaces=posted.key,
        metadata={"corrected_by": user, "target_language": posted.target_language},
    )
    if text == posted.text:
        # This very correction was recorded but its edit was not delivered (the adapter could
        # not enqueue it, or it is on its way): the edit again, which is delivered at most once.
        pending = client.exists(once) and not client.exists(keys.outbound(edit.idempotency_key))
        return edit if pending else None
    if not client.set(once, user, nx=True, ex=settings.dedupe_ttl):
        return None
    record_translation_correction(
        client,
        settings,
        source_text=posted.source_text,
        source_language=posted.source_language,
        target_language=posted.target_language,
        machine_translation=posted.text,
        corrected_translation=text,
        user=user,
        platform=posted.platform,
        channel=posted.channel,
    )
    entry = _entries(client, posted.record).get(posted.field)
    if entry is not None:
        entry["corrected"] = text
        client.hset(posted.record, posted.field, json.dumps(entry))
    return edit


def _entries(client: redis.Redis, record: str) -> dict[str, dict[str, Any]]:
    raw = cast(dict[Any, Any], client.hgetall(record))
    out: dict[str, dict[str, Any]] = {}
    for field, value in raw.items():
        name = field.decode() if isinstance(field, bytes) else str(field)
        out[name] = json.loads(value)
    return out
