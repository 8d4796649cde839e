"""Chunking: split documents on headings and paragraphs into overlapping passages."""

from __future__ import annotations

import re

from retrieval.documents import Chunk, Document

_HEADING = re.compile(r"^#{1,6}\s+\S")
# Western and CJK full stops, exclamation and question marks.
_SENTENCE_END = re.compile(r"(?<=[.!?\u3002\uff01\uff1f])\s+")


def chunk_document(doc: Document, chunk_chars: int = 1200, overlap: int = 150) -> list[Chunk]:
    """Split `doc` into chunks of at most about `chunk_chars` characters.

    Breaks prefer headings, then blank lines, then sentence ends, then spaces. Consecutive chunks
    share up to `overlap` characters, and a chunk that starts inside a section repeats that
    section's heading so it still reads on its own. Every chunk keeps the document's id, source,
    title and url, plus its position.
    """
    if overlap >= chunk_chars:
        raise ValueError("overlap must be below chunk_chars")
    # Paragraphs are cut a little below the limit so the overlap and heading still fit.
    piece_limit = max(100, chunk_chars - overlap - 80)
    texts = _pack(_pieces(doc.text, piece_limit), chunk_chars, overlap)
    return [
        Chunk(
            doc_id=doc.doc_id,
            chunk_id=f"{doc.doc_id}#{position}",
            text=text,
            source=doc.source,
            title=doc.title,
            position=position,
            url=doc.url,
            language=doc.language,
        )
        for position, text in enumerate(texts)
    ]


def _pieces(text: str, limit: int) -> list[tuple[str, str | None]]:
    """Paragraph-sized pieces, each with the heading of the section it belongs to."""
    pieces: list[tuple[str, str | None]] = []
    heading: str | None = None
    for block in re.split(r"\n\s*\n", text.replace("\r\n", "\n")):
        lines = [ln.rstrip() for ln in block.strip().split("\n")]
        body: list[str] = []
        for line in lines:
            if _HEADING.match(line):
                if body:
                    pieces.extend((p, heading) for p in _split_long("\n".join(body), limit))
                    body = []
                heading = line.strip()
                pieces.append((heading, None))
            elif line:
                body.append(line)
        if body:
            pieces.extend((p, heading) for p in _split_long("\n".join(body), limit))
    return pieces


def _split_long(text: str, limit: int) -> list[str]:
    """Split a paragraph longer than `limit` at sentence ends, then at spaces."""
    if len(text) <= limit:
        return [text]
    out: list[str] = []
    current = ""
    for sentence in _SENTENCE_END.split(text):
        while len(sentence) > limit:
            cut = sentence.rfind(" ", 0, limit)
            cut = cut if cut > limit // 2 else limit
            out.extend([current] if current else [])
            current = ""
            out.append(sentence[:cut].strip())
            sentence = sentence[cut:].strip()
        if current and len(current) + 1 + len(sentence) > limit:
            out.append(current)
            current = sentence
        else:
            current = f"{current} {sentence}".strip()
    if current:
        out.append(current)
    return [p for p in out if p]


def _pack(pieces: list[tuple[str, str | None]], limit: int, overlap: int) -> list[str]:
    """Greedily pack pieces into chunks, starting new ones at headings once a chunk has body."""
    chunks: list[str] = []
    current: list[str] = []
    for piece, heading in pieces:
        is_heading = heading is None and _HEADING.match(piece) is not None
        size = sum(len(p) + 2 for p in current)
        has_body = any(_HEADING.match(p) is None for p in current)
        starts_section = is_heading and size >= limit // 4
        if has_body and (starts_section or size + len(piece) + 2 > limit):
            # Headings at the end of a full chunk belong to the next one.
            carried: list[str] = []
            while current and _HEADING.match(current[-1]):
                carried.insert(0, current.pop())
            chunks.append("\n\n".join(current))
            if carried or is_heading:
                current = carried
            else:
                current = _overlap_tail(current, overlap)
                if heading and (not current or current[0] != heading):
                    current.insert(0, heading)
                if sum(len(p) + 2 for p in current) + len(piece) > limit:
                    current = [heading] if heading else []
        current.append(piece)
    if current and (any(_HEADING.match(p) is None for p in current) or not chunks):
        chunks.append("\n\n".join(current))
    return chunks


def _overlap_tail(parts: list[str], overlap: int) -> list[str]:
    """The trailing text of a chunk, at most `overlap` characters, cut at a word boundary."""
    if overlap <= 0 or not parts:
        return []
    last = parts[-1]
    if _HEADING.match(last):
        return []
    if len(last) <= overlap:
        return [last]
    tail = last[-overlap:]
    space = tail.find(" ")
    return [tail[space + 1 :]] if 0 <= space < len(tail) - 1 else [tail]
