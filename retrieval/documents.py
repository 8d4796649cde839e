"""Plain data types shared by ingestion, the index and the knowledge base."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

DocumentKind = Literal["document", "faq"]


@dataclass(frozen=True, slots=True)
class Document:
    """One logical document: a file, a table row, or one FAQ entry."""

    doc_id: str
    text: str
    source: str
    title: str
    url: str | None = None
    language: str | None = None
    kind: DocumentKind = "document"


@dataclass(frozen=True, slots=True)
class Chunk:
    """A passage of a document: the unit that is embedded, indexed and cited."""

    doc_id: str
    chunk_id: str
    text: str
    source: str
    title: str
    position: int
    url: str | None = None
    language: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-serialisable form, as stored in the index folder."""
        return {
            "doc_id": self.doc_id,
            "chunk_id": self.chunk_id,
            "text": self.text,
            "source": self.source,
            "title": self.title,
            "position": self.position,
            "url": self.url,
            "language": self.language,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Chunk:
        """Inverse of `to_dict`."""
        return cls(
            doc_id=str(data["doc_id"]),
            chunk_id=str(data["chunk_id"]),
            text=str(data["text"]),
            source=str(data["source"]),
            title=str(data["title"]),
            position=int(data["position"]),
            url=data.get("url"),
            language=data.get("language"),
        )


@dataclass(slots=True)
class IngestReport:
    """What an ingest did, file by file."""

    added: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    chunks: int = 0


@dataclass(frozen=True, slots=True)
class DocumentInfo:
    """One row of `parley kb list`."""

    doc_id: str
    title: str
    source: str
    chunks: int
