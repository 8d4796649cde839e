"""The language of a drafted answer: detect it, and translate an answer drafted in another one.

The small dialogue model often answers a German or Swedish question in English. Such an answer is
translated into the asker's language; a streamed one is not shown half-written in the wrong one.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from nlp.chat_markup import PLACEHOLDER_RE, protect
from nlp.inference.types import PartialText
from nlp.langid import LanguageDetector

if TYPE_CHECKING:
    from bot.settings import Settings
    from nlp.translation.base import Translator

logger = logging.getLogger(__name__)

# An answer is translated only when the detector is at least this sure of the answer's language
# (lingua's confidence for a clear one-sentence answer is about 0.6-0.9 among Parley's 19
# languages).
ANSWER_LANGUAGE_MIN_CONFIDENCE = 0.5
# A streamed answer is shown once this much of it is seen to be in the asker's language: one that
# will be translated is not shown half-written in the wrong one.
STREAM_LANGUAGE_CHARS = 60


class AnswerLanguage:
    """Keeps a drafted answer in the asker's language (when `answer_translation` is on)."""

    def __init__(
        self,
        settings: Settings,
        detector: LanguageDetector,
        translator_factory: Callable[[], Translator] | None = None,
    ) -> None:
        """`translator_factory` builds the translator once, on first need; None never
        translates."""
        self.settings = settings
        self.detector = detector
        self._translator_factory = translator_factory
        self._translator: Translator | None = None
        self._translator_lock = threading.Lock()

    def translator(self) -> Translator | None:
        """The answer translator, built on first use (None when not configured)."""
        if self._translator_factory is None:
            return None
        with self._translator_lock:
            if self._translator is None:
                self._translator = self._translator_factory()
            return self._translator

    def answer_language(self, text: str) -> str | None:
        """The language of a drafted answer, or None when the detector is unsure. Citation
        markers, links, code and other markup are left out of the detection."""
        prose = PLACEHOLDER_RE.sub(" ", protect(text).text)
        guess = self.detector.detect(prose)
        if guess is None or guess.confidence < ANSWER_LANGUAGE_MIN_CONFIDENCE:
            return None
        return guess.code

    def in_language(self, text: str, language: str) -> str:
        """`text` translated into `language` when it is confidently in another one; else as is.

        Citation markers (`[1]`) and chat markup stay exactly as drafted (`nlp.chat_markup`). A
        failing translation keeps the draft: an answer in the wrong language beats none.
        """
        if not self.settings.answer_translation or not text.strip():
            return text
        source = self.answer_language(text)
        if source is None or source == language:
            return text
        translator = self.translator()
        if translator is None:
            return text
        try:
            translated = translator.translate([text], target=language, source=source)[0]
        except Exception:  # a missing pair or a model failure must not lose the answer
            logger.warning("Answer not translated from %s to %s", source, language, exc_info=True)
            return text
        if not translated.strip():
            return text
        logger.info("Answer translated from %s to %s", source, language)
        return translated

    def in_language_only(self, on_text: PartialText, language: str) -> PartialText:
        """`on_text` for a streamed answer, silenced when the answer will be translated (see
        `in_language`); the first STREAM_LANGUAGE_CHARS characters decide."""
        if not self.settings.answer_translation or self._translator_factory is None:
            return on_text
        verdict: list[bool] = []

        def forward(text: str) -> None:
            if text and not verdict:
                if len(text) < STREAM_LANGUAGE_CHARS:
                    return
                source = self.answer_language(text)
                verdict.append(source is None or source == language)
            if not verdict or verdict[0]:
                on_text(text)

        return forward
