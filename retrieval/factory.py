"""The one place that turns settings into an embedder and a retriever."""

from __future__ import annotations

import logging
from importlib import resources
from pathlib import Path

from bot.settings import Settings
from retrieval.embedders import Embedder, load_embedder
from retrieval.knowledge_base import KnowledgeBase, QueryTranslator

logger = logging.getLogger(__name__)


def build_embedder(settings: Settings) -> Embedder:
    """Load the embedding model named by `PARLEY_EMBEDDING_MODEL`."""
    return load_embedder(
        settings.embedding_model,
        batch_size=settings.embedding_batch_size,
        local_files_only=not settings.embedding_allow_download,
    )


def build_knowledge_base(
    settings: Settings,
    *,
    embedder: Embedder | None = None,
    query_translator: QueryTranslator | None = None,
) -> KnowledgeBase:
    """A knowledge base on `settings.knowledge_base_dir`; nothing is loaded until first use."""
    return KnowledgeBase(
        settings.knowledge_base_dir,
        embedding_model=settings.embedding_model,
        embedder_loader=(lambda: embedder)
        if embedder is not None
        else lambda: build_embedder(settings),
        index_factory=settings.index_factory,
        hybrid=settings.hybrid_search,
        lexical_weight=settings.lexical_weight,
        chunk_chars=settings.chunk_chars,
        chunk_overlap=settings.chunk_overlap,
        query_translator=query_translator,
        nprobe=settings.index_nprobe,
        ef_search=settings.index_ef_search,
    )


def build_retriever(
    settings: Settings,
    *,
    embedder: Embedder | None = None,
    query_translator: QueryTranslator | None = None,
    preload: bool = True,
) -> KnowledgeBase:
    """The retriever the workers use (a `KnowledgeBase`, which implements `Retriever`).

    With `preload` (the default, for `worker_process_init`) the embedding model and, if present,
    the index are loaded now; a missing index is not an error until the first search, which
    raises `IndexUnavailableError` naming the folder and the ingest command. Later searches
    pick up a newer index saved by `parley kb ingest` without a restart.
    """
    kb = build_knowledge_base(settings, embedder=embedder, query_translator=query_translator)
    if preload:
        _ = kb.embedder
        kb.load(required=False)
    return kb


def sample_knowledge_base_dir() -> Path:
    """The folder of sample documents shipped with Parley (a fictional SaaS product)."""
    return Path(str(resources.files("retrieval") / "sample_kb"))


def ensure_sample_knowledge_base(settings: Settings, *, embedder: Embedder | None = None) -> bool:
    """Ingest the packaged sample documents when the knowledge-base folder has no index.

    Returns True when it ingested, False when an index was already there.
    """
    kb = build_knowledge_base(settings, embedder=embedder)
    if kb.exists():
        return False
    logger.info("No knowledge base in %s: ingesting the sample documents", kb.folder)
    kb.ingest([sample_knowledge_base_dir()], progress=False)
    return True
