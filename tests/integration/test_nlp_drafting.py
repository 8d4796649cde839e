"""The drafter with real models: SmolLM2 for plumbing, one question to the Qwen default.

Converted models are cached in Parley's default cache folder (platformdirs' user cache, the
same place `parley chat` uses), so a machine converts each builtin model once, not once per run;
a clean CI machine converts once per run (SmolLM2 ~30 s, Qwen ~70 s and ~5 GB RAM).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import platformdirs
import pytest

from bot.settings import Settings
from bot.types import Turn
from nlp.answering import build_answerer
from nlp.loading import load_causal_lm
from tests.fakes_nlp import FakeRetriever

pytestmark = pytest.mark.slow

SMOLLM = "builtin:smollm2-135m-instruct"
QWEN = "builtin:qwen2.5-coder-0.5b-instruct"


@pytest.fixture(scope="module")
def cache_dir() -> Path:
    return platformdirs.user_cache_path("parley")


@pytest.fixture(autouse=True)
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    import huggingface_hub.constants

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)


def settings(cache_dir: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {"cache_dir": cache_dir, "device": "cpu", "max_new_tokens": 40}
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def test_smollm2_drafts_through_the_whole_answerer(cache_dir: Path) -> None:
    retriever = FakeRetriever()
    answerer = build_answerer(settings(cache_dir, dialogue_model=SMOLLM), retriever)
    history = [Turn("user", "What does the Premium plan include?"), Turn("assistant", "Support.")]
    draft = answerer.answer("and how much does it cost?", history=history, language="en")
    assert draft.action in {"answer", "escalate"}
    assert 0.0 <= draft.confidence <= 1.0
    assert draft.language == "en"
    assert [p["doc_id"] for p in draft.passages] == ["plans", "passwords"]
    assert retriever.queries[0][0].startswith("What does the Premium plan include?\n")
    assert draft.action == "answer" or draft.reason


def test_models_load_once_per_process_and_then_from_the_cache(cache_dir: Path) -> None:
    first = load_causal_lm(SMOLLM, cache_dir=cache_dir, device="cpu")
    assert load_causal_lm(SMOLLM, cache_dir=cache_dir, device="cpu") is first
    folder = cache_dir / "models" / "smollm2-135m-instruct"
    assert (folder / "model.safetensors").is_file()
    assert (folder / "parley-source.json").is_file()
    assert first.device == "cpu"


def test_qwen_answers_a_price_question_from_the_passage(cache_dir: Path) -> None:
    answerer = build_answerer(settings(cache_dir, dialogue_model=QWEN), FakeRetriever())
    draft = answerer.answer("How much does Parley Premium cost per month?")
    assert "49" in draft.draft_text  # the model's draft, whether answered or escalated
    assert draft.language == "en"
    assert draft.confidence > 0.3
