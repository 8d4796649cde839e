"""Converting a transformers model folder into a cached CTranslate2 model, once.

Conversion writes into a temporary folder next to the cache entry and renames it into place
after a marker file is written, under a file lock: an interrupted conversion leaves only a
`.<name>-*` temp folder, which is never loaded and is removed by the next conversion.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from nlp.builtin_models import _file_lock, publish_folder

logger = logging.getLogger(__name__)

MARKER = "parley-ct2.json"
_FORMAT_VERSION = 1


def _fingerprint(source: Path, quantization: str, version: str) -> dict[str, Any]:
    weights = sorted(source.glob("*.safetensors")) + sorted(source.glob("*.bin"))
    stats = [[p.name, p.stat().st_size, int(p.stat().st_mtime)] for p in weights]
    return {"format": _FORMAT_VERSION, "source": str(source), "weights": stats,
            "quantization": quantization, "ctranslate2": version}  # fmt: skip


def cache_path(source: Path, quantization: str, cache_dir: Path) -> Path:
    """Where the CT2 copy of `source` lives: cache_dir/models/ct2/<name>-<hash>-<quant>."""
    digest = hashlib.sha256(str(source.resolve()).encode()).hexdigest()[:8]
    return Path(cache_dir) / "models" / "ct2" / f"{source.name}-{digest}-{quantization}"


def is_converted(target: Path, fingerprint: dict[str, Any]) -> bool:
    try:
        return bool(json.loads((target / MARKER).read_text()) == fingerprint)
    except (OSError, ValueError):
        return False


def _default_convert(source: Path, output: Path, quantization: str) -> None:
    from ctranslate2.converters import TransformersConverter

    converter = TransformersConverter(str(source), low_cpu_mem_usage=True)
    converter.convert(str(output), quantization=quantization, force=True)


def convert_once(
    source: Path,
    quantization: str,
    cache_dir: Path,
    *,
    convert: Callable[[Path, Path, str], None] = _default_convert,
    version: str = "",
) -> Path:
    """The cached CT2 conversion of `source`, converting it (atomically) when missing or stale."""
    if not version:
        import ctranslate2

        version = str(ctranslate2.__version__)
    target = cache_path(source, quantization, cache_dir)
    target.parent.mkdir(parents=True, exist_ok=True)
    fingerprint = _fingerprint(source, quantization, version)
    with _file_lock(target.parent / f"{target.name}.lock"):
        if is_converted(target, fingerprint):
            return target
        for leftover in target.parent.glob(f".{target.name}-*"):  # interrupted conversions
            shutil.rmtree(leftover, ignore_errors=True)
        started = time.monotonic()
        logger.info("Converting %s to CTranslate2 %s (once)...", source, quantization)
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
        try:
            convert(source, tmp, quantization)
            publish_folder(tmp, target, MARKER, fingerprint)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        logger.info("Converted in %.1f s -> %s", time.monotonic() - started, target)
    return target
