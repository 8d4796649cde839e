from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from bot.errors import InvalidInputError
from bot.settings import Settings
from bot.types import Turn
from nlp.answering import RetrievalAnswerer, build_answerer, clean_input
from nlp.handoff import handoff_note
from nlp.translation.chat import ChatTranslator
from nlp.types import Answerer
from retrieval.types import Hit
from tests.fakes_nlp import (
    PASSWORDS,
    PLANS,
    FakeDetector,
    FakeDrafter,
    FakeRetriever,
    FakeTranslator,
)


def settings(**overrides: Any) -> Settings:
    return Settings(_env_file=None, **overrides)  # type: ignore[call-arg]


def answerer(
    drafter: FakeDrafter | None = None,
    retriever: FakeRetriever | None = None,
    detector: FakeDetector | None = None,
    **overrides: Any,
) -> RetrievalAnswerer:
    return RetrievalAnswerer(
        settings(**overrides),
        retriever or FakeRetriever(),
        drafter or FakeDrafter(),
        detector or FakeDetector(),
    )


def test_a_confident_cited_draft_is_an_answer() -> None:
    bot: Answerer = answerer(detector=FakeDetector({"How much is Premium?": "en"}))
    draft = bot.answer("How much is Premium?")
    assert draft.action == "answer"
    assert draft.text == "Premium costs 49 euros per month [1]."
    assert draft.language == "en"
    assert draft.confidence == pytest.approx(0.9)
    assert [c.doc_id for c in draft.citations] == ["plans"]
    assert draft.citations[0].url == "https://example.com/plans"
    assert [p["doc_id"] for p in draft.passages] == ["plans", "passwords"]


@pytest.mark.parametrize("question", ["", "   \n\t ", "\u200b\u200e \u2066"])
def test_empty_questions_are_rejected(question: str) -> None:
    with pytest.raises(InvalidInputError):
        answerer().answer(question)


def test_a_100k_character_question_is_truncated() -> None:
    drafter, retriever = FakeDrafter(), FakeRetriever()
    answerer(drafter, retriever, max_input_chars=4000).answer("x" * 100_000)
    assert len(drafter.calls[0][0]) == 4000
    assert len(retriever.queries[0][0]) == 4000
    assert clean_input(" a\u200bb ", 100) == "ab"


def test_nothing_retrieved_escalates_without_drafting() -> None:
    drafter = FakeDrafter()
    draft = answerer(drafter, FakeRetriever(hits=[])).answer("Who are you?")
    assert draft.action == "escalate" and draft.confidence == 0.0
    assert draft.text == handoff_note("en") and draft.draft_text == ""
    assert "no relevant passage" in draft.reason
    assert drafter.calls == []


def test_weak_retrieval_escalates_without_drafting() -> None:
    drafter = FakeDrafter()
    retriever = FakeRetriever(hits=[PASSWORDS, PLANS])
    draft = answerer(drafter, retriever, min_retrieval_score=0.5).answer("How much is it?")
    assert draft.action == "escalate" and "0.410" in draft.reason
    assert drafter.calls == [] and len(draft.passages) == 2


def test_low_confidence_escalates_but_keeps_the_draft_for_review() -> None:
    drafter = FakeDrafter(text="It costs 99 euros.", cited=(), token_probability=0.7)
    draft = answerer(drafter, confidence_threshold=0.5).answer("How much is Premium?")
    assert draft.action == "escalate"
    assert draft.text == handoff_note("en") and draft.draft_text == "It costs 99 euros."
    assert draft.confidence < 0.5 and "99" in draft.reason


def test_a_refusal_escalates_with_a_handoff_note_and_no_draft() -> None:
    drafter = FakeDrafter(text="NO_ANSWER", cited=(), refused=True)
    draft = answerer(drafter).answer("¿Cuál es la capital de Perú?", language="es")
    assert (draft.action, draft.text, draft.confidence) == ("escalate", handoff_note("es"), 0.0)
    assert draft.draft_text == "" and "persona" in draft.text


def test_only_the_best_passages_reach_the_drafter() -> None:
    drafter = FakeDrafter()
    answerer(drafter, draft_passages=1).answer("How much is Premium?")
    assert [hit.doc_id for hit in drafter.calls[0][1]] == ["plans"]


def test_language_given_then_detected_then_from_history_then_default() -> None:
    detector = FakeDetector({"¿Cuánto cuesta Premium?": "es", "Hur mycket kostar det?": "sv"})
    drafter, retriever = FakeDrafter(), FakeRetriever()
    bot = answerer(drafter, retriever, detector, default_language="de")
    assert bot.answer("¿Cuánto cuesta Premium?", language="fr").language == "fr"
    assert bot.answer("¿Cuánto cuesta Premium?").language == "es"
    history = [Turn("user", "Hur mycket kostar det?"), Turn("assistant", "49 euro [1].")]
    assert bot.answer("ok?", history=history).language == "sv"
    assert bot.answer("ok?").language == "de"
    assert [call[3] for call in drafter.calls] == ["fr", "es", "sv", "de"]
    assert retriever.queries[1][2] == "es"


def test_follow_ups_are_searched_with_the_previous_question_and_history_is_bounded() -> None:
    drafter, retriever = FakeDrafter(), FakeRetriever()
    history = [Turn("user", f"old question {i}") for i in range(20)] + [Turn("user", " \u200b")]
    history += [Turn("user", "What does Premium include?"), Turn("assistant", "Support [1].")]
    bot = answerer(drafter, retriever, history_turns=4, history_tokens=100, search_k=1)
    bot.answer("and how much does that cost?", history=history)
    assert retriever.queries == [  # joined, then alone (the better best passage wins)
        ("What does Premium include?\nand how much does that cost?", 1, "en"),
        ("and how much does that cost?", 1, "en"),
    ]
    assert len(drafter.calls[0][2]) <= 4
    assert drafter.calls[0][2][-1].text == "Support [1]."


def test_build_answerer_reports_a_missing_model_clearly(tmp_path: Any) -> None:
    from bot.errors import ModelUnavailableError

    s = settings(dialogue_model=str(tmp_path / "missing"), cache_dir=tmp_path)
    with pytest.raises(ModelUnavailableError, match="PARLEY_DIALOGUE_MODEL"):
        build_answerer(s, retriever=FakeRetriever())


GERMAN = {"Premium costs 49 euros per month": "Premium kostet 49 Euro im Monat"}


class CountingFactory:
    """A translator factory that counts how often it was asked to build."""

    def __init__(self, translator: Any) -> None:
        self.translator = translator
        self.built = 0

    def __call__(self) -> Any:
        self.built += 1
        return self.translator


def translating(
    translator: Any, detector: FakeDetector, drafter: FakeDrafter | None = None, **overrides: Any
) -> tuple[RetrievalAnswerer, CountingFactory]:
    factory = CountingFactory(translator)
    bot = RetrievalAnswerer(
        settings(**overrides), FakeRetriever(), drafter or FakeDrafter(), detector, factory
    )
    return bot, factory


def test_an_english_answer_to_a_german_question_is_translated_keeping_citations() -> None:
    translator = FakeTranslator(GERMAN)
    detector = FakeDetector({"Was kostet Premium?": "de"}, contains={"Premium costs": "en"})
    bot, factory = translating(translator, detector)
    draft = bot.answer("Was kostet Premium?")
    assert (draft.action, draft.language) == ("answer", "de")
    assert draft.text == "Premium kostet 49 Euro im Monat [1]."
    assert draft.draft_text == "Premium costs 49 euros per month [1]."  # for the reviewer
    assert [c.doc_id for c in draft.citations] == ["plans"]
    assert translator.calls == [(("Premium costs 49 euros per month [1].",), "de", "en")]
    bot.answer("Was kostet Premium?")
    assert factory.built == 1  # built lazily, once per answerer


def test_citation_markers_survive_the_chat_translator() -> None:
    # The chat-safe translator hides "[1]" from the model behind a placeholder.
    backend = FakeTranslator(GERMAN)
    detector = FakeDetector({"Was kostet Premium?": "de"}, contains={"Premium costs": "en"})
    drafter = FakeDrafter(text="Premium costs 49 euros per month [1], see [2].", cited=(1, 2))
    bot, _ = translating(ChatTranslator(backend), detector, drafter)
    draft = bot.answer("Was kostet Premium?")
    assert draft.text == "Premium kostet 49 Euro im Monat [1], see [2]."
    assert backend.calls == [(("Premium costs 49 euros per month {0}, see {1}.",), "de", "en")]


@pytest.mark.parametrize(
    ("detector", "overrides"),
    [
        (FakeDetector({"Was kostet Premium?": "de"}), {}),  # the answer's language is unsure
        (FakeDetector({"Was kostet Premium?": "de"}, {"Premium": "en"}, confidence=0.4), {}),
        (FakeDetector({"Was kostet Premium?": "de"}, {"Premium": "en"}), {"language": "en"}),
        (FakeDetector({"Was kostet Premium?": "de"}, {"Premium": "en"}), {"off": True}),
    ],
    ids=["unsure", "low-confidence", "same-language", "setting-off"],
)
def test_answers_are_not_translated_when_unsure_or_already_right(
    detector: FakeDetector, overrides: dict[str, Any]
) -> None:
    translator = FakeTranslator(GERMAN)
    bot, factory = translating(
        translator, detector, answer_translation=not overrides.get("off", False)
    )
    draft = bot.answer("Was kostet Premium?", language=overrides.get("language"))
    assert draft.text == "Premium costs 49 euros per month [1]."
    assert translator.calls == [] and factory.built == 0


def test_escalations_are_not_translated() -> None:
    translator = FakeTranslator(GERMAN)
    detector = FakeDetector({"Was kostet Premium?": "de"}, contains={"Premium": "en"})
    drafter = FakeDrafter(text="Premium costs 99 euros.", cited=(), token_probability=0.3)
    bot, factory = translating(translator, detector, drafter)
    draft = bot.answer("Was kostet Premium?")
    assert draft.action == "escalate" and draft.text == handoff_note("de")
    assert draft.draft_text == "Premium costs 99 euros." and factory.built == 0


def test_a_failing_translation_keeps_the_drafted_answer() -> None:
    detector = FakeDetector({"Was kostet Premium?": "de"}, contains={"Premium costs": "en"})
    bot, _ = translating(FakeTranslator(fail=True), detector)
    draft = bot.answer("Was kostet Premium?")
    assert draft.action == "answer"
    assert draft.text == "Premium costs 49 euros per month [1]."


def test_build_answerer_builds_the_translator_lazily(monkeypatch: pytest.MonkeyPatch) -> None:
    import nlp.drafting
    import nlp.langid
    import nlp.loading
    import nlp.translation

    built: list[Settings] = []
    monkeypatch.setattr(nlp.loading, "load_causal_lm", lambda *a, **k: object())
    monkeypatch.setattr(nlp.drafting, "LLMDrafter", lambda *a, **k: FakeDrafter())
    monkeypatch.setattr(nlp.langid, "LinguaDetector", lambda: FakeDetector())

    def build_translator(s: Settings) -> FakeTranslator:
        built.append(s)
        return FakeTranslator()

    monkeypatch.setattr(nlp.translation, "build_translator", build_translator)
    s = settings()
    bot = build_answerer(s, retriever=FakeRetriever())
    assert isinstance(bot, RetrievalAnswerer) and built == []
    assert isinstance(bot.translator(), FakeTranslator) and built == [s]
    off = build_answerer(settings(answer_translation=False), retriever=FakeRetriever())
    assert isinstance(off, RetrievalAnswerer) and off.translator() is None


class TopicRetriever(FakeRetriever):
    """Scores the question alone higher than joined with the previous one: a new topic."""

    def search(self, query: str, k: int = 5, language: str | None = None) -> list[Hit]:
        hits = super().search(query, k, language)
        score = 0.80 if "\n" in query else 0.90
        return [dataclasses.replace(hit, score=score) for hit in hits]


def test_a_new_topic_is_drafted_without_the_earlier_turns() -> None:
    drafter, retriever = FakeDrafter(), TopicRetriever()
    history = [Turn("user", "How do I delete my workspace?"), Turn("assistant", "Admin [1].")]
    bot = answerer(drafter, retriever, search_k=1)
    bot.answer("How much is Premium?", history=history)
    assert [q for q, _, _ in retriever.queries] == [
        "How do I delete my workspace?\nHow much is Premium?",
        "How much is Premium?",
    ]
    assert drafter.calls[0][2] == ()  # the deletion turns would only mislead the model
