"""A workspace glossary: terms never translated and terms with a fixed translation per language.

File format (JSON Lines, one entry per line; blank lines and lines starting with `#` are skipped):

    {"term": "Parley"}                                          never translated
    {"term": "invoice", "translations": {"de": "Rechnung", "es": "factura"}}

A term without a translation for the target language is kept as written. Terms match whole
words, case-insensitively. `Glossary.replacements(target)` feeds `nlp.chat_markup.protect`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.errors import InvalidInputError

_LANG = re.compile(r"^[a-z]{2,3}$")
MAX_TERM_CHARS = 100


@dataclass(frozen=True, slots=True)
class GlossaryEntry:
    """One term and its fixed translations by language code (empty: never translated)."""

    term: str
    translations: Mapping[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"term": self.term}
        if self.translations:
            data["translations"] = dict(self.translations)
        return data


@dataclass(frozen=True, slots=True)
class Glossary:
    """The glossary of one workspace."""

    entries: tuple[GlossaryEntry, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.entries)

    def replacements(self, target: str) -> dict[str, str]:
        """Term -> what it must read in a `target`-language text."""
        return {e.term: e.translations.get(target, e.term) for e in self.entries}

    def apply(self, text: str, target: str) -> str:
        """Replace terms in already-written `target` text (e.g. a drafted answer) by their fixed
        translations; never-translate terms are left alone."""
        fixed = {k: v for k, v in self.replacements(target).items() if k != v}
        if not fixed:
            return text
        table = {k.casefold(): v for k, v in fixed.items()}
        alternatives = "|".join(re.escape(t) for t in sorted(fixed, key=len, reverse=True))
        pattern = re.compile(rf"(?<!\w)(?i:{alternatives})(?!\w)")
        return pattern.sub(lambda m: table[m.group(0).casefold()], text)

    def to_jsonl(self) -> str:
        return "".join(json.dumps(e.to_dict(), ensure_ascii=False) + "\n" for e in self.entries)


def parse_entry(data: object, where: str) -> GlossaryEntry:
    """Validate one decoded entry; InvalidInputError naming `where` when it is malformed."""
    if not isinstance(data, dict):
        raise InvalidInputError(f'{where}: expected an object like {{"term": "..."}}')
    unknown = set(data) - {"term", "translations"}
    if unknown:
        raise InvalidInputError(f"{where}: unknown field(s) {sorted(unknown)}")
    term = data.get("term")
    if not isinstance(term, str) or not term.strip() or len(term) > MAX_TERM_CHARS:
        raise InvalidInputError(f"{where}: 'term' must be a non-empty string (<= 100 chars)")
    translations = data.get("translations", {})
    if not isinstance(translations, dict):
        raise InvalidInputError(f"{where}: 'translations' must map language codes to strings")
    for lang, value in translations.items():
        if not _LANG.match(str(lang)) or not isinstance(value, str) or not value.strip():
            raise InvalidInputError(
                f"{where}: translation {lang!r}: {value!r} must be a language code "
                "(like 'de') mapped to a non-empty string"
            )
    return GlossaryEntry(term.strip(), {str(k): str(v) for k, v in translations.items()})


def parse_glossary(lines: Iterable[str], *, source: str = "glossary") -> Glossary:
    """Parse JSON Lines; the error names the file and line of the first malformed entry."""
    entries: dict[str, GlossaryEntry] = {}
    for number, line in enumerate(lines, start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        where = f"{source} line {number}"
        try:
            data = json.loads(stripped)
        except json.JSONDecodeError as exc:
            raise InvalidInputError(f"{where}: not valid JSON ({exc.msg})") from None
        entry = parse_entry(data, where)
        entries[entry.term.casefold()] = entry
    return Glossary(tuple(entries.values()))


def load_glossary(path: Path) -> Glossary:
    """Read a glossary file (JSON Lines)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInputError(f"Cannot read glossary {path}: {exc}") from exc
    return parse_glossary(text.splitlines(), source=str(path))
