"""Suggested articles: what the customer or agent may want to read next."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from retrieval.types import Hit


@dataclass(frozen=True, slots=True)
class Suggestion:
    doc_id: str
    title: str
    url: str | None
    score: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def suggest_articles(
    hits: Sequence[Hit], *, cited: Iterable[str] = (), limit: int = 3, min_score: float = 0.0
) -> list[Suggestion]:
    """Up to `limit` documents from `hits` (best first), one per document, none already cited."""
    seen = set(cited)
    out: list[Suggestion] = []
    for hit in sorted(hits, key=lambda h: h.score, reverse=True):
        doc = hit.doc_id
        if doc in seen or hit.score < min_score:
            continue
        seen.add(doc)
        out.append(Suggestion(doc, hit.title or doc, hit.url, round(hit.score, 3)))
        if len(out) == limit:
            break
    return out
