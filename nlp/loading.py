"""Resolve and load causal language models: builtin offline packages, local folders, hub ids.

`builtin:<name>` models ship as GGUF files inside PyPI packages. transformers dequantizes GGUF to
float32 on every load (tens of seconds), so the first load converts the model once into a
safetensors folder under `cache_dir/models/` and every later load reads that folder (seconds).
Loaded models are kept per process (`load_causal_lm` is cached), never loaded at import.
"""

from __future__ import annotations

import functools
import logging
import re
import socket
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.errors import ConfigurationError, ModelUnavailableError
from nlp.builtin_models import BUILTIN_MODELS, SETTING_NAME, builtin_sources, prepare_builtin

logger = logging.getLogger(__name__)

BUILTIN_PREFIX = "builtin:"
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*(/[\w.-]+)?$")


@dataclass(frozen=True, slots=True)
class LoadedModel:
    """A causal LM ready for generation, with its tokenizer and where it runs."""

    model: Any
    tokenizer: Any
    name: str
    device: str
    source: str = ""  # the folder or hub id it was loaded from (inference backends convert it)
    cache_dir: Path | None = None


def resolve_device(device: str) -> str:
    """Map the `device` setting ("auto", "cpu", "cuda") to the device models run on."""
    import torch

    if device == "cpu":
        return "cpu"
    if torch.cuda.is_available():
        return "cuda"
    if device == "cuda":
        raise ConfigurationError("PARLEY_DEVICE is 'cuda' but no CUDA device is available")
    return "cpu"


def _torch_dtype(device: str) -> Any:
    """What the configured inference backend runs the weights in: bf16 (fp16 without bf16) on
    GPUs and on CPUs with native bf16 under `auto`; float32 elsewhere (emulated bf16 on a CPU
    processes prompts ~7x slower), and for CTranslate2 and int8, which convert from fp32."""
    import torch

    from nlp.inference.select import current_options, transformers_dtype

    return getattr(torch, transformers_dtype(current_options(), device))


def resolve_model_source(model_ref: str, cache_dir: Path) -> str:
    """Turn a model reference (builtin:<name>, folder or hub id) into what from_pretrained takes."""
    ref = model_ref.strip()
    if ref.startswith(BUILTIN_PREFIX):
        return str(prepare_builtin(ref.removeprefix(BUILTIN_PREFIX), cache_dir))
    path = Path(ref).expanduser()
    if path.is_dir():
        return str(path)
    if ref.startswith((".", "/", "~")) or not _HUB_ID.match(ref) or path.exists():
        raise ModelUnavailableError(
            f"{SETTING_NAME}={ref!r}: no model folder there; set it to a folder with config.json "
            "and weights, a Hugging Face hub id, or a builtin:<name> model"
        )
    return ref


def _from_pretrained(source: str, model_ref: str, **kwargs: Any) -> tuple[Any, Any]:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(source, **kwargs)
    model = AutoModelForCausalLM.from_pretrained(source, **kwargs)
    return model, tokenizer


def _hub_reachable(endpoint: str, timeout: float = 3.0) -> bool:
    """One quick TCP connect to the hub: offline machines fail here in milliseconds."""
    parsed = urllib.parse.urlsplit(endpoint)
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    try:
        with socket.create_connection((parsed.hostname or "", port), timeout=timeout):
            return True
    except OSError:
        return False


def _load_hub_or_folder(source: str, model_ref: str, dtype: Any) -> tuple[Any, Any]:
    """Load from a folder, the local hub cache, or (when online) the hub; fail fast offline."""
    from huggingface_hub import constants

    if Path(source).is_dir():
        return _from_pretrained(source, model_ref, dtype=dtype)
    try:  # the local hub cache first: no network, no waiting
        return _from_pretrained(source, model_ref, dtype=dtype, local_files_only=True)
    except OSError:
        if constants.HF_HUB_OFFLINE:
            raise ModelUnavailableError(
                f"{SETTING_NAME}={model_ref!r} is not in the local Hugging Face cache and the hub "
                "is offline (HF_HUB_OFFLINE=1); download it on a connected machine, point "
                f"{SETTING_NAME} at a local folder, or use builtin:qwen2.5-coder-0.5b-instruct"
            ) from None
    if not _hub_reachable(constants.ENDPOINT):  # huggingface_hub would retry for ~50 s
        raise ModelUnavailableError(
            f"{SETTING_NAME}={model_ref!r} is not in the local Hugging Face cache and "
            f"{constants.ENDPOINT} cannot be reached; download it on a connected machine, point "
            f"{SETTING_NAME} at a local folder, or use builtin:qwen2.5-coder-0.5b-instruct"
        )
    try:
        return _from_pretrained(source, model_ref, dtype=dtype)
    except OSError as exc:
        raise ModelUnavailableError(
            f"{SETTING_NAME}={model_ref!r} could not be loaded from the Hugging Face hub ({exc}); "
            f"check the id and the network, point {SETTING_NAME} at a local folder, "
            "or use builtin:qwen2.5-coder-0.5b-instruct"
        ) from exc


@functools.lru_cache(maxsize=4)
def load_causal_lm(model_ref: str, *, cache_dir: Path, device: str = "auto") -> LoadedModel:
    """Load a causal LM and its tokenizer once per process (CUDA bf16 if present, else CPU fp32).

    `model_ref` is `builtin:<name>` (see `BUILTIN_MODELS`), a local folder or a hub id. Raises
    `ModelUnavailableError` with what to do when the model cannot be found or loaded.
    """
    started = time.monotonic()
    target = resolve_device(device)
    source = resolve_model_source(model_ref, Path(cache_dir))
    logger.info("Loading dialogue model %s on %s...", model_ref, target)
    try:
        model, tokenizer = _load_hub_or_folder(source, model_ref, _torch_dtype(target))
    except (OSError, ValueError) as exc:
        raise ModelUnavailableError(f"{SETTING_NAME}={model_ref!r} failed to load: {exc}") from exc
    model.to(target)
    model.eval()
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    logger.info("Loaded %s in %.1f s", model_ref, time.monotonic() - started)
    return LoadedModel(
        model=model,
        tokenizer=tokenizer,
        name=model_ref,
        device=target,
        source=source,
        cache_dir=Path(cache_dir),
    )


__all__ = [
    "BUILTIN_MODELS",
    "LoadedModel",
    "builtin_sources",
    "load_causal_lm",
    "prepare_builtin",
    "resolve_device",
    "resolve_model_source",
]
