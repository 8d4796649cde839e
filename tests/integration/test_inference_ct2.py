"""CTranslate2 with the real SmolLM2 model: same greedy output as transformers fp32, batching
across threads, drafting and translation on the batched backend.

The converted models are cached in Parley's default cache folder (like test_nlp_drafting.py):
a clean machine converts SmolLM2 once (about 20-50 s per compute type).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import platformdirs
import pytest

from bot.settings import Settings
from nlp.drafting import LLMDrafter, encode_chat
from nlp.inference import GenerationRequest, InferenceOptions, MicroBatcher, build_backend
from nlp.inference.ct2 import MARKER
from nlp.loading import LoadedModel, load_causal_lm
from nlp.translation.factory import load_translator
from retrieval.types import Hit

pytestmark = pytest.mark.slow
pytest.importorskip("ctranslate2")

SMOLLM = "builtin:smollm2-135m-instruct"
CHATS = [
    [{"role": "user", "content": "What is the capital of France?"}],
    [
        {"role": "system", "content": "You are a helpful support assistant."},
        {"role": "user", "content": "How do I reset my password? Explain the steps."},
    ],
]
PASSAGES = [
    Hit("plans", "plans#0", "plans.md", "Pricing plans", 0.8,
        "Parley Premium costs 49 euros per month and includes priority support."),
    Hit("passwords", "passwords#0", "passwords.md", "Resetting your password", 0.6,
        "To reset your password, open Settings > Account and click 'Reset password'."),
]  # fmt: skip


@pytest.fixture(scope="module")
def cache_dir() -> Path:
    return platformdirs.user_cache_path("parley")


@pytest.fixture(scope="module")
def loaded(cache_dir: Path) -> LoadedModel:
    return load_causal_lm(SMOLLM, cache_dir=cache_dir, device="cpu")


def test_ct2_float32_generates_what_transformers_fp32_generates(
    loaded: LoadedModel, cache_dir: Path
) -> None:
    plain = build_backend(loaded, InferenceOptions(backend="transformers"), cache_dir=cache_dir)
    options = InferenceOptions(backend="ctranslate2", compute_type="float32")
    ct2 = build_backend(loaded, options, cache_dir=cache_dir)
    assert ct2.name == "ctranslate2 float32 (cpu)"
    requests = [GenerationRequest(encode_chat(loaded.tokenizer, c), 24) for c in CHATS]
    expected = [plain.generate([r])[0] for r in requests]
    for got in ([ct2.generate([r])[0] for r in requests], ct2.generate(requests)):
        assert [g.token_ids for g in got] == [e.token_ids for e in expected]
        assert [g.text for g in got] == [e.text for e in expected]
        for g, e in zip(got, expected, strict=True):
            assert g.logprobs == pytest.approx(e.logprobs, abs=2e-3)
    folders = list((cache_dir / "models" / "ct2").glob("smollm2-135m-instruct-*-float32"))
    assert folders
    assert (folders[0] / MARKER).is_file()


def test_ct2_int8_drafts_batched_across_threads(loaded: LoadedModel, cache_dir: Path) -> None:
    options = InferenceOptions(backend="ctranslate2", compute_type="int8_float32")
    batcher = MicroBatcher(build_backend(loaded, options, cache_dir=cache_dir), max_wait=0.2)
    drafter = LLMDrafter(batcher, max_new_tokens=16)
    questions = ["How much is Premium?", "How do I reset my password?", "Is there SSO?"] * 2
    with ThreadPoolExecutor(max_workers=len(questions)) as pool:
        drafts = list(pool.map(lambda q: drafter.draft(q, PASSAGES, language="en"), questions))
    assert all(0.0 < d.token_probability <= 1.0 for d in drafts)
    assert all(d.new_tokens <= 16 for d in drafts)
    assert max(batcher.batch_sizes) > 1  # the threads' requests were generated together
    alone = drafter.draft(questions[0], PASSAGES, language="en")
    assert alone.text == drafts[0].text


def test_translator_uses_the_configured_backend_and_batches_threads(cache_dir: Path) -> None:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, cache_dir=cache_dir, device="cpu",
        inference_backend="ctranslate2", inference_compute_type="float32",
        inference_batch_wait_ms=200,
    )  # fmt: skip
    translator = load_translator(SMOLLM, settings)
    texts = ["Hello, how are you?", "The server is down.", "Thanks for your patience."]
    one_by_one = [translator.translate([t], target="es", source="en")[0] for t in texts]
    with ThreadPoolExecutor(max_workers=3) as pool:
        together = list(
            pool.map(lambda t: translator.translate([t], target="es", source="en")[0], texts)
        )
    assert all(one_by_one)
    batcher = translator.backend  # type: ignore[attr-defined]
    assert isinstance(batcher, MicroBatcher)
    assert batcher.name == "ctranslate2 float32 (cpu)"
    assert max(batcher.batch_sizes) > 1
    assert together == one_by_one


def test_ct2_reuses_the_fixed_prefix_without_changing_the_output(
    loaded: LoadedModel, cache_dir: Path
) -> None:
    """Draft prompts with their rules and example as a `static_prompt`: same tokens as the
    whole prompt read every time, alone and in a batch of different suffix lengths."""
    from nlp.drafting import fixed_prefix, shared_prefix_len
    from nlp.prompts import build_messages

    options = InferenceOptions(backend="ctranslate2", compute_type="float32")
    ct2 = build_backend(loaded, options, cache_dir=cache_dir)
    prefix = fixed_prefix(loaded.tokenizer, "en")
    prompts = [
        encode_chat(loaded.tokenizer, build_messages(q, PASSAGES[:n], language="en"))
        for q, n in (("How much is Premium?", 2), ("How do I reset my password?", 1))
    ]
    assert all(shared_prefix_len(p, prefix) == len(prefix) for p in prompts)
    plain = [GenerationRequest(p, 16) for p in prompts]
    reused = [GenerationRequest(p, 16, prefix_len=len(prefix)) for p in prompts]
    expected = [ct2.generate([r])[0] for r in plain]
    for got in ([ct2.generate([r])[0] for r in reused], ct2.generate(reused)):
        assert [g.token_ids for g in got] == [e.token_ids for e in expected]
        assert [g.prompt_tokens for g in got] == [len(p) for p in prompts]
        for g, e in zip(got, expected, strict=True):
            assert g.logprobs == pytest.approx(e.logprobs, abs=2e-3)
