"""The retrieval contract the workers and the drafter depend on."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class Hit:
    """One retrieved passage, with everything an answer needs to cite it."""

    doc_id: str
    chunk_id: str
    source: str
    title: str
    score: float
    text: str
    url: str | None = None
    position: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class Retriever(Protocol):
    """Finds the passages that answer a query, in any language."""

    def search(self, query: str, k: int = 5, language: str | None = None) -> list[Hit]:
        """Return up to `k` hits, best first."""
        ...
