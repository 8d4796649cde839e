"""CTranslate2 conversion cache: converted once, atomic, interrupted conversions never used."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nlp.inference.ct2 import MARKER, cache_path, convert_once


@pytest.fixture
def source(tmp_path: Path) -> Path:
    folder = tmp_path / "my-model"
    folder.mkdir()
    (folder / "config.json").write_text("{}")
    (folder / "model.safetensors").write_bytes(b"weights")
    return folder


class Converter:
    def __init__(self, fail: bool = False) -> None:
        self.calls = 0
        self.fail = fail

    def __call__(self, source: Path, output: Path, quantization: str) -> None:
        self.calls += 1
        (output / "model.bin").write_bytes(b"half")
        if self.fail:
            raise KeyboardInterrupt  # killed half-way
        (output / "model.bin").write_bytes(f"{source.name}:{quantization}".encode())
        (output / "config.json").write_text("{}")


def test_converts_once_then_reuses_the_cache(source: Path, tmp_path: Path) -> None:
    convert = Converter()
    first = convert_once(source, "int8", tmp_path / "cache", convert=convert, version="4.8")
    again = convert_once(source, "int8", tmp_path / "cache", convert=convert, version="4.8")
    assert first == again == cache_path(source, "int8", tmp_path / "cache")
    assert convert.calls == 1
    assert (first / "model.bin").read_bytes() == b"my-model:int8"
    assert json.loads((first / MARKER).read_text())["quantization"] == "int8"


def test_each_quantization_and_version_has_its_own_conversion(source: Path, tmp_path: Path) -> None:
    convert = Converter()
    a = convert_once(source, "int8", tmp_path, convert=convert, version="4.8")
    b = convert_once(source, "float32", tmp_path, convert=convert, version="4.8")
    convert_once(source, "int8", tmp_path, convert=convert, version="4.9")
    assert a != b
    assert convert.calls == 3


def test_changed_weights_are_converted_again(source: Path, tmp_path: Path) -> None:
    convert = Converter()
    convert_once(source, "int8", tmp_path, convert=convert, version="4.8")
    (source / "model.safetensors").write_bytes(b"new weights, other size")
    convert_once(source, "int8", tmp_path, convert=convert, version="4.8")
    assert convert.calls == 2


def test_an_interrupted_conversion_is_never_used_and_is_redone(
    source: Path, tmp_path: Path
) -> None:
    with pytest.raises(KeyboardInterrupt):
        convert_once(source, "int8", tmp_path, convert=Converter(fail=True), version="4.8")
    target = cache_path(source, "int8", tmp_path)
    assert not target.exists()
    # a process killed outright (SIGKILL) leaves its temp folder behind: simulate one
    leftover = target.parent / f".{target.name}-abc123"
    leftover.mkdir()
    (leftover / "model.bin").write_bytes(b"half")
    convert = Converter()
    done = convert_once(source, "int8", tmp_path, convert=convert, version="4.8")
    assert convert.calls == 1
    assert done == target
    assert (done / "model.bin").read_bytes() == b"my-model:int8"
    assert not leftover.exists()


def test_a_folder_without_its_marker_is_converted_again(source: Path, tmp_path: Path) -> None:
    target = cache_path(source, "int8", tmp_path)
    target.mkdir(parents=True)
    (target / "model.bin").write_bytes(b"unknown provenance")
    convert = Converter()
    convert_once(source, "int8", tmp_path, convert=convert, version="4.8")
    assert convert.calls == 1
    assert (target / "model.bin").read_bytes() == b"my-model:int8"


def test_requests_group_by_their_shared_prefix() -> None:
    from nlp.inference import GenerationRequest
    from nlp.inference.types import prefix_groups

    a = GenerationRequest((1, 2, 3, 4), 4, prefix_len=2)
    b = GenerationRequest((1, 2, 9), 4, prefix_len=2)
    c = GenerationRequest((1, 2, 3, 4), 4)  # no prefix
    d = GenerationRequest((1, 2), 4, prefix_len=2)  # nothing after it: read whole
    e = GenerationRequest((7, 8, 9), 4, prefix_len=1)
    assert a.prefix == (1, 2) and d.prefix == () and c.prefix == ()
    assert prefix_groups([a, b, c, d, e]) == {(1, 2): [0, 1], (): [2, 3], (7,): [4]}
