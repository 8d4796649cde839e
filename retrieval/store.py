"""The knowledge-base folder on disk: a manifest pointing at one complete snapshot.

Layout::

    KB_DIR/manifest.json          format version, embedding model, dim, factory, snapshot name
    KB_DIR/snapshot-<id>/index.faiss
    KB_DIR/snapshot-<id>/catalog.json   documents, sources and their content hashes
    KB_DIR/snapshot-<id>/chunks.jsonl   one chunk per line, with its int64 vector id

A save writes a new snapshot folder, then atomically replaces `manifest.json` (os.replace), then
deletes older snapshots. A crash at any point leaves the previous manifest and snapshot intact.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bot.errors import IndexUnavailableError
from retrieval.documents import Chunk
from retrieval.index import VectorIndex

logger = logging.getLogger(__name__)

FORMAT_VERSION = 1
MANIFEST = "manifest.json"


@dataclass(slots=True)
class DocumentRecord:
    """What the catalog knows about one ingested document."""

    doc_id: str
    title: str
    source: str
    origin: str
    kind: str = "document"
    url: str | None = None
    chunk_ids: list[int] = field(default_factory=list)


@dataclass(slots=True)
class Catalog:
    """Chunk metadata by vector id, documents by id, and a content hash per ingested file."""

    chunks: dict[int, Chunk] = field(default_factory=dict)
    documents: dict[str, DocumentRecord] = field(default_factory=dict)
    origins: dict[str, str] = field(default_factory=dict)
    next_id: int = 0


@dataclass(frozen=True, slots=True)
class Manifest:
    """The small JSON file that names the current snapshot and how it was built."""

    format_version: int
    embedding_model: str
    dim: int
    index_factory: str
    snapshot: str
    documents: int
    chunks: int
    saved_at: float


def rebuild_hint(folder: Path) -> str:
    """The command that rebuilds a knowledge base from its source files."""
    return f"`parley kb ingest PATH... --kb {folder} --rebuild`"


def read_manifest(folder: Path) -> Manifest | None:
    """The folder's manifest, None if there is none; IndexUnavailableError if it is corrupt."""
    path = folder / MANIFEST
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        manifest = Manifest(**data)
    except (OSError, ValueError, TypeError) as exc:
        raise IndexUnavailableError(
            f"The knowledge-base index in {folder} is corrupt ({MANIFEST}: {exc}); "
            f"rebuild it with {rebuild_hint(folder)}"
        ) from exc
    if manifest.format_version != FORMAT_VERSION:
        raise IndexUnavailableError(
            f"The knowledge-base index in {folder} has format version {manifest.format_version}, "
            f"this Parley reads version {FORMAT_VERSION}; rebuild it with {rebuild_hint(folder)}"
        )
    return manifest


def check_embedding_model(manifest: Manifest, folder: Path, embedding_model: str) -> None:
    """Refuse an index built with another embedding model: its vectors are incomparable."""
    if manifest.embedding_model != embedding_model:
        raise IndexUnavailableError(
            f"The knowledge base in {folder} was built with embedding model "
            f"{manifest.embedding_model!r}, but PARLEY_EMBEDDING_MODEL is {embedding_model!r}. "
            f"Set PARLEY_EMBEDDING_MODEL={manifest.embedding_model} or rebuild the index with "
            f"{rebuild_hint(folder)}"
        )


def load_snapshot(folder: Path, manifest: Manifest) -> tuple[VectorIndex, Catalog]:
    """Read the snapshot a manifest names; IndexUnavailableError if anything is missing or bad."""
    snap = folder / manifest.snapshot
    try:
        index = VectorIndex.load(snap / "index.faiss", manifest.dim, manifest.index_factory)
        raw = json.loads((snap / "catalog.json").read_text(encoding="utf-8"))
        catalog = Catalog(
            documents={d["doc_id"]: DocumentRecord(**d) for d in raw["documents"]},
            origins=dict(raw["origins"]),
            next_id=int(raw["next_id"]),
        )
        with (snap / "chunks.jsonl").open(encoding="utf-8") as fh:
            for line in fh:
                row = json.loads(line)
                catalog.chunks[int(row["id"])] = Chunk.from_dict(row)
    except (OSError, RuntimeError, ValueError, KeyError, TypeError) as exc:
        raise IndexUnavailableError(
            f"The knowledge-base index in {folder} is missing files or corrupt ({exc}); "
            f"rebuild it with {rebuild_hint(folder)}"
        ) from exc
    if index.ntotal != len(catalog.chunks):
        raise IndexUnavailableError(
            f"The knowledge-base index in {folder} is inconsistent ({index.ntotal} vectors, "
            f"{len(catalog.chunks)} chunks); rebuild it with {rebuild_hint(folder)}"
        )
    return index, catalog


def save_snapshot(
    folder: Path, *, embedding_model: str, index: VectorIndex, catalog: Catalog
) -> Manifest:
    """Write a complete new snapshot, then switch the manifest to it atomically."""
    folder.mkdir(parents=True, exist_ok=True)
    name = f"snapshot-{time.strftime('%Y%m%d%H%M%S')}-{uuid.uuid4().hex[:8]}"
    tmp = folder / f".tmp-{name}"
    tmp.mkdir()
    try:
        index.save(tmp / "index.faiss")
        _write_json(tmp / "catalog.json", _catalog_json(catalog))
        with (tmp / "chunks.jsonl").open("w", encoding="utf-8") as fh:
            for chunk_id, chunk in catalog.chunks.items():
                fh.write(json.dumps({"id": chunk_id, **chunk.to_dict()}, ensure_ascii=False))
                fh.write("\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, folder / name)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    manifest = Manifest(
        format_version=FORMAT_VERSION,
        embedding_model=embedding_model,
        dim=index.dim,
        index_factory=index.factory,
        snapshot=name,
        documents=len(catalog.documents),
        chunks=len(catalog.chunks),
        saved_at=time.time(),
    )
    _write_json(folder / f".{MANIFEST}.tmp", asdict(manifest))
    os.replace(folder / f".{MANIFEST}.tmp", folder / MANIFEST)
    _remove_old_snapshots(folder, keep=name)
    logger.info("Saved knowledge base %s (%d chunks)", folder, len(catalog.chunks))
    return manifest


def _catalog_json(catalog: Catalog) -> dict[str, Any]:
    return {
        "documents": [asdict(d) for d in catalog.documents.values()],
        "origins": catalog.origins,
        "next_id": catalog.next_id,
    }


def _write_json(path: Path, data: dict[str, Any]) -> None:
    with path.open("w", encoding="utf-8") as fh:
        json.dump(data, fh, ensure_ascii=False, indent=1)
        fh.flush()
        os.fsync(fh.fileno())


def _remove_old_snapshots(folder: Path, keep: str) -> None:
    for old in folder.iterdir():
        if (
            old.is_dir()
            and old.name != keep
            and old.name.lstrip(".").startswith(("snapshot-", "tmp-snapshot-"))
        ):
            shutil.rmtree(old, ignore_errors=True)
