from __future__ import annotations

import pytest

from nlp.confidence import (
    EXAMPLE_ECHO_FACTOR,
    LOW_SUPPORT_FACTOR,
    NO_CITATION_FACTOR,
    UNGROUNDED_NUMBER_FACTOR,
    draft_confidence,
)
from nlp.drafting import DraftResult

PASSAGES = ["Premium costs 49 euros per month."]


def result(text: str, cited: tuple[int, ...] = (1,), refused: bool = False) -> DraftResult:
    return DraftResult(text, cited, refused, token_probability=0.9, new_tokens=5, seconds=0.1)


def test_a_cited_grounded_answer_keeps_the_model_probability() -> None:
    assert draft_confidence(result("It costs 49 euros [1]."), PASSAGES) == (0.9, "")


def test_a_refusal_has_zero_confidence() -> None:
    confidence, reason = draft_confidence(result("NO_ANSWER", (), refused=True), PASSAGES)
    assert confidence == 0.0 and "do not answer" in reason


def test_missing_citations_and_invented_numbers_lower_confidence() -> None:
    confidence, reason = draft_confidence(result("It costs 59 euros.", ()), PASSAGES)
    assert confidence == pytest.approx(0.9 * NO_CITATION_FACTOR * UNGROUNDED_NUMBER_FACTOR)
    assert "cites no passage" in reason and "59" in reason


def test_an_answer_sharing_nothing_with_the_passages_is_doubted() -> None:
    confidence, reason = draft_confidence(result("The capital of France is Paris [1]."), PASSAGES)
    assert confidence == pytest.approx(0.9 * LOW_SUPPORT_FACTOR)
    assert "few words" in reason
    # Another language shares names and numbers with the passage: not doubted.
    assert draft_confidence(result("Premium cuesta 49 euros [1]."), PASSAGES)[0] == 0.9


def test_a_draft_repeating_the_worked_example_is_doubted() -> None:
    """The prompt's shipping example ("within 30 days of delivery"), not the workspace page."""

    workspace = ["Only the owner can delete a workspace. All data is removed within 30 days."]
    echo = result("You can delete a workspace within 30 days of delivery [1].")
    confidence, reason = draft_confidence(echo, workspace)
    assert confidence == pytest.approx(0.9 * EXAMPLE_ECHO_FACTOR)
    assert reason == "the draft repeats the prompt's worked example: 30 days of, days of delivery"
    # The same words are fine where a passage has them.
    shop = ["Orders ship within 2 business days. You can return items within 30 days of delivery."]
    assert draft_confidence(result("Returns: within 30 days of delivery [1]."), shop)[0] == 0.9
