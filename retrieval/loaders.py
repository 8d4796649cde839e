"""File loaders: Markdown, text, HTML, PDF, CSV and JSONL become `Document`s.

A whole-file problem (unreadable, empty, binary, not UTF-8, broken PDF) raises
`InvalidInputError` naming the file, so the caller can report it and go on with the rest.
A bad row inside a table is logged with its line number and skipped.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import re
from collections.abc import Iterable, Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from bot.errors import InvalidInputError
from retrieval.documents import Document

logger = logging.getLogger(__name__)

TEXT_SUFFIXES = {".md", ".markdown", ".txt", ".text", ".rst"}
HTML_SUFFIXES = {".html", ".htm"}
TABLE_SUFFIXES = {".csv", ".jsonl", ".ndjson"}
SUPPORTED_SUFFIXES = TEXT_SUFFIXES | HTML_SUFFIXES | TABLE_SUFFIXES | {".pdf"}

_HEADING_TAGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
_BLOCK_TAGS = {"p", "div", "li", "br", "tr", "section", "article", "pre", "table", "ul", "ol"}
_SKIP_TAGS = {"script", "style", "noscript", "template", "svg", "head"}


def discover_files(paths: Iterable[Path]) -> list[tuple[Path, Path]]:
    """Expand folders into supported files; returns (file, root) pairs, root for relative ids.

    Missing paths raise `InvalidInputError`; explicitly named files are returned whatever
    their suffix, so an unsupported one is reported by the loader rather than silently dropped.
    """
    found: list[tuple[Path, Path]] = []
    for path in paths:
        if path.is_dir():
            for file in sorted(path.rglob("*")):
                rel = file.relative_to(path)
                if any(part.startswith(".") for part in rel.parts):
                    continue
                if file.is_file() and file.suffix.lower() in SUPPORTED_SUFFIXES:
                    found.append((file, path))
        elif path.exists():
            found.append((path, path.parent))
        else:
            raise InvalidInputError(f"{path}: no such file or folder")
    return found


def load_file(path: Path, root: Path | None = None) -> list[Document]:
    """Load one file into documents; raises `InvalidInputError` naming the file on failure."""
    suffix = path.suffix.lower()
    rel = path.relative_to(root).as_posix() if root is not None else path.name
    source = str(path.resolve())
    if suffix not in SUPPORTED_SUFFIXES:
        raise InvalidInputError(f"{path}: unsupported file type {suffix or '(none)'}")
    if suffix == ".pdf":
        docs = [_text_document(rel, _read_pdf(path), source, path.stem)]
    elif suffix in HTML_SUFFIXES:
        title, text = html_to_text(_read_text(path))
        docs = [_text_document(rel, text, source, title or path.stem)]
    elif suffix in TEXT_SUFFIXES:
        text = _read_text(path)
        docs = [_text_document(rel, text, source, _markdown_title(text) or path.stem)]
    else:
        text = _read_text(path)
        rows = _csv_rows(text) if suffix == ".csv" else _jsonl_rows(text, path)
        docs = list(rows_to_documents(rows, source=source, default_prefix=path.stem))
        if not docs:
            raise InvalidInputError(f"{path}: no rows with id/text or question/answer")
    docs = [d for d in docs if d.text.strip()]
    if not docs:
        raise InvalidInputError(f"{path}: no text found (empty file or no text layer)")
    return docs


def rows_to_documents(
    rows: Iterable[tuple[int, dict[str, Any]]], *, source: str, default_prefix: str
) -> Iterator[Document]:
    """Turn table rows into documents: `id`+`text` rows, or `question`+`answer` FAQ rows."""
    for line, row in rows:
        row = {str(k).strip().lower(): v for k, v in row.items() if k is not None}
        question = _field(row, "question", "q")
        answer = _field(row, "answer", "a")
        text = _field(row, "text", "content", "body")
        row_id = _field(row, "id", "doc_id") or f"{default_prefix}-{line}"
        url = _field(row, "url")
        language = _field(row, "language", "lang")
        if question and answer:
            yield Document(
                doc_id=row_id,
                text=f"Q: {question}\nA: {answer}",
                source=url or source,
                title=_field(row, "title") or question,
                url=url,
                language=language,
                kind="faq",
            )
        elif text:
            yield Document(
                doc_id=row_id,
                text=text,
                source=url or source,
                title=_field(row, "title") or row_id,
                url=url,
                language=language,
            )
        else:
            logger.warning("%s line %d: no text or question/answer; row skipped", source, line)


def html_to_text(html: str) -> tuple[str, str]:
    """Visible text of an HTML page with headings kept as Markdown; returns (title, text)."""
    parser = _TextExtractor()
    parser.feed(html)
    parser.close()
    text = re.sub(r"[ \t]+", " ", "".join(parser.parts))
    text = re.sub(r" *\n *", "\n", text)
    text = re.sub(r"\n{3,}", "\n\n", text).strip()
    return parser.title.strip(), text


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.title = ""
        self._skip = 0
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "title":
            self._in_title = True
        elif tag in _SKIP_TAGS:
            self._skip += 1
        elif tag in _HEADING_TAGS:
            self.parts.append("\n\n" + "#" * _HEADING_TAGS[tag] + " ")
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n\n" if tag != "br" else "\n")

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
        elif tag in _SKIP_TAGS:
            self._skip = max(0, self._skip - 1)
        elif tag in _HEADING_TAGS or tag in _BLOCK_TAGS:
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data
        elif not self._skip:
            self.parts.append(data)


def _text_document(doc_id: str, text: str, source: str, title: str) -> Document:
    return Document(doc_id=doc_id, text=text, source=source, title=title)


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise InvalidInputError(f"{path}: cannot read ({exc.strerror or exc})") from exc


def _read_text(path: Path) -> str:
    data = _read_bytes(path)
    if not data.strip():
        raise InvalidInputError(f"{path}: file is empty")
    if b"\x00" in data[:8192]:
        raise InvalidInputError(f"{path}: looks like a binary file, not text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInputError(
            f"{path}: not valid UTF-8 (byte {exc.start}); convert it to UTF-8 and ingest again"
        ) from exc


def _read_pdf(path: Path) -> str:
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    data = _read_bytes(path)
    if not data.strip():
        raise InvalidInputError(f"{path}: file is empty")
    try:
        reader = PdfReader(io.BytesIO(data))
        pages = [page.extract_text() or "" for page in reader.pages]
    except (PyPdfError, ValueError, KeyError, TypeError, OSError) as exc:
        raise InvalidInputError(f"{path}: unreadable PDF ({exc})") from exc
    return "\n\n".join(p.strip() for p in pages if p.strip())


def _markdown_title(text: str) -> str | None:
    match = re.search(r"^#\s+(.+?)\s*#*\s*$", text, flags=re.MULTILINE)
    return match.group(1) if match else None


def _csv_rows(text: str) -> Iterator[tuple[int, dict[str, Any]]]:
    reader = csv.DictReader(io.StringIO(text))
    for row in reader:
        yield reader.line_num, row


def _jsonl_rows(text: str, path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            logger.warning("%s line %d: invalid JSON (%s); row skipped", path, number, exc.msg)
            continue
        if not isinstance(row, dict):
            logger.warning("%s line %d: not a JSON object; row skipped", path, number)
            continue
        yield number, row


def _field(row: dict[str, Any], *names: str) -> str | None:
    for name in names:
        value = row.get(name)
        if value is not None and str(value).strip():
            return str(value).strip()
    return None
