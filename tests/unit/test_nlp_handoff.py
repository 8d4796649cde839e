from __future__ import annotations

from nlp.handoff import HANDOFF_NOTES, handoff_note


def test_the_note_is_in_the_askers_language_with_an_english_fallback() -> None:
    for code in ("en", "es", "de", "sv", "fr", "pt", "it", "nl", "zh"):
        assert HANDOFF_NOTES[code].strip(), code
    assert handoff_note("es") == HANDOFF_NOTES["es"] and "persona" in handoff_note("es")
    assert handoff_note("pt-BR") == HANDOFF_NOTES["pt"]
    assert handoff_note("no") == HANDOFF_NOTES["nb"]
    assert handoff_note("xx") == handoff_note(None) == HANDOFF_NOTES["en"]
    assert len(set(HANDOFF_NOTES.values())) == len(HANDOFF_NOTES)
