"""FAISS index and the on-disk store: save/load, atomic save, corruption, removal."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pytest

from bot.errors import IndexUnavailableError, InvalidInputError
from retrieval.documents import Chunk
from retrieval.fusion import fuse_rankings, fuse_scores
from retrieval.index import VectorIndex
from retrieval.lexical import has_identifier, tokenize
from retrieval.store import Catalog, DocumentRecord, load_snapshot, read_manifest, save_snapshot


def unit_vectors(n: int, dim: int = 16, seed: int = 0) -> np.ndarray:
    x = np.random.default_rng(seed).standard_normal((n, dim)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


@pytest.mark.parametrize("factory", ["Flat", "HNSW8", "IVF4,Flat"])
def test_add_search_remove(factory: str) -> None:
    vectors = unit_vectors(300)
    index = VectorIndex(16, factory)
    index.set_search_params(nprobe=4, ef_search=64)
    index.add(np.arange(300, dtype=np.int64) + 1000, vectors)
    _, ids = index.search(vectors[:3], 1)
    assert ids[:, 0].tolist() == [1000, 1001, 1002]
    index.remove(np.array([1000], dtype=np.int64))
    assert index.ntotal == 299
    _, ids = index.search(vectors[:1], 5)
    assert 1000 not in ids[0].tolist()
    restored = index.reconstruct(1001)
    assert restored is not None and np.allclose(restored, vectors[1], atol=1e-5)


def test_invalid_factory_and_untrainable_ivf() -> None:
    with pytest.raises(InvalidInputError, match="PARLEY_INDEX_FACTORY"):
        VectorIndex(16, "NoSuchIndex")
    index = VectorIndex(16, "IVF64,Flat")
    with pytest.raises(InvalidInputError, match="at least 64 vectors"):
        index.add(np.arange(10, dtype=np.int64), unit_vectors(10))


def make_catalog(n: int) -> Catalog:
    catalog = Catalog(next_id=n)
    for i in range(n):
        catalog.chunks[i] = Chunk("doc", f"doc#{i}", f"text {i}", "/src", "Doc", i)
    catalog.documents["doc"] = DocumentRecord(
        "doc", "Doc", "/src", "/src", chunk_ids=list(range(n))
    )
    catalog.origins["/src"] = "hash"
    return catalog


def save(folder: Path, n: int) -> None:
    index = VectorIndex(16)
    index.add(np.arange(n, dtype=np.int64), unit_vectors(n))
    save_snapshot(folder, embedding_model="m", index=index, catalog=make_catalog(n))


def test_save_and_load_round_trip(tmp_path: Path) -> None:
    save(tmp_path, 5)
    manifest = read_manifest(tmp_path)
    assert manifest is not None
    assert (manifest.format_version, manifest.embedding_model, manifest.dim) == (1, "m", 16)
    assert (manifest.index_factory, manifest.chunks, manifest.documents) == ("Flat", 5, 1)
    index, catalog = load_snapshot(tmp_path, manifest)
    assert index.ntotal == 5
    assert catalog.chunks[3].chunk_id == "doc#3"
    assert catalog.documents["doc"].chunk_ids == [0, 1, 2, 3, 4]
    assert catalog.origins == {"/src": "hash"} and catalog.next_id == 5
    save(tmp_path, 7)  # a second save replaces the snapshot and removes the old one
    snapshots = [p for p in tmp_path.iterdir() if p.is_dir()]
    assert len(snapshots) == 1


def test_crash_mid_save_keeps_the_old_index(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    save(tmp_path, 5)

    def explode(self: VectorIndex, path: Path) -> None:
        path.write_bytes(b"half written")
        raise OSError("disk full")

    monkeypatch.setattr(VectorIndex, "save", explode)
    with pytest.raises(OSError, match="disk full"):
        save(tmp_path, 9)
    manifest = read_manifest(tmp_path)
    assert manifest is not None and manifest.chunks == 5
    index, _ = load_snapshot(tmp_path, manifest)
    assert index.ntotal == 5
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".tmp")] == []


def test_missing_manifest_is_none_and_corrupt_one_names_the_folder(tmp_path: Path) -> None:
    assert read_manifest(tmp_path) is None
    (tmp_path / "manifest.json").write_text("{broken", encoding="utf-8")
    with pytest.raises(IndexUnavailableError) as info:
        read_manifest(tmp_path)
    assert str(tmp_path) in str(info.value) and "parley kb ingest" in str(info.value)


def test_wrong_format_version(tmp_path: Path) -> None:
    save(tmp_path, 2)
    path = tmp_path / "manifest.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    path.write_text(json.dumps({**data, "format_version": 99}), encoding="utf-8")
    with pytest.raises(IndexUnavailableError, match="format version 99"):
        read_manifest(tmp_path)


def test_corrupt_index_file(tmp_path: Path) -> None:
    save(tmp_path, 3)
    manifest = read_manifest(tmp_path)
    assert manifest is not None
    (tmp_path / manifest.snapshot / "index.faiss").write_bytes(b"garbage")
    with pytest.raises(IndexUnavailableError) as info:
        load_snapshot(tmp_path, manifest)
    assert str(tmp_path) in str(info.value) and "--rebuild" in str(info.value)


def test_reciprocal_rank_fusion() -> None:
    assert fuse_rankings([([1, 2, 3], 1.0), ([2], 1.0)]) == [2, 1, 3]
    assert fuse_rankings([([1, 2], 1.0), ([2, 1], 0.5)]) == [1, 2]
    assert fuse_rankings([]) == []


def test_score_fusion_lets_a_rare_exact_match_win_only_when_weighted() -> None:
    dense = {1: 0.80, 2: 0.79, 3: 0.70}
    assert fuse_scores(dense, {}, 0.3) == [1, 2, 3]
    assert fuse_scores(dense, {3: 9.0}, 0.3) == [1, 2, 3]
    assert fuse_scores(dense, {2: 9.0}, 0.3) == [2, 1, 3]
    assert fuse_scores(dense, {4: 9.0}, 1.5)[0] == 4
    assert fuse_scores({}, {}, 0.3) == []


def test_identifier_detection_and_tokenizer() -> None:
    assert has_identifier("What does error E1042 mean?")
    assert has_identifier("SSO with SAML") and has_identifier("upgrade to v2.3")
    assert not has_identifier("how do I reset my password")
    assert not has_identifier("I need 2 seats")
    assert tokenize("What does error E1042 mean? Vad betyder felet?") == [
        "error",
        "e1042",
        "mean",
        "betyder",
        "felet",
    ]


def test_building_a_lexical_index_prints_no_debug_line(caplog: pytest.LogCaptureFixture) -> None:
    """bm25s sets its own logger to DEBUG: under a root handler with no level (as the CLI's
    basicConfig makes) its per-index line would reach the terminal chat."""
    from retrieval.lexical import LexicalIndex

    with caplog.at_level(logging.DEBUG):
        index = LexicalIndex([7, 8], ["Error E1042 means the token expired", "Plans and prices"])
    assert index.search("E1042", k=2)[0][0] == 7
    assert not [r for r in caplog.records if r.name.startswith("bm25s")]  # no debug in the chat
