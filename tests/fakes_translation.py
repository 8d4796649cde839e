"""Test doubles for translation: a backend that "translates" by tagging and upper-casing.

`build_recording_translator` is what workers load through PARLEY_TRANSLATOR_FACTORY; it records
each backend call in Redis (`<namespace>:test:translations`) so tests in another process can
count how often the model ran.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import redis

from bot.settings import Settings
from bot.types import IncomingMessage, OutgoingMessage
from nlp.langid import Py3LangidDetector
from nlp.translation.chat import ChatTranslator
from workers.app import state_url
from workers.redis_client import connect


def translations_key(settings: Settings) -> str:
    return f"{settings.namespace}:test:translations"


class TaggingBackend:
    """`Translator` returning `[target] TEXT` (placeholders survive upper-casing)."""

    def __init__(self) -> None:
        self.calls: list[tuple[tuple[str, ...], str, str | None]] = []

    def translate(
        self, texts: Sequence[str], *, target: str, source: str | None = None
    ) -> list[str]:
        self.calls.append((tuple(texts), target, source))
        return [f"[{target}] {t.upper()}" for t in texts]


class RecordingBackend(TaggingBackend):
    def __init__(self, settings: Settings) -> None:
        super().__init__()
        self._redis = connect(state_url(settings))
        self._key = translations_key(settings)

    def translate(
        self, texts: Sequence[str], *, target: str, source: str | None = None
    ) -> list[str]:
        self._redis.rpush(self._key, json.dumps({"texts": list(texts), "target": target}))
        return super().translate(texts, target=target, source=source)


def build_recording_translator(settings: Settings) -> ChatTranslator:
    return ChatTranslator(RecordingBackend(settings), detector=Py3LangidDetector())


def build_tagging_translator(settings: Settings) -> ChatTranslator:
    """No Redis, no model: for CLI tests."""
    return ChatTranslator(TaggingBackend(), detector=Py3LangidDetector())


def seed_posted_translation(
    settings: Settings,
    client: redis.Redis,
    message: IncomingMessage,
    posted_id: str,
    languages: tuple[str, ...] = ("en", "es"),
) -> list[OutgoingMessage]:
    """What the pipeline leaves without a worker: `message` translated (tagging translator) in
    an auto-translate channel, each translation mapped to the platform message `posted_id` as
    the delivery task does once the platform answered."""
    from workers.corrections import remember_posted
    from workers.preferences import ChannelSettings, UserSettings
    from workers.translation import TranslationContext, translate_incoming

    ctx = TranslationContext(
        settings=settings,
        redis=client,
        translator=lambda: build_tagging_translator(settings),
        channel=ChannelSettings(languages=languages, auto_translate=True),
        user=UserSettings(),
    )
    out = translate_incoming(message, ctx)
    for outgoing in out:
        remember_posted(client, settings, outgoing, posted_id)
    return out
