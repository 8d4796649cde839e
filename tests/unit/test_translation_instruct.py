"""The instruct translator's prompt and output clean-up (no model)."""

from __future__ import annotations

from nlp.translation.instruct import build_messages, clean_output


def test_prompt_names_languages_keeps_placeholders_and_has_a_worked_example() -> None:
    messages = build_messages("Hi {0}, see {1}", target="es", source="en")
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "user"]
    assert "{0}" in messages[0]["content"] and "Spanish" in messages[0]["content"]
    assert messages[-1]["content"] == "Translate from English into Spanish:\nHi {0}, see {1}"
    assert "{0}" in messages[2]["content"] and "{1}" in messages[2]["content"]


def test_unknown_source_and_target_without_example_run_zero_shot() -> None:
    messages = build_messages("Hej", target="pl", source=None)
    assert [m["role"] for m in messages] == ["system", "user"]
    assert messages[-1]["content"] == "Translate into Polish:\nHej"


def test_clean_output_strips_labels_quotes_and_trailing_notes() -> None:
    assert clean_output('Translation: "Hola {0}"\n\nNote: informal.', "Hi {0}") == "Hola {0}"
    assert clean_output('"Hola"', '"Hi"') == '"Hola"'
    assert clean_output("uno\ndos", "one\ntwo") == "uno\ndos"
