"""Datasets on disk: dedupe, deterministic splits, corrupt lines, imports, forgetting."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.errors import InvalidInputError
from bot.settings import Settings
from nlp.learning.datasets import add_examples, dataset_dir, forget_user, load_dataset
from nlp.learning.examples import Example, split_of
from nlp.learning.imports import read_pairs


def settings(tmp_path: Path) -> Settings:
    return Settings(_env_file=None, data_dir=tmp_path / "data")  # type: ignore[call-arg]


def pair(i: int, user: str = "telegram:1") -> Example:
    return Example(kind="translation", input=f"Hej nummer {i}", output=f"Hello number {i}",
                   source_language="sv", target_language="en", user=user)  # fmt: skip


def test_split_is_deterministic_and_roughly_proportional() -> None:
    ids = [pair(i).id for i in range(2000)]
    assert [split_of(i) for i in ids] == [split_of(i) for i in ids]
    test_share = sum(split_of(i) == "test" for i in ids) / len(ids)
    assert 0.11 < test_share < 0.19
    assert pair(7).split == split_of(pair(7).id)


def test_adding_the_same_examples_twice_changes_nothing(tmp_path: Path) -> None:
    s = settings(tmp_path)
    version, fresh = add_examples(s, "translation", [pair(i) for i in range(30)])
    again, fresh2 = add_examples(s, "translation", [pair(i) for i in range(30)] + [pair(3)])
    assert (fresh, fresh2, again) == (30, 0, version)
    loaded = load_dataset(s, "translation")
    assert len(loaded.all()) == 30
    assert len({e.id for e in loaded.all()}) == 30
    newer, fresh3 = add_examples(s, "translation", [pair(31)])
    assert fresh3 == 1 and newer != version  # the version is the content hash


def test_corrupt_lines_are_reported_and_skipped(tmp_path: Path) -> None:
    s = settings(tmp_path)
    add_examples(s, "translation", [pair(i) for i in range(10)])
    loaded = load_dataset(s, "translation")
    assert loaded.path is not None
    train = loaded.path / "train.jsonl"
    with train.open("a") as handle:
        handle.write("{not json\n")
        handle.write(json.dumps({"kind": "translation", "input": "", "output": "x"}) + "\n")
    again = load_dataset(s, "translation")
    assert len(again.all()) == 10
    assert len(again.corrupt) == 2
    assert "train.jsonl:" in again.corrupt[0]


def test_forget_removes_a_user_from_every_version(tmp_path: Path) -> None:
    s = settings(tmp_path)
    add_examples(s, "translation", [pair(i, "slack:U1") for i in range(5)])
    add_examples(s, "translation", [pair(i, "telegram:9") for i in range(5, 12)])
    assert forget_user(s, "translation", "slack:U1") == 5
    remaining = load_dataset(s, "translation").all()
    assert len(remaining) == 7 and {e.user for e in remaining} == {"telegram:9"}
    for path in dataset_dir(s, "translation").rglob("*.jsonl"):
        assert "slack:U1" not in path.read_text()


def test_import_tsv_and_jsonl_skips_bad_lines(tmp_path: Path) -> None:
    tsv = tmp_path / "pairs.tsv"
    tsv.write_text("source\ttranslation\nHej\tHello\nbroken line\n\tempty\nTack\tThanks\tsv\ten\n")
    result = read_pairs(tsv, source="sv", target="en")
    assert [(e.input, e.output) for e in result.examples] == [("Hej", "Hello"), ("Tack", "Thanks")]
    assert len(result.bad_lines) == 2 and "pairs.tsv:3" in result.bad_lines[0]
    jsonl = tmp_path / "pairs.jsonl"
    jsonl.write_text('{"source": "Hej", "translation": "Hi", "target_language": "en"}\n[1]\n')
    result = read_pairs(jsonl, source=None, target=None)
    assert len(result.examples) == 1 and len(result.bad_lines) == 1
    (tmp_path / "pairs.csv").write_text("a,b\n")
    with pytest.raises(InvalidInputError, match=r"tsv or \.jsonl"):
        read_pairs(tmp_path / "pairs.csv", source=None, target=None)


def test_an_example_needs_input_and_output() -> None:
    with pytest.raises(InvalidInputError, match="output"):
        Example.from_dict({"kind": "dialogue", "input": "Hi?", "output": " "})
    with pytest.raises(InvalidInputError, match="kind"):
        Example.from_dict({"kind": "poetry", "input": "a", "output": "b"})
