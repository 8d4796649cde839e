"""The knowledge base: ingest files, keep the index and catalog on disk, search them."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Literal

import numpy as np

from bot.errors import IndexUnavailableError, InvalidInputError
from retrieval.chunking import chunk_document
from retrieval.documents import Chunk, Document, DocumentInfo, IngestReport
from retrieval.embedders import MAX_QUERY_CHARS, Embedder
from retrieval.fusion import fuse_rankings, fuse_scores
from retrieval.index import VectorIndex
from retrieval.lexical import LexicalIndex, has_identifier
from retrieval.loaders import discover_files, load_file
from retrieval.store import (
    Catalog,
    DocumentRecord,
    Manifest,
    check_embedding_model,
    load_snapshot,
    read_manifest,
    save_snapshot,
)
from retrieval.types import Hit

logger = logging.getLogger(__name__)

QueryTranslator = Callable[[str], str]
Fusion = Literal["score", "rrf"]


class KnowledgeBase:
    """Documents, their chunks and vectors in one folder; implements the `Retriever` protocol.

    The embedder is created on first need by `embedder_loader`, so listing and removing documents
    never load a model. Searches notice a newer snapshot saved by another process and reload.
    """

    def __init__(
        self,
        folder: Path,
        *,
        embedding_model: str,
        embedder_loader: Callable[[], Embedder],
        index_factory: str = "Flat",
        hybrid: bool = True,
        lexical_weight: float = 0.3,
        fusion: Fusion = "score",
        identifiers_only: bool = True,
        chunk_chars: int = 1200,
        chunk_overlap: int = 150,
        query_translator: QueryTranslator | None = None,
        nprobe: int = 16,
        ef_search: int = 128,
    ) -> None:
        self.folder = folder
        self.embedding_model = embedding_model
        self.index_factory = index_factory
        self.hybrid = hybrid
        self.lexical_weight = lexical_weight
        self.fusion = fusion
        self.identifiers_only = identifiers_only
        self.chunk_chars = chunk_chars
        self.chunk_overlap = chunk_overlap
        self.query_translator = query_translator
        self.search_params = {"nprobe": nprobe, "ef_search": ef_search}
        self._embedder_loader = embedder_loader
        self._embedder: Embedder | None = None
        self._index: VectorIndex | None = None
        self._catalog = Catalog()
        self._lexical: LexicalIndex | None = None
        self._loaded_snapshot: str | None = None

    @property
    def embedder(self) -> Embedder:
        """The embedding model, loaded on first use."""
        if self._embedder is None:
            self._embedder = self._embedder_loader()
        return self._embedder

    def exists(self) -> bool:
        """True when the folder holds a saved index."""
        return read_manifest(self.folder) is not None

    # ----- reading -------------------------------------------------------------------------
    def load(self, *, required: bool = True) -> None:
        """Load (or reload) the saved snapshot; with `required`, a missing one is an error."""
        manifest = read_manifest(self.folder)
        if manifest is None:
            if required:
                raise IndexUnavailableError(
                    f"No knowledge-base index in {self.folder}; build it with "
                    f"`parley kb ingest PATH... --kb {self.folder}`"
                )
            self._index, self._catalog, self._loaded_snapshot = None, Catalog(), None
            return
        check_embedding_model(manifest, self.folder, self.embedding_model)
        if manifest.snapshot != self._loaded_snapshot:
            try:
                self._index, self._catalog = load_snapshot(self.folder, manifest)
            except IndexUnavailableError:
                # Another process may have swapped snapshots while we read: retry once.
                newer = read_manifest(self.folder)
                if newer is None or newer.snapshot == manifest.snapshot:
                    raise
                manifest = newer
                self._index, self._catalog = load_snapshot(self.folder, manifest)
            self._loaded_snapshot = manifest.snapshot
            self._lexical = None
            logger.info("Loaded knowledge base %s (%d chunks)", self.folder, manifest.chunks)

    def documents(self) -> list[DocumentInfo]:
        """The ingested documents, sorted by id."""
        self.load()
        return [
            DocumentInfo(d.doc_id, d.title, d.source, len(d.chunk_ids))
            for d in sorted(self._catalog.documents.values(), key=lambda d: d.doc_id)
        ]

    def search(self, query: str, k: int = 5, language: str | None = None) -> list[Hit]:
        """The `k` passages that best answer `query`, best first (see `search_batch`)."""
        return self.search_batch([query], k=k, language=language)[0]

    def search_batch(
        self, queries: Sequence[str], k: int = 5, language: str | None = None
    ) -> list[list[Hit]]:
        """Search many queries at once (one embedding batch).

        When `hybrid` is on, dense results are fused with BM25 results: by default with score
        fusion (`fuse_scores`), or by weighted reciprocal rank fusion with `fusion="rrf"`;
        with `identifiers_only` (the default) BM25 is consulted only for queries holding a
        code-like token (E1042, SAML, v2.3), where exact matching beats embeddings. With a
        `query_translator` and a `language` other than English, the translated query is
        searched too and fused in. `Hit.score` is the cosine similarity of query and passage;
        hits are ordered by the fused score.
        """
        cleaned = [_clean_query(q) for q in queries]
        self.load()
        if not cleaned:
            return []
        if not self._catalog.chunks or self._index is None:
            return [[] for _ in cleaned]
        variants = [[q] for q in cleaned]
        if self.query_translator is not None and language not in (None, "en"):
            for group in variants:
                translated = self.query_translator(group[0]).strip()
                if translated and translated != group[0]:
                    group.append(translated[:MAX_QUERY_CHARS])
        flat = [q for group in variants for q in group]
        vectors = self.embedder.embed_queries(flat)
        self._index.set_search_params(**self.search_params)
        depth = max(4 * k, 20)
        scores, ids = self._index.search(vectors, depth)
        lexical = self._lexical_index() if self.hybrid and self.lexical_weight > 0 else None
        results: list[list[Hit]] = []
        row = 0
        for group in variants:
            dense: dict[int, float] = {}
            rankings: list[tuple[list[int], float]] = []
            lexical_scores: dict[int, float] = {}
            for text in group:
                hits = [(int(i), float(s)) for i, s in zip(ids[row], scores[row], strict=True)]
                hits = [(i, s) for i, s in hits if i >= 0]
                dense.update({i: max(s, dense.get(i, -1.0)) for i, s in hits})
                rankings.append(([i for i, _ in hits], 1.0))
                if lexical is not None and (not self.identifiers_only or has_identifier(text)):
                    found = lexical.search(text, depth)
                    rankings.append(([i for i, _ in found], self.lexical_weight))
                    best = found[0][1] if found else 1.0
                    for i, s in found:
                        lexical_scores[i] = max(s / best, lexical_scores.get(i, 0.0))
                row += 1
            if self.fusion == "rrf":
                fused = fuse_rankings(rankings)
            else:
                for i in lexical_scores.keys() - dense.keys():
                    dense[i] = self._dense_score(i, vectors[row - 1])
                fused = fuse_scores(dense, lexical_scores, self.lexical_weight)
            results.append([self._hit(i, dense, vectors[row - 1]) for i in fused[:k]])
        return results

    # ----- writing -------------------------------------------------------------------------
    def ingest(
        self, paths: Iterable[Path], *, rebuild: bool = False, progress: bool = True
    ) -> IngestReport:
        """Ingest files and folders; changed files replace their old chunks; saves at the end.

        Unreadable, empty, binary or non-UTF-8 files are reported in `IngestReport.skipped`
        (and logged) while the rest goes on.
        """
        report = IngestReport()
        files = discover_files(list(paths))
        if rebuild:
            self._index, self._catalog, self._loaded_snapshot = None, Catalog(), None
        else:
            self.load(required=False)
        pending: list[tuple[str, str, list[Document]]] = []
        for path, root in files:
            origin = str(path.resolve())
            try:
                digest = hashlib.sha256(path.read_bytes()).hexdigest()
                docs = load_file(path, root)
            except (InvalidInputError, OSError) as exc:
                logger.warning("Skipped %s", exc)
                report.skipped.append((str(path), str(exc)))
                continue
            if self._catalog.origins.get(origin) == digest:
                report.unchanged.append(str(path))
                continue
            (report.replaced if origin in self._catalog.origins else report.added).append(str(path))
            pending.append((origin, digest, docs))
        if pending:
            report.chunks = self._apply(pending, progress=progress)
        if pending or rebuild or not self.exists():
            self.save()
        return report

    def remove(self, doc_id: str) -> int:
        """Remove one document and its vectors; returns the number of chunks removed."""
        self.load()
        record = self._catalog.documents.get(doc_id)
        if record is None:
            raise InvalidInputError(
                f"No document {doc_id!r} in {self.folder} (see `parley kb list`)"
            )
        self._drop_documents([doc_id])
        if not any(d.origin == record.origin for d in self._catalog.documents.values()):
            self._catalog.origins.pop(record.origin, None)
        self.save()
        return len(record.chunk_ids)

    def save(self) -> None:
        """Write the index and catalog atomically to the folder."""
        index = self._index or VectorIndex(self.embedder.dim, self.index_factory)
        manifest: Manifest = save_snapshot(
            self.folder, embedding_model=self.embedding_model, index=index, catalog=self._catalog
        )
        self._index, self._loaded_snapshot = index, manifest.snapshot

    def _apply(self, pending: list[tuple[str, str, list[Document]]], *, progress: bool) -> int:
        new_ids: list[int] = []
        for origin, digest, docs in pending:
            stale = [d.doc_id for d in self._catalog.documents.values() if d.origin == origin]
            clashes = [d.doc_id for d in docs if d.doc_id in self._catalog.documents]
            self._drop_documents(set(stale) | set(clashes))
            self._catalog.origins[origin] = digest
            for doc in docs:
                doc_chunks = chunk_document(doc, self.chunk_chars, self.chunk_overlap)
                ids = list(range(self._catalog.next_id, self._catalog.next_id + len(doc_chunks)))
                self._catalog.next_id += len(doc_chunks)
                self._catalog.documents[doc.doc_id] = DocumentRecord(
                    doc.doc_id, doc.title, doc.source, origin, doc.kind, doc.url, ids
                )
                self._catalog.chunks.update(zip(ids, doc_chunks, strict=True))
                new_ids.extend(ids)
        # A doc id repeated inside one batch replaced its earlier chunks: embed survivors only.
        new_ids = [i for i in new_ids if i in self._catalog.chunks]
        vectors = self._embed_passages([self._catalog.chunks[i].text for i in new_ids], progress)
        if self._index is None:
            self._index = VectorIndex(self.embedder.dim, self.index_factory)
        self._index.add(np.asarray(new_ids, dtype=np.int64), vectors)
        self._lexical = None
        return len(new_ids)

    def _embed_passages(self, texts: list[str], progress: bool) -> np.ndarray:
        from tqdm.auto import tqdm

        step = 64
        parts = [np.zeros((0, self.embedder.dim), dtype=np.float32)]
        with tqdm(total=len(texts), desc="Embedding", unit="chunk", disable=not progress) as bar:
            for start in range(0, len(texts), step):
                parts.append(self.embedder.embed_passages(texts[start : start + step]))
                bar.update(len(parts[-1]))
        return np.concatenate(parts)

    def _drop_documents(self, doc_ids: Iterable[str]) -> None:
        removed: list[int] = []
        for doc_id in doc_ids:
            record = self._catalog.documents.pop(doc_id, None)
            if record is not None:
                removed.extend(record.chunk_ids)
                for chunk_id in record.chunk_ids:
                    self._catalog.chunks.pop(chunk_id, None)
        if removed and self._index is not None:
            self._index.remove(np.asarray(removed, dtype=np.int64))
        self._lexical = None

    def _lexical_index(self) -> LexicalIndex:
        if self._lexical is None:
            ids = list(self._catalog.chunks)
            self._lexical = LexicalIndex(ids, [_lexical_text(self._catalog.chunks[i]) for i in ids])
        return self._lexical

    def _hit(self, chunk_id: int, dense: dict[int, float], query_vector: np.ndarray) -> Hit:
        chunk = self._catalog.chunks[chunk_id]
        score = dense.get(chunk_id)
        if score is None:
            score = self._dense_score(chunk_id, query_vector)
        return Hit(
            doc_id=chunk.doc_id,
            chunk_id=chunk.chunk_id,
            source=chunk.source,
            title=chunk.title,
            score=round(float(score or 0.0), 6),
            text=chunk.text,
            url=chunk.url,
            position=chunk.position,
        )

    def _dense_score(self, chunk_id: int, query_vector: np.ndarray) -> float:
        vector = self._index.reconstruct(chunk_id) if self._index is not None else None
        return float(vector @ query_vector) if vector is not None else 0.0


def _lexical_text(chunk: Chunk) -> str:
    return chunk.text if chunk.title in chunk.text else f"{chunk.title}\n{chunk.text}"


def _clean_query(query: str) -> str:
    text = " ".join(query.split())
    if not text:
        raise InvalidInputError("Empty query: type a question to search the knowledge base")
    return text[:MAX_QUERY_CHARS]
