"""Answering a customer's question from the knowledge base: the `Answerer` the workers call.

One answer: clean the input -> pick the reply language -> bound the memory -> retrieve (a
short follow-up may carry the previous question) -> escalate if nothing relevant -> draft from
the best few passages -> score -> escalate below the confidence threshold -> translate an answer
the model drafted in another language into the asker's. An escalation's text is a handoff note
in the customer's language; the model's draft travels in `Draft.draft_text` for the reviewing
agent. Keeping the answer in the asker's language is `nlp.answer_language`.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Protocol, TypeGuard

from bot.errors import InvalidInputError
from bot.types import Turn
from nlp.answer_language import AnswerLanguage
from nlp.confidence import draft_confidence
from nlp.drafting import Drafter
from nlp.handoff import handoff_note
from nlp.history import bound_history, retrieve
from nlp.inference.types import PartialText
from nlp.langid import LanguageDetector
from nlp.prompts import strip_invisible
from nlp.types import Action, Answerer, Citation, Draft
from retrieval.types import Hit, Retriever

if TYPE_CHECKING:
    from bot.settings import Settings
    from nlp.translation.base import Translator

logger = logging.getLogger(__name__)


def clean_input(text: str, max_chars: int) -> str:
    """Strip invisible characters and outer whitespace; keep the first `max_chars` characters.

    Raises `InvalidInputError` for empty or whitespace-only text. Longer text is truncated, not
    rejected: the start of a long message is where customers put their question.
    """
    cleaned = strip_invisible(text).strip()
    if not cleaned:
        raise InvalidInputError("The message is empty; nothing to answer")
    if len(cleaned) > max_chars:
        logger.info("Question truncated from %d to %d characters", len(cleaned), max_chars)
        cleaned = cleaned[:max_chars].rstrip()
    return cleaned


def citations_for(hits: Sequence[Hit], cited: Sequence[int]) -> tuple[Citation, ...]:
    """Citations of the cited passages (1-based numbers), one per document, in citation order."""
    seen: dict[str, Citation] = {}
    for number in cited:
        hit = hits[number - 1]
        seen.setdefault(hit.doc_id, Citation(hit.doc_id, hit.source, hit.title, hit.url))
    return tuple(seen.values())


class StreamingAnswerer(Protocol):
    """An `Answerer` that can report the answer so far while drafting it."""

    def answer(
        self,
        question: str,
        *,
        history: Sequence[Turn] = (),
        language: str | None = None,
        on_text: PartialText | None = None,
    ) -> Draft: ...


def streams(model: Answerer) -> TypeGuard[StreamingAnswerer]:
    """Whether `model.answer` takes an `on_text` callback."""
    try:
        return "on_text" in inspect.signature(model.answer).parameters
    except (TypeError, ValueError):
        return False


class RetrievalAnswerer:
    """`Answerer` that drafts from retrieved passages and escalates when unsure."""

    def __init__(
        self,
        settings: Settings,
        retriever: Retriever,
        drafter: Drafter,
        detector: LanguageDetector,
        translator_factory: Callable[[], Translator] | None = None,
    ) -> None:
        """`translator_factory` builds the translator for answers drafted in another language
        than the asker's, once, on first need; None (or `answer_translation` off) never
        translates."""
        self.settings = settings
        self.retriever = retriever
        self.drafter = drafter
        self.detector = detector
        self.answer_language = AnswerLanguage(settings, detector, translator_factory)

    def translator(self) -> Translator | None:
        """The answer translator, built on first use (None when not configured)."""
        return self.answer_language.translator()

    def reply_language(self, question: str, history: Sequence[Turn], given: str | None) -> str:
        """The given language, else the question's, else the last customer turn's, else default."""
        if given:
            return given
        for text in (question, *(t.text for t in reversed(history) if t.role == "user")):
            guess = self.detector.detect(text)
            if guess is not None:
                return guess.code
        return self.settings.default_language

    def answer(
        self,
        question: str,
        *,
        history: Sequence[Turn] = (),
        language: str | None = None,
        on_text: PartialText | None = None,
    ) -> Draft:
        """Answer `question` given the conversation so far; see the module docstring.

        `on_text` streams the draft: called with "" once drafting starts (retrieval found a
        relevant passage), then with the visible answer so far, unless it is in another language
        than the asker's (`in_language_only`). The final `Draft` may still differ: escalated
        below the confidence threshold.
        """
        s = self.settings
        text = clean_input(question, s.max_input_chars)
        turns = bound_history(
            [
                Turn(t.role, strip_invisible(t.text).strip()[: s.max_input_chars], t.at)
                for t in history
                if strip_invisible(t.text).strip()
            ],
            max_turns=s.history_turns,
            max_tokens=s.history_tokens,
            count_tokens=self.drafter.count_tokens,
        )
        lang = self.reply_language(text, turns, language)
        hits, new_topic = retrieve(self.retriever, text, turns, k=s.search_k, language=lang)
        if new_topic:
            turns = ()  # earlier turns on another topic only mislead a small model
        passages = tuple(hit.to_dict() for hit in hits)
        if not hits or hits[0].score < s.min_retrieval_score:
            best = f"{hits[0].score:.3f}" if hits else "none"
            return Draft(
                text=handoff_note(lang),
                language=lang,
                action="escalate",
                confidence=0.0,
                reason=f"no relevant passage in the knowledge base (best score {best})",
                passages=passages,
            )
        # A 0.5B model answers best from a few passages: more of them dilute the right one and
        # cost seconds of prompt processing on CPU (bench/bench_answers.py).
        shown = hits[: s.draft_passages]
        if on_text is None:
            result = self.drafter.draft(text, shown, history=turns, language=lang)
        else:
            stream = self.answer_language.in_language_only(on_text, lang)
            result = self.drafter.draft(text, shown, history=turns, language=lang, on_text=stream)
        confidence, reason = draft_confidence(result, [hit.text for hit in shown])
        action: Action = "answer" if confidence >= s.confidence_threshold else "escalate"
        if action == "escalate" and not reason:
            reason = "the model is unsure of its answer"
        draft_text = "" if result.refused and "NO_ANSWER" in result.text else result.text
        if action == "answer":
            reply = self.answer_language.in_language(draft_text, lang)
        else:
            reply = handoff_note(lang)
        return Draft(
            text=reply,
            language=lang,
            action=action,
            confidence=round(confidence, 4),
            citations=citations_for(shown, result.cited),
            reason=reason,
            passages=passages,
            draft_text=draft_text,
        )


def build_answerer(settings: Settings, retriever: Retriever | None = None) -> Answerer:
    """The one factory: the configured retriever, dialogue model, language detector and (when
    `answer_translation` is on) answer translator, built lazily on the first answer in the wrong
    language.

    Loads the dialogue model (converting a builtin model on first use); call it once per worker
    process, not at import. Without `retriever`, builds the one `retrieval.factory` configures,
    with the dialogue model as its query translator when `PARLEY_QUERY_TRANSLATION` is on.
    """
    from nlp.drafting import LLMDrafter
    from nlp.langid import LinguaDetector
    from nlp.loading import load_causal_lm

    loaded = load_causal_lm(
        settings.dialogue_model, cache_dir=settings.cache_dir, device=settings.device
    )
    if retriever is None:
        from nlp.query_translation import LLMQueryTranslator
        from retrieval.factory import build_retriever

        translator = LLMQueryTranslator(loaded) if settings.query_translation else None
        retriever = build_retriever(settings, query_translator=translator)
    drafter = LLMDrafter(
        loaded,
        max_new_tokens=settings.max_new_tokens,
        max_context_chars=settings.draft_context_chars,
    )

    def answer_translator() -> Translator:
        from nlp.translation import build_translator

        return build_translator(settings)

    return RetrievalAnswerer(
        settings,
        retriever,
        drafter,
        LinguaDetector(),
        answer_translator if settings.answer_translation else None,
    )
