"""bfloat16 matrix products with float32 elsewhere ("bfloat16_float32"), on tiny models."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from nlp.inference import GenerationRequest, InferenceOptions, build_backend, resolve
from nlp.inference.select import transformers_dtype
from tests.unit.test_inference_select import tiny

MIXED = InferenceOptions(backend="transformers", compute_type="bfloat16_float32")


def test_mixed_precision_is_a_transformers_option_loaded_in_float32() -> None:
    assert resolve(MIXED, "cpu") == ("transformers", "bfloat16_float32")
    # Under auto it means transformers too: CTranslate2 has no bf16 on CPU.
    auto = InferenceOptions(compute_type="bfloat16_float32")
    assert resolve(auto, "cpu") == ("transformers", "bfloat16_float32")
    assert transformers_dtype(MIXED, "cpu") == "float32"  # the copy's Linears are cast


def test_every_linear_runs_in_bf16_while_the_rest_and_the_original_stay_float32(
    tmp_path: Path,
) -> None:
    import torch

    from nlp.inference.mixed import BFloat16Linear

    loaded = tiny("qwen2")
    backend = build_backend(loaded, MIXED, cache_dir=tmp_path)
    assert backend.name == "transformers bfloat16_float32 (cpu)"
    model = backend.model  # type: ignore[attr-defined]
    linears = [m for m in model.modules() if isinstance(m, BFloat16Linear)]
    assert linears and not any(isinstance(m, torch.nn.Linear) for m in model.modules())
    assert all(m.weight.dtype == torch.bfloat16 for m in linears)
    assert model.model.embed_tokens.weight.dtype == torch.float32
    assert all(p.dtype == torch.float32 for n, p in model.named_parameters() if "norm" in n)
    # The shared model is untouched: other backends and the fallback still read float32.
    assert all(isinstance(m.lm_head, torch.nn.Linear) for m in [loaded.model])
    assert loaded.model.lm_head.weight.dtype == torch.float32

    ids = torch.tensor([[5, 6, 7, 8]])
    with torch.inference_mode():
        exact = loaded.model(ids).logits
        mixed = model(ids).logits
    assert mixed.dtype == torch.float32
    assert torch.allclose(mixed, exact, atol=0.05)  # bf16 rounding, nothing worse


def test_mixed_backend_batches_reuses_prefixes_and_matches_one_at_a_time(tmp_path: Path) -> None:
    backend = build_backend(tiny("qwen2"), MIXED, cache_dir=tmp_path)
    requests = [
        GenerationRequest((5, 6, 7, 8, 9), 6, 6, prefix_len=3),
        GenerationRequest((5, 6, 7, 4), 6, 6, prefix_len=3),
    ]
    alone = [backend.generate([r])[0] for r in requests]
    together = backend.generate(requests)
    assert [o.token_ids for o in together] == [o.token_ids for o in alone]
    assert all(len(o.token_ids) == 6 == len(o.logprobs) for o in together)
    assert backend.prefix_cache.hits >= 1  # type: ignore[attr-defined]


def test_mixed_on_a_cpu_without_native_bf16_warns(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    import nlp.inference.select as select

    monkeypatch.setattr(select, "cpu_has_native_bf16", lambda: False)
    with caplog.at_level(logging.WARNING, logger="nlp.inference.select"):
        build_backend(tiny(), MIXED, cache_dir=tmp_path)
    assert "emulated" in caplog.text
