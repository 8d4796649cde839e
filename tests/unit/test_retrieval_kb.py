"""KnowledgeBase with a deterministic fake embedder: ingest, re-ingest, remove, search."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from bot.errors import IndexUnavailableError, InvalidInputError
from bot.settings import load_settings
from retrieval.embedders import Embedder
from retrieval.factory import (
    build_retriever,
    ensure_sample_knowledge_base,
    sample_knowledge_base_dir,
)
from retrieval.knowledge_base import KnowledgeBase
from retrieval.lexical import tokenize
from retrieval.types import Hit, Retriever


class HashingEmbedder:
    """Bag of hashed words: identical words -> similar vectors. Counts what it embeds."""

    def __init__(self, name: str = "fake-hash", dim: int = 64) -> None:
        self.name = name
        self.dim = dim
        self.passages_embedded = 0
        self.longest_query = 0

    def _vectors(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in tokenize(text):
                out[row, int(hashlib.md5(word.encode()).hexdigest(), 16) % self.dim] += 1.0
            out[row, 0] += 1e-3
        return out / np.linalg.norm(out, axis=1, keepdims=True)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        self.longest_query = max([self.longest_query, *(len(t) for t in texts)])
        return self._vectors(texts)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        self.passages_embedded += len(texts)
        return self._vectors(texts)


def make_kb(folder: Path, embedder: Embedder, **kwargs: object) -> KnowledgeBase:
    return KnowledgeBase(
        folder, embedding_model=embedder.name, embedder_loader=lambda: embedder, **kwargs
    )  # type: ignore[arg-type]


@pytest.fixture
def docs(tmp_path: Path) -> Path:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "passwords.md").write_text(
        "# Passwords\n\nReset your password with the forgot password link.", encoding="utf-8"
    )
    (folder / "billing.md").write_text(
        "# Billing\n\nRefunds reach your card within ten business days.", encoding="utf-8"
    )
    rows = [
        {"id": "err-e1042", "question": "What does error E1042 mean?", "answer": "Key expired."},
        {"id": "sso", "text": "Single sign-on with SAML and Okta.", "title": "SSO"},
    ]
    (folder / "faq.jsonl").write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    return folder


def test_ingest_search_and_list(tmp_path: Path, docs: Path) -> None:
    kb = make_kb(tmp_path / "kb", HashingEmbedder())
    report = kb.ingest([docs], progress=False)
    assert sorted(Path(p).name for p in report.added) == ["billing.md", "faq.jsonl", "passwords.md"]
    assert report.chunks == 4 and report.skipped == []
    assert [d.doc_id for d in kb.documents()] == ["billing.md", "err-e1042", "passwords.md", "sso"]
    retriever: Retriever = kb
    hits = retriever.search("how do I reset my password", k=2)
    assert isinstance(hits[0], Hit)
    assert hits[0].doc_id == "passwords.md" and hits[0].title == "Passwords"
    assert hits[0].chunk_id == "passwords.md#0" and hits[0].source.endswith("passwords.md")
    assert 0.0 < hits[0].score <= 1.0
    assert kb.search("E1042", k=1)[0].doc_id == "err-e1042"


def test_a_second_process_sees_the_saved_index(tmp_path: Path, docs: Path) -> None:
    embedder = HashingEmbedder()
    make_kb(tmp_path / "kb", embedder).ingest([docs], progress=False)
    reader = make_kb(tmp_path / "kb", embedder)
    assert reader.search("refunds card", k=1)[0].doc_id == "billing.md"
    make_kb(tmp_path / "kb", embedder).remove("billing.md")
    assert all(h.doc_id != "billing.md" for h in reader.search("refunds card", k=4))


def test_reingest_replaces_changed_file_and_skips_unchanged(tmp_path: Path, docs: Path) -> None:
    embedder = HashingEmbedder()
    kb = make_kb(tmp_path / "kb", embedder)
    kb.ingest([docs], progress=False)
    embedded = embedder.passages_embedded
    again = kb.ingest([docs], progress=False)
    assert len(again.unchanged) == 3 and embedder.passages_embedded == embedded
    (docs / "billing.md").write_text("# Billing\n\nInvoices are PDF files.", encoding="utf-8")
    changed = make_kb(tmp_path / "kb", embedder).ingest([docs], progress=False)
    assert [Path(p).name for p in changed.replaced] == ["billing.md"] and changed.chunks == 1
    kb = make_kb(tmp_path / "kb", embedder)
    texts = [h.text for h in kb.search("billing invoices refunds", k=10)]
    assert any("Invoices are PDF" in t for t in texts)
    assert not any("Refunds reach" in t for t in texts)
    assert len(texts) == 4


def test_remove_document(tmp_path: Path, docs: Path) -> None:
    kb = make_kb(tmp_path / "kb", HashingEmbedder())
    kb.ingest([docs], progress=False)
    assert kb.remove("sso") == 1
    assert "sso" not in [d.doc_id for d in kb.documents()]
    assert all(h.doc_id != "sso" for h in kb.search("single sign-on SAML Okta", k=5))
    with pytest.raises(InvalidInputError, match="No document 'sso'"):
        kb.remove("sso")


def test_bad_files_are_skipped_and_the_rest_is_ingested(tmp_path: Path, docs: Path) -> None:
    (docs / "empty.md").write_text("", encoding="utf-8")
    (docs / "binary.txt").write_bytes(b"\x00\x01\x02")
    (docs / "latin1.txt").write_bytes("caf\xe9".encode("latin-1"))
    kb = make_kb(tmp_path / "kb", HashingEmbedder())
    report = kb.ingest([docs], progress=False)
    skipped = sorted(Path(p).name for p, _ in report.skipped)
    assert skipped == ["binary.txt", "empty.md", "latin1.txt"]
    assert len(report.added) == 3
    assert len(make_kb(tmp_path / "kb", HashingEmbedder()).documents()) == 4


def test_model_mismatch_is_refused(tmp_path: Path, docs: Path) -> None:
    make_kb(tmp_path / "kb", HashingEmbedder("model-a")).ingest([docs], progress=False)
    other = make_kb(tmp_path / "kb", HashingEmbedder("model-b"))
    with pytest.raises(IndexUnavailableError) as info:
        other.search("password")
    message = str(info.value)
    assert "model-a" in message and "model-b" in message and "parley kb ingest" in message
    other.ingest([docs], rebuild=True, progress=False)
    assert other.search("password", k=1)[0].doc_id == "passwords.md"


def test_missing_index_names_folder_and_command(tmp_path: Path) -> None:
    kb = make_kb(tmp_path / "nothing", HashingEmbedder())
    with pytest.raises(IndexUnavailableError) as info:
        kb.search("hello")
    assert str(tmp_path / "nothing") in str(info.value)
    assert "parley kb ingest" in str(info.value)


def test_empty_and_long_queries(tmp_path: Path, docs: Path) -> None:
    embedder = HashingEmbedder()
    kb = make_kb(tmp_path / "kb", embedder)
    kb.ingest([docs], progress=False)
    for empty in ["", "   \n\t"]:
        with pytest.raises(InvalidInputError, match="Empty query"):
            kb.search(empty)
    hits = kb.search("password " * 5000, k=2)
    assert hits[0].doc_id == "passwords.md"
    assert embedder.longest_query <= 4000


def test_dense_only_and_hybrid_both_work(tmp_path: Path, docs: Path) -> None:
    kb = make_kb(tmp_path / "kb", HashingEmbedder(), hybrid=False)
    kb.ingest([docs], progress=False)
    assert kb.search("E1042", k=1)[0].doc_id == "err-e1042"
    kb.hybrid = True
    assert len(kb.search_batch(["E1042", "refunds"], k=3)) == 2


def test_query_translator_hook(tmp_path: Path, docs: Path) -> None:
    seen: list[str] = []

    def translate(text: str) -> str:
        seen.append(text)
        return "reset password"

    kb = make_kb(tmp_path / "kb", HashingEmbedder(), query_translator=translate)
    kb.ingest([docs], progress=False)
    assert kb.search("återställ lösenord", k=1, language="sv")[0].doc_id == "passwords.md"
    assert seen == ["återställ lösenord"]
    kb.search("reset password", k=1, language="en")
    assert len(seen) == 1


def test_factory_and_sample_knowledge_base(tmp_path: Path) -> None:
    settings = load_settings(kb_dir=tmp_path / "kb")
    embedder = HashingEmbedder(settings.embedding_model)
    assert len(list(sample_knowledge_base_dir().glob("*.md"))) >= 8
    assert ensure_sample_knowledge_base(settings, embedder=embedder) is True
    assert ensure_sample_knowledge_base(settings, embedder=embedder) is False
    retriever = build_retriever(settings, embedder=embedder)
    hits = retriever.search("What does error E1042 mean?", k=3)
    assert "error-codes.md" in [h.doc_id for h in hits]


@pytest.mark.parametrize("factory", ["HNSW8", "IVF2,Flat"])
def test_other_index_factories_ingest_search_remove(
    tmp_path: Path, docs: Path, factory: str
) -> None:
    embedder = HashingEmbedder()
    kb = make_kb(tmp_path / "kb", embedder, index_factory=factory, nprobe=2, ef_search=16)
    kb.ingest([docs], progress=False)
    reloaded = make_kb(tmp_path / "kb", embedder, index_factory=factory, nprobe=2)
    assert reloaded.search("reset password", k=1)[0].doc_id == "passwords.md"
    reloaded.remove("passwords.md")
    hits = make_kb(tmp_path / "kb", embedder, nprobe=2).search("reset password", k=5)
    assert "passwords.md" not in [h.doc_id for h in hits] and len(hits) == 3
