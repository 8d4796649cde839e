"""Test doubles: fast answerers the worker loads through PARLEY_ANSWERER_FACTORY.

They record each call in Redis (`<namespace>:test:calls`) so tests in another process can see
how often, where and with what history the worker answered.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Sequence

from bot.errors import ModelUnavailableError
from bot.settings import Settings
from bot.types import Turn
from nlp.types import Citation, Draft
from workers.app import state_url
from workers.redis_client import connect

DELAY_VARIABLE = "PARLEY_TEST_ANSWER_DELAY"


def calls_key(settings: Settings) -> str:
    """Where the fakes record their calls."""
    return f"{settings.namespace}:test:calls"


class EchoAnswerer:
    """Answers with the question echoed back, after an optional delay."""

    def __init__(self, settings: Settings, *, delay: float = 0.0) -> None:
        self._settings = settings
        self._delay = delay
        self._redis = connect(state_url(settings))

    def answer(
        self, question: str, *, history: Sequence[Turn] = (), language: str | None = None
    ) -> Draft:
        record = {
            "pid": os.getpid(),
            "chars": len(question),
            "history": [t.text for t in history],
            "started": time.time(),
        }
        self._redis.rpush(calls_key(self._settings), json.dumps(record))
        if self._delay:
            time.sleep(self._delay)
        return Draft(
            text=f"echo: {question[:80]}",
            language=language or "en",
            action="answer",
            confidence=0.9,
            citations=(Citation(doc_id="faq-1", source="faq.md", title="FAQ"),),
            passages=({"text": "passage"},),
        )


def build_echo_answerer(settings: Settings) -> EchoAnswerer:
    """Instant echo."""
    return EchoAnswerer(settings)


def build_slow_answerer(settings: Settings) -> EchoAnswerer:
    """Echo after PARLEY_TEST_ANSWER_DELAY seconds (default 3)."""
    return EchoAnswerer(settings, delay=float(os.environ.get(DELAY_VARIABLE, "3")))


def build_missing_model(settings: Settings) -> EchoAnswerer:
    """Fails like a model that is not installed."""
    raise ModelUnavailableError(
        "Dialogue model 'missing/model' not found: set PARLEY_DIALOGUE_MODEL to a local folder"
    )
