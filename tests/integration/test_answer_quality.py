"""A newcomer's first questions: the offline default answers the sample knowledge base correctly.

The real pipeline (sample KB ingested with the builtin multilingual e5, Qwen2.5-Coder-0.5B,
default settings) on a few questions from bench/bench_answers.py's hand-written eval set: the
answer must state the fact, cite the right document and be in the asker's language; an off-topic
question must escalate with the handoff note. Runs in about a minute on a 2-core CPU.
"""

from __future__ import annotations

import re
from pathlib import Path

import platformdirs
import pytest

from bot.settings import Settings
from nlp.answering import build_answerer
from nlp.handoff import handoff_note
from nlp.langid import LinguaDetector
from nlp.types import Answerer
from retrieval.factory import build_retriever, ensure_sample_knowledge_base

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def answerer(tmp_path_factory: pytest.TempPathFactory) -> Answerer:
    import huggingface_hub.constants

    huggingface_hub.constants.HF_HUB_OFFLINE = True
    data = tmp_path_factory.mktemp("parley")
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        data_dir=data,
        cache_dir=Path(platformdirs.user_cache_path("parley")),
        device="cpu",
    )
    ensure_sample_knowledge_base(settings)
    return build_answerer(settings, build_retriever(settings))


@pytest.mark.parametrize(
    ("question", "language", "fact", "doc_id"),
    [
        ("How much does the Business plan cost?", "en", "12", "plans.md"),
        ("¿Cuántos días dura la prueba gratuita?", "es", "14", "faq-trial"),
        ("How many API requests per minute can I make?", "en", "100", "api-keys.md"),
    ],
)
def test_sample_questions_get_correct_cited_answers(
    answerer: Answerer, question: str, language: str, fact: str, doc_id: str
) -> None:
    draft = answerer.answer(question)
    assert draft.action == "answer", (draft.reason, draft.draft_text)
    assert fact in draft.text
    assert doc_id in [c.doc_id for c in draft.citations]
    assert draft.language == language
    guess = LinguaDetector().detect(re.sub(r"\[\d+\]", "", draft.text))
    assert guess is not None and guess.code == language, draft.text


def test_an_off_topic_question_escalates_with_the_handoff_note(answerer: Answerer) -> None:
    draft = answerer.answer("What is the capital of France?")
    assert draft.action == "escalate"
    assert draft.text == handoff_note("en")


def test_a_german_question_gets_a_german_answer(answerer: Answerer) -> None:
    # The 0.5B model tends to answer German in English; the answerer translates its answer.
    draft = answerer.answer("Wie viel kostet der Business-Plan?")
    assert draft.action == "answer", (draft.reason, draft.draft_text)
    assert draft.language == "de"
    assert "12" in draft.text and re.search(r"\[\d+\]", draft.text), draft.text
    guess = LinguaDetector().detect(re.sub(r"\[\d+\]", "", draft.text))
    assert guess is not None and guess.code == "de", (draft.text, draft.draft_text)
