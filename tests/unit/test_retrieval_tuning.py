"""Training-pair reading, batching and the validation split for `parley kb tune` (no models)."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from bot.errors import InvalidInputError
from retrieval.embedders import read_prompts
from retrieval.tuning import TrainingPair, _batches, group_by_passage, read_pairs, tune_embedder
from retrieval.tuning_eval import EpochScore, EpochSelector, ValidationSet, split_for_validation


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


def _faq_pairs(passages: int) -> list[TrainingPair]:
    return [
        TrainingPair(f"question {i} in {lang}", f"passage {i}")
        for i in range(passages)
        for lang in ("en", "sv")
    ]


def test_validation_split_holds_out_whole_passages_deterministically() -> None:
    pairs = _faq_pairs(100)
    train, held_out, note = split_for_validation(group_by_passage(pairs), 0.2, seed=13)
    assert held_out is not None and note == ""
    assert held_out.held_out_passages == 20 and len(held_out.queries) == 40
    train_passages = {p for p, _ in train}
    gold_passages = {held_out.passages[g] for g in held_out.gold}
    assert len(gold_passages) == 20 and not train_passages & gold_passages
    assert train_passages | gold_passages == {p.passage for p in pairs}
    # every held-out query comes with its own passage; no training query is held out
    trained_queries = {q for _, qs in train for q in qs}
    for query, gold in zip(held_out.queries, held_out.gold, strict=True):
        assert held_out.passages[gold] == f"passage {query.split()[1]}"
        assert query not in trained_queries
    # the index searched holds every passage once
    assert sorted(held_out.passages) == sorted({p.passage for p in pairs})
    # same seed, any pair order: the same split; another seed: another split
    again = split_for_validation(group_by_passage(pairs[::-1]), 0.2, seed=13)[1]
    assert again is not None and set(again.queries) == set(held_out.queries)
    other = split_for_validation(group_by_passage(pairs), 0.2, seed=14)[1]
    assert other is not None and set(other.queries) != set(held_out.queries)


@pytest.mark.parametrize(
    ("passages", "fraction", "reason"),
    [
        (100, 0.0, "validation is off"),
        (150, 0.1, "15 held out, fewer than the 20 needed"),
    ],
)
def test_validation_split_falls_back_to_training_on_everything(
    passages: int, fraction: float, reason: str
) -> None:
    groups = group_by_passage(_faq_pairs(passages))
    train, held_out, note = split_for_validation(groups, fraction, seed=13)
    assert held_out is None and train == groups and reason in note


def test_epoch_selector_restores_the_best_epoch_and_keeps_the_earlier_of_a_tie() -> None:
    import torch

    embedding, linear = torch.nn.Embedding(5, 3), torch.nn.Linear(3, 2)
    model = torch.nn.Sequential(embedding, linear)
    embedding.weight.requires_grad_(False)  # frozen, as the word embeddings are
    validation = ValidationSet(["q"], [0], ["p"], 1)
    selector = EpochSelector(validation, epochs=4)
    weights = []
    for epoch, mrr in enumerate([0.50, 0.70, 0.70, 0.60], start=1):
        with torch.no_grad():
            linear.weight.add_(1.0)
        weights.append(linear.weight.detach().clone())
        selector.offer(EpochScore(epoch, 0.9, mrr), model)
    assert selector.best == EpochScore(2, 0.9, 0.70)
    frozen = embedding.weight.detach().clone()
    assert selector.restore(model) == 2
    assert torch.equal(linear.weight, weights[1])
    assert torch.equal(embedding.weight, frozen)
