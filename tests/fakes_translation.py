"""Test doubles for translation: a backend that "translates" by tagging and upper-casing.

`build_recording_translator` is what workers load through PARLEY_TRANSLATOR_FACTORY; it records
each backend call in Redis (`<namespace>:test:translations`) so tests in another process can
count how often the model ran.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from bot.settings import Settings
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
