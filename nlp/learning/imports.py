"""Import translation pairs from a TSV or JSONL file (bad lines reported and skipped).

TSV: `source<TAB>translation[<TAB>source language<TAB>target language]` per line; a first line
starting with `source` is a header. JSONL: objects with `source` (or `source_text`) and
`translation` (or `target`, `corrected_translation`), optional `source_language` and
`target_language`. Languages missing on a line come from `--from` / `--to`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.errors import InvalidInputError
from nlp.learning.examples import Example

_SOURCE_KEYS = ("source", "source_text", "src")
_TARGET_KEYS = ("translation", "target", "corrected_translation", "tgt")


@dataclass(slots=True)
class ImportResult:
    examples: list[Example] = field(default_factory=list)
    bad_lines: list[str] = field(default_factory=list)


def _first(data: dict[str, Any], keys: tuple[str, ...]) -> str:
    for key in keys:
        value = data.get(key)
        if isinstance(value, str) and value.strip():
            return value
    return ""


def _pair(
    source: str, target: str, src_lang: str | None, tgt_lang: str | None, origin: str
) -> Example:
    if not source.strip() or not target.strip():
        raise InvalidInputError("the source or the translation is empty")
    if not tgt_lang:
        raise InvalidInputError("no target language on the line; pass --to LANG")
    return Example(
        kind="translation",
        input=source.strip(),
        output=target.strip(),
        source_language=src_lang or None,
        target_language=tgt_lang,
        decision="import",
        origin=origin,
    )


def read_pairs(path: Path, *, source: str | None, target: str | None) -> ImportResult:
    """Translation examples from `path` (.tsv or .jsonl)."""
    if not path.is_file():
        raise InvalidInputError(f"{path}: no such file")
    suffix = path.suffix.lower()
    if suffix not in (".tsv", ".txt", ".jsonl", ".json"):
        raise InvalidInputError(f"{path}: use a .tsv or .jsonl file of translation pairs")
    result, origin = ImportResult(), f"import:{path.name}"
    with path.open(encoding="utf-8", errors="replace") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                if suffix in (".jsonl", ".json"):
                    data = json.loads(line)
                    if not isinstance(data, dict):
                        raise InvalidInputError("not a JSON object")
                    example = _pair(
                        _first(data, _SOURCE_KEYS),
                        _first(data, _TARGET_KEYS),
                        data.get("source_language") or source,
                        data.get("target_language") or target,
                        origin,
                    )
                else:
                    cells = line.rstrip("\n").split("\t")
                    if number == 1 and cells[0].strip().lower() in _SOURCE_KEYS:
                        continue
                    if len(cells) < 2:
                        raise InvalidInputError("expected source<TAB>translation")
                    langs = [*cells[2:4], "", ""]
                    example = _pair(
                        cells[0],
                        cells[1],
                        langs[0].strip() or source,
                        langs[1].strip() or target,
                        origin,
                    )
            except (ValueError, InvalidInputError) as exc:
                result.bad_lines.append(f"{path.name}:{number}: {exc}")
                continue
            result.examples.append(example)
    return result
