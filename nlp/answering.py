"""Answering a customer's question from the knowledge base: the `Answerer` the workers call.

One answer: clean the input -> pick the reply language -> bound the memory -> build the search
query (follow-ups carry the previous question) -> retrieve -> escalate if nothing relevant ->
draft from the best few passages -> score -> escalate below the confidence threshold. An
escalation's text is a handoff note in the customer's language; the model's draft travels in
`Draft.draft_text` for the reviewing agent.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

from bot.errors import InvalidInputError
from bot.types import Turn
from nlp.confidence import draft_confidence
from nlp.drafting import Drafter
from nlp.handoff import handoff_note
from nlp.history import bound_history, search_query
from nlp.langid import LanguageDetector
from nlp.prompts import strip_invisible
from nlp.types import Action, Answerer, Citation, Draft
from retrieval.types import Hit, Retriever

if TYPE_CHECKING:
    from bot.settings import Settings

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


class RetrievalAnswerer:
    """`Answerer` that drafts from retrieved passages and escalates when unsure."""

    def __init__(
        self,
        settings: Settings,
        retriever: Retriever,
        drafter: Drafter,
        detector: LanguageDetector,
    ) -> None:
        self.settings = settings
        self.retriever = retriever
        self.drafter = drafter
        self.detector = detector

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
        self, question: str, *, history: Sequence[Turn] = (), language: str | None = None
    ) -> Draft:
        """Answer `question` given the conversation so far; see the module docstring."""
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
        hits = self.retriever.search(search_query(text, turns), k=s.search_k, language=lang)
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
        result = self.drafter.draft(text, shown, history=turns, language=lang)
        confidence, reason = draft_confidence(result, [hit.text for hit in shown])
        action: Action = "answer" if confidence >= s.confidence_threshold else "escalate"
        if action == "escalate" and not reason:
            reason = "the model is unsure of its answer"
        draft_text = "" if result.refused and "NO_ANSWER" in result.text else result.text
        return Draft(
            text=draft_text if action == "answer" else handoff_note(lang),
            language=lang,
            action=action,
            confidence=round(confidence, 4),
            citations=citations_for(shown, result.cited),
            reason=reason,
            passages=passages,
            draft_text=draft_text,
        )


def build_answerer(settings: Settings, retriever: Retriever | None = None) -> Answerer:
    """The one factory: the configured retriever, dialogue model and language detector.

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
    return RetrievalAnswerer(settings, retriever, drafter, LinguaDetector())
