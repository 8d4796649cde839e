"""FAISS vector index keyed by int64 chunk ids, built from an index factory string."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from bot.errors import InvalidInputError

logger = logging.getLogger(__name__)

Ids = npt.NDArray[np.int64]


class VectorIndex:
    """Inner-product FAISS index over unit vectors (so scores are cosine similarities).

    The factory string (`Flat`, `IVF1024,Flat`, `HNSW32`, ...) is wrapped in `IDMap2` so that
    ids are chunk ids and vectors can be removed or reconstructed.
    """

    def __init__(self, dim: int, factory: str = "Flat", *, index: Any = None) -> None:
        import faiss

        self._faiss: Any = faiss
        self.dim = dim
        self.factory = factory
        if index is None:
            try:
                inner = faiss.index_factory(dim, factory, faiss.METRIC_INNER_PRODUCT)
            except RuntimeError as exc:
                raise InvalidInputError(
                    f"Invalid PARLEY_INDEX_FACTORY {factory!r}: {_first_line(exc)}"
                ) from exc
            if _is_ivf(faiss, inner):
                # IVF stores ids itself; a hashtable direct map lets it remove and reconstruct.
                inner.set_direct_map_type(faiss.DirectMap.Hashtable)  # type: ignore[attr-defined]
                index = inner
            elif factory.startswith("IDMap"):
                index = inner
            else:
                index = faiss.IndexIDMap2(inner)
        self._index = index

    @property
    def ntotal(self) -> int:
        """Number of vectors in the index."""
        return int(self._index.ntotal)

    def set_search_params(self, *, nprobe: int | None = None, ef_search: int | None = None) -> None:
        """Tune IVF `nprobe` / HNSW `efSearch` (ignored for index types without them)."""
        inner = self._inner()
        if nprobe is not None and hasattr(inner, "nprobe"):
            inner.nprobe = nprobe
        if ef_search is not None and hasattr(inner, "hnsw"):
            inner.hnsw.efSearch = ef_search

    def add(self, ids: Ids, vectors: npt.NDArray[np.float32]) -> None:
        """Add vectors under the given ids, training the index first if it needs it."""
        if len(ids) == 0:
            return
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if not self._index.is_trained:
            self._train(vectors)
        self._index.add_with_ids(vectors, np.ascontiguousarray(ids, dtype=np.int64))

    def remove(self, ids: Ids) -> None:
        """Remove vectors by id; index types that cannot remove in place are rebuilt."""
        if len(ids) == 0:
            return
        array = np.ascontiguousarray(ids, dtype=np.int64)
        selector = self._faiss.IDSelectorArray(len(array), self._faiss.swig_ptr(array))
        try:
            self._index.remove_ids(selector)
        except RuntimeError:
            self._rebuild_without(set(int(i) for i in ids))

    def search(self, vectors: npt.NDArray[np.float32], k: int) -> tuple[Any, Ids]:
        """(scores, ids) arrays of shape (n, k); missing results have id -1."""
        k = max(1, min(k, self.ntotal))
        scores, ids = self._index.search(np.ascontiguousarray(vectors, dtype=np.float32), k)
        return scores, ids

    def reconstruct(self, chunk_id: int) -> npt.NDArray[np.float32] | None:
        """The stored vector of one id, or None when the index type cannot give it back."""
        try:
            return np.asarray(self._index.reconstruct(int(chunk_id)), dtype=np.float32)
        except RuntimeError:
            return None

    def save(self, path: Path) -> None:
        """Write the index to one file."""
        self._faiss.write_index(self._index, str(path))

    @classmethod
    def load(cls, path: Path, dim: int, factory: str) -> VectorIndex:
        """Read an index written by `save`; raises RuntimeError/OSError if unreadable."""
        import faiss

        index = faiss.read_index(str(path))
        if index.d != dim:
            raise ValueError(f"index dimension {index.d} != manifest dimension {dim}")
        return cls(dim, factory, index=index)

    def _train(self, vectors: npt.NDArray[np.float32]) -> None:
        inner = self._inner()
        needed = int(getattr(inner, "nlist", 1))
        if len(vectors) < needed:
            raise InvalidInputError(
                f"Index factory {self.factory!r} needs at least {needed} vectors to train, "
                f"got {len(vectors)}: use PARLEY_INDEX_FACTORY=Flat for a small knowledge base"
            )
        logger.info("Training %s index on %d vectors", self.factory, len(vectors))
        self._index.train(vectors)

    def _inner(self) -> Any:
        index = self._index.index if hasattr(self._index, "id_map") else self._index
        return self._faiss.downcast_index(index)

    def _rebuild_without(self, removed: set[int]) -> None:
        id_map = self._faiss.vector_to_array(self._index.id_map)
        keep = np.asarray([i for i in id_map if int(i) not in removed], dtype=np.int64)
        vectors = np.stack([self._index.reconstruct(int(i)) for i in keep]) if len(keep) else None
        fresh = VectorIndex(self.dim, self.factory)
        if vectors is not None:
            fresh.add(keep, vectors)
        self._index = fresh._index
        logger.info("Rebuilt %s index without %d vectors", self.factory, len(removed))


def _is_ivf(faiss: Any, index: Any) -> bool:
    return isinstance(faiss.downcast_index(index), faiss.IndexIVF)


def _first_line(exc: BaseException) -> str:
    lines = [ln for ln in str(exc).splitlines() if ln.strip()]
    return lines[-1] if lines else exc.__class__.__name__
