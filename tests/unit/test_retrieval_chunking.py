"""Chunking on headings and paragraphs, with overlap and metadata."""

from __future__ import annotations

import itertools

import pytest

from retrieval.chunking import chunk_document
from retrieval.documents import Document


def doc(text: str) -> Document:
    return Document(doc_id="guide.md", text=text, source="/kb/guide.md", title="Guide", url="u")


def test_short_document_is_one_chunk_with_metadata() -> None:
    [chunk] = chunk_document(doc("# Guide\n\nShort text."), 500, 50)
    assert chunk.text == "# Guide\n\nShort text."
    assert (chunk.doc_id, chunk.chunk_id, chunk.position) == ("guide.md", "guide.md#0", 0)
    assert (chunk.source, chunk.title, chunk.url) == ("/kb/guide.md", "Guide", "u")


def test_long_section_is_split_with_overlap_and_heading_repeated() -> None:
    body = " ".join(f"Sentence {i} explains step {i}." for i in range(80))
    chunks = chunk_document(doc(f"# Guide\n\n## Setup\n\n{body}"), 400, 80)
    assert len(chunks) > 3
    assert all(len(c.text) <= 400 for c in chunks)
    assert [c.position for c in chunks] == list(range(len(chunks)))
    for previous, current in itertools.pairwise(chunks):
        assert current.text.startswith("## Setup")
        tail = current.text.split("\n\n", 1)[1][:30]
        assert tail in previous.text  # the overlap repeats the end of the previous chunk
    joined = " ".join(c.text for c in chunks)
    assert "Sentence 0 " in joined and "Sentence 79 " in joined


def test_sections_start_new_chunks_when_the_chunk_is_substantial() -> None:
    first = "A" * 150
    text = f"## One\n\n{first}\n\n## Two\n\nSecond section."
    chunks = chunk_document(doc(text), 400, 50)
    assert [c.text.split("\n")[0] for c in chunks] == ["## One", "## Two"]


def test_tiny_sections_are_packed_together() -> None:
    chunks = chunk_document(doc("## A\n\nshort a\n\n## B\n\nshort b"), 400, 50)
    assert len(chunks) == 1


def test_overlap_must_be_below_size() -> None:
    with pytest.raises(ValueError, match="overlap"):
        chunk_document(doc("x"), 200, 200)
