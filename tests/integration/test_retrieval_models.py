"""The packaged embedders, for real, on tiny inputs: cross-lingual search must work."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from bot.errors import ModelUnavailableError
from bot.settings import load_settings
from retrieval.embedders import (
    TransformersEmbedder,
    load_embedder,
    minilm_folder,
    needs_e5_prefixes,
)
from retrieval.factory import build_embedder, build_retriever, ensure_sample_knowledge_base

PASSAGES = [
    "To reset your password, click Forgot password on the sign-in page and follow the link.",
    "Refunds for annual plans are paid back to your card within 10 business days.",
    "Error E1042 means your API key has expired; create a new key in the developer settings.",
    "You can export all messages and files as a ZIP archive from the admin data page.",
]
QUESTIONS = [
    ("Hur återställer jag mitt lösenord?", 0),
    ("¿Cuándo recibiré el reembolso de mi plan anual?", 1),
    ("Wie kann ich alle meine Nachrichten exportieren?", 3),
]


def test_e5_prefix_detection() -> None:
    assert needs_e5_prefixes("intfloat/multilingual-e5-small")
    assert needs_e5_prefixes("/models/e5-base-v2/")
    assert not needs_e5_prefixes("sentence-transformers/all-MiniLM-L6-v2")
    assert not needs_e5_prefixes("/models/bge5-small")


def test_uncached_hub_model_fails_fast_naming_the_setting() -> None:
    start = time.perf_counter()
    with pytest.raises(ModelUnavailableError, match="PARLEY_EMBEDDING_MODEL"):
        load_embedder("example-org/no-such-embedding-model")
    with pytest.raises(ModelUnavailableError, match="PARLEY_EMBEDDING_MODEL"):
        load_embedder("builtin:no-such-model")
    assert time.perf_counter() - start < 30


@pytest.mark.slow
def test_multilingual_e5_finds_english_passages_across_languages() -> None:
    embedder = build_embedder(load_settings(embedding_model="builtin:multilingual-e5-small"))
    assert embedder.dim == 384
    passages = embedder.embed_passages(PASSAGES)
    queries = embedder.embed_queries([q for q, _ in QUESTIONS])
    assert np.allclose(np.linalg.norm(passages, axis=1), 1.0, atol=1e-3)
    assert (queries @ passages.T).argmax(axis=1).tolist() == [i for _, i in QUESTIONS]


@pytest.mark.slow
def test_minilm_through_transformers_pools_and_normalises() -> None:
    embedder = load_embedder("builtin:all-minilm-l6-v2", batch_size=2)
    assert isinstance(embedder, TransformersEmbedder)
    assert embedder.pooling == "mean" and embedder.dim == 384
    passages = embedder.embed_passages(PASSAGES)
    assert np.allclose(np.linalg.norm(passages, axis=1), 1.0, atol=1e-4)
    query = embedder.embed_queries(["How do I reset my password?", "x " * 3000])
    assert int((query[0] @ passages.T).argmax()) == 0
    # Order inside a batch must not change a text's vector (batches are length-sorted).
    alone = embedder.embed_passages([PASSAGES[2]])
    assert np.allclose(alone[0], passages[2], atol=1e-5)
    # The same folder by path gives the same vectors as the builtin name.
    by_path = TransformersEmbedder(str(minilm_folder()))
    assert np.allclose(by_path.embed_passages(PASSAGES[:1])[0], passages[0], atol=1e-5)


@pytest.mark.slow
def test_sample_knowledge_base_answers_in_other_languages(tmp_path: Path) -> None:
    settings = load_settings(kb_dir=tmp_path / "kb")
    assert ensure_sample_knowledge_base(settings) is True
    retriever = build_retriever(settings)
    cases = [
        ("¿Cómo obtengo un reembolso?", "billing.md"),
        ("Was bedeutet der Fehler E1042?", "error-codes.md"),
        ("如何导出我的数据", "data-export.md"),
        ("How do I reset my password?", "passwords.md"),
    ]
    for question, doc_id in cases:
        hits = retriever.search(question, k=3)
        assert doc_id in [h.doc_id for h in hits], (question, [h.chunk_id for h in hits])
