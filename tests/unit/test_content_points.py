"""Decisions and open questions quoted from a thread (`nlp.content.points`)."""

from __future__ import annotations

from nlp.content.points import MAX_POINTS, extract_points, sentences
from nlp.content.types import ThreadMessage


def said(*rows: tuple[str, str]) -> list[ThreadMessage]:
    return [ThreadMessage(author, text) for author, text in rows]


def test_commitments_are_decisions_and_the_last_question_is_open() -> None:
    points = extract_points(
        said(
            ("Ana", "The export drops the last row. Can we roll back?"),
            ("Cy", "Rolling back would remove the SSO fix."),
            ("Ana", "OK, no rollback then. I'll tell the customers."),
            ("Cy", "Do we refund anyone who lost data?"),
        )
    )
    assert points.decisions == ("Ana: OK, no rollback then. I'll tell the customers.",)
    assert points.open_questions == ("Cy: Do we refund anyone who lost data?",)  # first answered


def test_a_bare_agreement_decides_the_message_it_answers() -> None:
    points = extract_points(
        said(
            ("Ivo", "Please mention that edits can be in any language. Is that clear?"),
            ("Hana", "Will do. Should it be translated too?"),
        )
    )
    assert points.decisions == ("Ivo: Please mention that edits can be in any language.",)
    assert points.open_questions == ("Hana: Should it be translated too?",)


def test_other_languages_bots_and_plain_talk() -> None:
    points = extract_points(
        [
            ThreadMessage("Lía", "De acuerdo, lo haremos el lunes."),
            ThreadMessage("Jens", "Wir werden den Preis anpassen."),
            ThreadMessage("parley", "Let's go, I'll translate.", is_bot=True),
            ThreadMessage("王", "我来修复。谁通知客户\uff1f"),
        ]
    )
    assert points.decisions == (
        "Lía: De acuerdo, lo haremos el lunes.",
        "Jens: Wir werden den Preis anpassen.",
        "王: 我来修复。",
    )
    assert points.open_questions == ("王: 谁通知客户\uff1f",)
    assert extract_points(said(("Ana", "It is well known that lets ill."))).decisions == ()


def test_lists_keep_the_most_recent_points() -> None:
    rows = [(f"P{i}", f"I'll do task {i}.") for i in range(MAX_POINTS + 3)]
    decisions = extract_points(said(*rows)).decisions
    assert len(decisions) == MAX_POINTS and decisions[-1] == f"P{MAX_POINTS + 2}: I'll do task 7."
    assert sentences("One. Two?  Three!") == ["One.", "Two?", "Three!"]
