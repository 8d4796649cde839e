"""A streaming answerer double: writes its answer word by word like a model would, reporting the
text so far through `on_text` (PARLEY_ANSWERER_FACTORY=tests.fakes_streaming:build_typing_answerer).

It records each call like `tests.fakes` (pid included, so fault tests can kill the child) and
escalates questions that contain "escalate" after streaming the draft.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Sequence

from bot.settings import Settings
from bot.types import Turn
from nlp.handoff import handoff_note
from nlp.types import Citation, Draft
from tests.fakes import calls_key
from workers.app import state_url
from workers.redis_client import connect

ANSWER = "Parley Premium costs 49 euros per month and includes priority support for every team"
DELAY_VARIABLE = "PARLEY_TEST_STREAM_DELAY"
CITATION = Citation(doc_id="plans", source="kb/plans.md", title="Pricing plans")


class TypingAnswerer:
    """Streams ANSWER one word per `delay` seconds, then answers it with a citation."""

    def __init__(self, settings: Settings, *, delay: float) -> None:
        self._settings = settings
        self._delay = delay
        self._redis = connect(state_url(settings))

    def answer(
        self,
        question: str,
        *,
        history: Sequence[Turn] = (),
        language: str | None = None,
        on_text: Callable[[str], None] | None = None,
    ) -> Draft:
        record = {"pid": os.getpid(), "question": question, "streamed": on_text is not None}
        self._redis.rpush(calls_key(self._settings), json.dumps(record))
        words = ANSWER.split()
        if on_text is not None:
            on_text("")
        for count in range(1, len(words) + 1):
            time.sleep(self._delay)
            if on_text is not None:
                on_text(" ".join(words[:count]))
        if "escalate" in question:
            return Draft(
                text=handoff_note("en"),
                language="en",
                action="escalate",
                confidence=0.2,
                reason="test escalation",
                draft_text=ANSWER + " [1].",
            )
        return Draft(
            text=ANSWER + " [1].",
            language=language or "en",
            action="answer",
            confidence=0.9,
            citations=(CITATION,),
        )


def build_typing_answerer(settings: Settings) -> TypingAnswerer:
    """One word every PARLEY_TEST_STREAM_DELAY seconds (default 0.2: about 3 s an answer)."""
    return TypingAnswerer(settings, delay=float(os.environ.get(DELAY_VARIABLE, "0.2")))
