"""Streaming with the real SmolLM2 model on each backend, through the micro-batcher: the drafter
reports the visible answer as it grows and ends on the final answer's text."""

from __future__ import annotations

from pathlib import Path

import platformdirs
import pytest

from nlp.drafting import LLMDrafter, visible_partial
from nlp.inference import InferenceOptions, MicroBatcher, build_backend
from nlp.loading import LoadedModel, load_causal_lm
from tests.fakes_nlp import PASSWORDS, PLANS

pytestmark = pytest.mark.slow

SMOLLM = "builtin:smollm2-135m-instruct"


@pytest.fixture(scope="module")
def cache_dir() -> Path:
    return platformdirs.user_cache_path("parley")


@pytest.fixture(scope="module")
def loaded(cache_dir: Path) -> LoadedModel:
    return load_causal_lm(SMOLLM, cache_dir=cache_dir, device="cpu")


@pytest.mark.parametrize("backend", ["transformers", "ctranslate2"])
def test_drafts_stream_the_visible_answer_as_it_grows(
    loaded: LoadedModel, cache_dir: Path, backend: str
) -> None:
    if backend == "ctranslate2":
        pytest.importorskip("ctranslate2")
    options = InferenceOptions(backend=backend, compute_type="float32")  # type: ignore[arg-type]
    batched = MicroBatcher(build_backend(loaded, options, cache_dir=cache_dir))
    drafter = LLMDrafter(batched, max_new_tokens=24)
    seen: list[str] = []
    result = drafter.draft("How much does Premium cost?", [PLANS, PASSWORDS], on_text=seen.append)
    assert seen[0] == ""  # drafting started
    partials = seen[1:]
    assert len(partials) >= 3
    assert len(set(partials)) == len(partials)  # one call per change
    if not result.refused:
        # The final answer is what was streamed, up to its last whole sentence when the budget
        # cut the draft (nlp.answer_text).
        assert partials[-1].startswith(visible_partial(result.text).removesuffix(" …"))
        assert not any("[" in p for p in partials)  # citation markers wait for the final
