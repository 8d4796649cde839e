from __future__ import annotations

from pathlib import Path

import pytest

from bot.errors import InvalidInputError
from nlp.glossary import Glossary, GlossaryEntry, load_glossary, parse_glossary

GOOD = """# workspace glossary
{"term": "Parley"}

{"term": "invoice", "translations": {"de": "Rechnung", "es": "factura"}}
"""


def test_parse_and_replacements() -> None:
    glossary = parse_glossary(GOOD.splitlines())
    assert glossary.replacements("de") == {"Parley": "Parley", "invoice": "Rechnung"}
    assert glossary.replacements("sv") == {"Parley": "Parley", "invoice": "invoice"}


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('{"term": "x"', "not valid JSON"),
        ('["x"]', "expected an object"),
        ('{"term": ""}', "'term' must be"),
        ('{"term": "x", "lang": "de"}', "unknown field"),
        ('{"term": "x", "translations": {"german": "y"}}', "language code"),
        ('{"term": "x", "translations": ["y"]}', "'translations' must map"),
    ],
)
def test_malformed_lines_name_the_line(tmp_path: Path, line: str, message: str) -> None:
    path = tmp_path / "g.jsonl"
    path.write_text('{"term": "ok"}\n\n' + line + "\n")
    with pytest.raises(InvalidInputError, match=rf"g.jsonl line 3: .*{message}"):
        load_glossary(path)


def test_apply_fixes_terms_in_drafted_text() -> None:
    glossary = Glossary((GlossaryEntry("invoice", {"es": "factura"}), GlossaryEntry("Parley")))
    assert glossary.apply("Tu Invoice de Parley", "es") == "Tu factura de Parley"
    assert glossary.apply("invoices", "es") == "invoices"


def test_round_trip_through_jsonl() -> None:
    glossary = parse_glossary(GOOD.splitlines())
    assert parse_glossary(glossary.to_jsonl().splitlines()) == glossary
