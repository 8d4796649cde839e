"""Training-pair reading and batching for `parley kb tune` (no models)."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from bot.errors import InvalidInputError
from retrieval.embedders import read_prompts
from retrieval.tuning import TrainingPair, _batches, group_by_passage, read_pairs, tune_embedder


def test_read_pairs_accepts_query_passage_and_faq_rows(tmp_path: Path) -> None:
    path = tmp_path / "pairs.jsonl"
    rows = [
        {"query": "How do I reset my password?", "passage": "Click Forgot password."},
        {"Question": "Hur återställer jag lösenordet?", "Answer": "Click Forgot password."},
        {"q": "Refund time?", "a": "Ten days.", "id": "r1"},
        {"question": "  ", "answer": "blank questions are skipped"},
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n\n", encoding="utf-8")
    pairs = read_pairs(path)
    assert [p.query for p in pairs] == [
        "How do I reset my password?",
        "Hur återställer jag lösenordet?",
        "Refund time?",
    ]
    assert pairs[1].passage == "Click Forgot password."


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not json\n", "line 1: not a JSON object"),
        ('{"text": "x"}\n', "line 1: expected"),
        ("", "no training pairs"),
    ],
)
def test_read_pairs_reports_bad_files(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "pairs.jsonl"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(InvalidInputError, match=message):
        read_pairs(path)


def test_batches_never_use_a_querys_own_passage_as_a_negative() -> None:
    pairs = [
        TrainingPair(f"q{i}-{lang}", f"passage {i}") for i in range(9) for lang in ("en", "sv")
    ]
    groups = group_by_passage(pairs)
    assert len(groups) == 9
    batches = list(_batches(groups, 4, random.Random(0)))
    assert [len(p) for p, _, _ in batches] == [4, 4]  # the lone leftover passage has no negatives
    for passages, queries, labels in batches:
        assert len(set(passages)) == len(passages)
        for query, label in zip(queries, labels, strict=True):
            assert passages[label] == f"passage {query[1:].split('-')[0]}"


def test_saved_prompts_decide_the_query_and_passage_prefixes(tmp_path: Path) -> None:
    # A tuned e5 folder may have any name: its saved prompts keep the e5 prefixes.
    assert read_prompts(str(tmp_path), True) is None
    (tmp_path / "config_sentence_transformers.json").write_text(
        json.dumps({"prompts": {"query": "query: ", "passage": "passage: "}})
    )
    assert read_prompts(str(tmp_path), True) == ("query: ", "passage: ")


def test_tuning_needs_two_different_passages(tmp_path: Path) -> None:
    pairs = [TrainingPair("q1", "same passage"), TrainingPair("q2", "same passage")]
    with pytest.raises(InvalidInputError, match="at least 2 different passages"):
        tune_embedder("builtin:all-minilm-l6-v2", pairs, tmp_path / "out")
