"""Backend selection: what `auto` means per device, and clear fallbacks to transformers."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any

import pytest

from nlp.inference import GenerationRequest, InferenceOptions, build_backend, resolve
from nlp.inference.cpu_features import bf16_in_cpuinfo
from nlp.inference.select import AUTO_BF16_CPU, AUTO_CPU_BACKEND, AUTO_CPU_COMPUTE_TYPE
from nlp.loading import LoadedModel


class TinyTokenizer:
    """Just enough tokenizer for the transformers backend (ids are their own tokens)."""

    eos_token = "</s>"
    eos_token_id = 1
    pad_token_id = 0
    model_max_length = 64

    def get_vocab(self) -> dict[str, int]:
        return {"<pad>": 0, "</s>": 1}

    def decode(self, ids: list[int], skip_special_tokens: bool = True) -> str:
        return " ".join(str(i) for i in ids)


def tiny(family: str = "llama") -> LoadedModel:
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    torch.manual_seed(0)
    extra: dict[str, Any] = {"num_layers": 1, "attention_types": [[["global"], 1]]}
    config = AutoConfig.for_model(
        family, vocab_size=32, hidden_size=16, intermediate_size=32, num_hidden_layers=1,
        num_attention_heads=2, num_key_value_heads=2, max_position_embeddings=64,
        **(extra if family == "gpt_neo" else {}),
    )  # fmt: skip
    model = AutoModelForCausalLM.from_config(config).eval()  # type: ignore[no-untyped-call]
    return LoadedModel(model, TinyTokenizer(), f"tiny-{family}", "cpu", source="")


@pytest.fixture
def no_native_bf16(monkeypatch: pytest.MonkeyPatch) -> None:
    import nlp.inference.select as select

    monkeypatch.setattr(select, "cpu_has_native_bf16", lambda: False)


@pytest.mark.usefixtures("no_native_bf16")
def test_auto_is_the_measured_cpu_default_and_transformers_half_precision_on_cuda() -> None:
    assert resolve(InferenceOptions(), "cpu") == (AUTO_CPU_BACKEND, AUTO_CPU_COMPUTE_TYPE)
    assert resolve(InferenceOptions(), "cuda") == ("transformers", "bfloat16")
    assert AUTO_CPU_COMPUTE_TYPE == "float32"  # CT2 int8 and bf16 changed answers (docs/models.md)
    assert resolve(InferenceOptions(backend="ctranslate2"), "cpu") == ("ctranslate2", "float32")
    int8 = InferenceOptions(backend="ctranslate2", compute_type="int8_float32")
    assert resolve(int8, "cpu") == ("ctranslate2", "int8_float32")
    assert resolve(InferenceOptions(backend="ctranslate2"), "cuda")[1] == "bfloat16"
    assert resolve(InferenceOptions(backend="transformers"), "cpu") == ("transformers", "float32")


def test_auto_on_a_cpu_with_native_bf16_is_bf16_matrix_products(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import nlp.inference.select as select

    monkeypatch.setattr(select, "cpu_has_native_bf16", lambda: True)
    assert AUTO_BF16_CPU == ("transformers", "bfloat16_float32")
    assert resolve(InferenceOptions(), "cpu") == AUTO_BF16_CPU
    assert resolve(InferenceOptions(), "cuda") == ("transformers", "bfloat16")
    # Only auto follows the CPU: a chosen backend or compute type is honoured as before.
    assert resolve(InferenceOptions(backend="ctranslate2"), "cpu") == ("ctranslate2", "float32")
    assert resolve(InferenceOptions(backend="transformers"), "cpu") == ("transformers", "float32")
    f32 = InferenceOptions(compute_type="float32")
    assert resolve(f32, "cpu") == (AUTO_CPU_BACKEND, "float32")


@pytest.mark.usefixtures("no_native_bf16")
def test_bf16_on_cpu_is_transformers_and_other_dtypes_are_honoured() -> None:
    # CTranslate2 has no bf16 on CPU: asked for under auto, it means transformers.
    assert resolve(InferenceOptions(compute_type="bfloat16"), "cpu") == ("transformers", "bfloat16")
    assert resolve(InferenceOptions(compute_type="int8_float32"), "cpu")[0] == "ctranslate2"
    half = InferenceOptions(backend="transformers", compute_type="float16")
    assert resolve(half, "cuda") == ("transformers", "float16")
    odd = InferenceOptions(backend="transformers", compute_type="int8")
    assert resolve(odd, "cpu") == ("transformers", "float32")


def test_native_bf16_is_read_from_the_cpu_flags() -> None:
    zen4 = "processor\t: 0\nflags\t\t: fpu sse avx2 avx512f avx512_bf16 avx512_vnni\n"
    sapphire = "flags\t\t: fpu avx512f amx_bf16 amx_tile\n"
    zen2 = "processor\t: 0\nflags\t\t: fpu sse avx2 fma\nbugs\t\t: avx512_bf16\n"
    assert bf16_in_cpuinfo(zen4) and bf16_in_cpuinfo(sapphire)
    assert not bf16_in_cpuinfo(zen2)  # only the flags line counts
    assert not bf16_in_cpuinfo("")


def test_transformers_bf16_runs_a_bf16_copy_and_the_loader_follows_the_options(
    tmp_path: Path,
) -> None:
    import torch

    from nlp.inference.select import configure_inference, current_options
    from nlp.loading import _torch_dtype

    loaded = tiny()
    bf16 = InferenceOptions(backend="transformers", compute_type="bfloat16")
    backend = build_backend(loaded, bf16, cache_dir=tmp_path)
    assert backend.name == "transformers bfloat16 (cpu)"
    assert loaded.model.dtype == torch.float32  # the shared model is left as it was
    out = backend.generate([GenerationRequest((5, 6, 7), 4, 4)])[0]
    assert len(out.token_ids) == 4 and len(out.logprobs) == 4
    before = current_options()
    try:
        configure_inference(bf16)
        assert _torch_dtype("cpu") == torch.bfloat16
        configure_inference(InferenceOptions(backend="ctranslate2"))
        assert _torch_dtype("cpu") == torch.float32  # CTranslate2 converts from fp32
    finally:
        configure_inference(before)


def test_ctranslate2_not_installed_falls_back_to_transformers_and_says_so(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    monkeypatch.setitem(sys.modules, "ctranslate2", None)  # import fails like a missing package
    with caplog.at_level(logging.WARNING, logger="nlp.inference.select"):
        backend = build_backend(tiny(), InferenceOptions(backend="ctranslate2"), cache_dir=tmp_path)
    assert backend.name == "transformers float32 (cpu)"
    message = caplog.text
    assert "PARLEY_INFERENCE_BACKEND=ctranslate2" in message
    assert "pip install ctranslate2" in message
    assert "falling back to transformers float32 (cpu)" in message


def test_a_model_family_ctranslate2_cannot_convert_falls_back(
    caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    pytest.importorskip("ctranslate2")
    with caplog.at_level(logging.WARNING, logger="nlp.inference.select"):
        backend = build_backend(
            tiny("gpt_neo"), InferenceOptions(backend="ctranslate2"), cache_dir=tmp_path
        )
    assert backend.name.startswith("transformers")
    assert "cannot convert GPTNeoConfig models" in caplog.text
    assert not (tmp_path / "models").exists()  # nothing half-converted left behind


def test_a_compute_type_the_device_lacks_falls_back(
    caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    pytest.importorskip("ctranslate2")
    options = InferenceOptions(backend="ctranslate2", compute_type="int8_bfloat16")
    with caplog.at_level(logging.WARNING, logger="nlp.inference.select"):
        backend = build_backend(tiny(), options, cache_dir=tmp_path)
    assert backend.name.startswith("transformers")
    assert "not int8_bfloat16" in caplog.text


def test_int8_dynamic_quantization_runs_on_cpu(tmp_path: Path) -> None:
    loaded = tiny()
    backend = build_backend(loaded, InferenceOptions(backend="int8"), cache_dir=tmp_path)
    assert backend.name == "transformers int8 dynamic (cpu)"
    assert backend.max_context == 64
    out = backend.generate([GenerationRequest((5, 6, 7), 4, 4), GenerationRequest((9,), 2, 2)])
    assert [o.prompt_tokens for o in out] == [3, 1]
    assert all(len(o.logprobs) == len(o.token_ids) for o in out)
    assert len(out[1].token_ids) <= 2
    assert next(loaded.model.parameters()).dtype.is_floating_point  # the original is untouched


def test_transformers_batches_of_different_lengths_match_one_at_a_time(tmp_path: Path) -> None:
    backend = build_backend(tiny(), InferenceOptions(backend="transformers"), cache_dir=tmp_path)
    requests = [GenerationRequest((5, 6, 7, 8, 9), 6, 6), GenerationRequest((3, 4), 6, 6)]
    alone = [backend.generate([r])[0] for r in requests]
    together = backend.generate(requests)
    assert [o.token_ids for o in together] == [o.token_ids for o in alone]
    for a, b in zip(alone, together, strict=True):
        assert a.logprobs == pytest.approx(b.logprobs, abs=1e-4)


def test_static_cache_is_a_cuda_option_and_says_so_on_cpu(
    caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    from bot.settings import Settings

    settings = Settings(_env_file=None, inference_static_cache=True)  # type: ignore[call-arg]
    options = InferenceOptions.from_settings(settings)
    assert options.static_cache
    plain = InferenceOptions(backend="transformers", static_cache=True)
    with caplog.at_level(logging.INFO, logger="nlp.inference.select"):
        backend = build_backend(tiny(), plain, cache_dir=tmp_path)
    assert backend.name == "transformers float32 (cpu)"
    assert "applies on CUDA only" in caplog.text
