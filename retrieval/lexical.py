"""Lexical (BM25) search over chunk texts, for error codes, product names and ids."""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Sequence
from typing import Any

import numpy as np

# Keeps codes like E1042 and v2.3 whole; lower-cased; single characters dropped.
_TOKEN = re.compile(r"(?u)\b\w[\w.-]*\w\b")


@functools.cache
def _stopwords() -> frozenset[str]:
    """Function words of the languages Parley's users write most, so they never match alone."""
    from bm25s import stopwords

    names = ("EN_PLUS", "GERMAN", "SPANISH", "SWEDISH", "FRENCH", "DUTCH", "PORTUGUESE", "ITALIAN")
    words: set[str] = set()
    for name in names:
        words.update(w.lower() for w in getattr(stopwords, f"STOPWORDS_{name}", ()))
    return frozenset(words)


def tokenize(text: str) -> list[str]:
    """Lower-cased word tokens, stopwords dropped, with a light English suffix strip."""
    stop = _stopwords()
    return [_stem(t) for t in _TOKEN.findall(text.lower()) if t not in stop]


_IDENTIFIER = re.compile(r"\b(?=[\w.-]*\d)(?=[\w.-]*[^\W\d_])[\w.-]{2,}\b|\b[A-Z][A-Z0-9]{1,}\b")


def has_identifier(text: str) -> bool:
    """True when `text` holds a code-like token (E1042, v2.3, SAML, HTTP429) that BM25 matches
    exactly and an embedding model tends to blur."""
    return _IDENTIFIER.search(text) is not None


def _stem(token: str) -> str:
    if len(token) > 5 and token.endswith("ing"):
        return token[:-3]
    if len(token) > 4 and token.endswith("ed"):
        return token[:-2]
    if len(token) > 4 and token.endswith("ies"):
        return token[:-3] + "y"
    if len(token) > 3 and token.endswith("s") and not token.endswith("ss"):
        return token[:-1]
    return token


class LexicalIndex:
    """BM25 over a fixed list of (id, text); rebuilt whenever the knowledge base changes."""

    def __init__(self, ids: Sequence[int], texts: Sequence[str]) -> None:
        import bm25s

        # bm25s sets its logger to DEBUG when imported: each index would print a debug line
        # into the terminal chat and the worker logs. Its warnings still show.
        logging.getLogger("bm25s").setLevel(logging.WARNING)
        self._ids = np.asarray(list(ids), dtype=np.int64)
        self._bm25: Any = None
        if len(self._ids):
            self._bm25 = bm25s.BM25()
            self._bm25.index([tokenize(t) or ["<empty>"] for t in texts], show_progress=False)

    def __len__(self) -> int:
        return len(self._ids)

    def search(self, query: str, k: int) -> list[tuple[int, float]]:
        """Up to `k` (id, BM25 score) pairs with a positive score, best first."""
        tokens = tokenize(query)
        if self._bm25 is None or not tokens:
            return []
        k = min(k, len(self._ids))
        docs, scores = self._bm25.retrieve([tokens], k=k, show_progress=False, n_threads=1)
        return [
            (int(self._ids[d]), float(s))
            for d, s in zip(docs[0], scores[0], strict=True)
            if float(s) > 0.0
        ]
