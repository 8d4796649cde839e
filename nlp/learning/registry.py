"""Model versions on disk, and the `current` pointer the workers poll.

Layout under `<data dir>/models/<kind>/`:
  versions/<version>/         one trained model: weights, tokenizer, `version.json`, `report.json`,
                              `report.png`. A version folder appears only by a rename once complete.
  .tmp-*/                     runs in progress (or killed): never listed, never promotable.
  current.json                {"version", "path", "promoted_at", "previous"}: replaced atomically
                              (write a temp file, fsync, rename), so readers see old or new.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.settings import Settings
from nlp.learning.errors import RegistryError
from nlp.learning.examples import Kind

VERSION_FILE = "version.json"
POINTER = "current.json"


@dataclass(frozen=True, slots=True)
class ModelVersion:
    kind: Kind
    version: str
    path: Path
    info: dict[str, Any]

    @property
    def promoted(self) -> bool:
        return bool(self.info.get("promoted"))


def registry_dir(settings: Settings, kind: Kind) -> Path:
    return settings.learning_root / "models" / kind


def write_json_atomic(path: Path, data: Any) -> None:
    """Write JSON so a reader (or a crash) sees either the old file or the whole new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}-", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=2, ensure_ascii=False)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def read_json(path: Path) -> dict[str, Any] | None:
    """A JSON object from `path`, or None when it is missing or unreadable."""
    try:
        data = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def staging_dir(settings: Settings, kind: Kind) -> Path:
    """A fresh temporary folder to train into; `commit_version` renames it into place."""
    root = registry_dir(settings, kind)
    root.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=".tmp-", dir=root))


def new_version_name() -> str:
    return time.strftime("v%Y%m%d-%H%M%S", time.gmtime()) + f"-{os.getpid() % 1000:03d}"


def commit_version(settings: Settings, kind: Kind, staging: Path, info: dict[str, Any]) -> Path:
    """Write `version.json` last, then rename the staging folder into `versions/`."""
    version = str(info["version"])
    write_json_atomic(staging / VERSION_FILE, info)
    target = registry_dir(settings, kind) / "versions" / version
    target.parent.mkdir(parents=True, exist_ok=True)
    staging.chmod(0o755)
    os.rename(staging, target)
    _fsync_dir(target.parent)
    return target


def list_versions(settings: Settings, kind: Kind) -> list[ModelVersion]:
    """Complete versions, oldest first."""
    root = registry_dir(settings, kind) / "versions"
    out = []
    for folder in sorted(root.glob("*")) if root.is_dir() else []:
        try:
            info = json.loads((folder / VERSION_FILE).read_text("utf-8"))
        except (OSError, ValueError):
            continue  # not a complete version
        out.append(ModelVersion(kind, folder.name, folder, info))
    return out


def get_version(settings: Settings, kind: Kind, version: str) -> ModelVersion:
    for found in list_versions(settings, kind):
        if found.version == version:
            return found
    known = ", ".join(v.version for v in list_versions(settings, kind)) or "none yet"
    raise RegistryError(f"No {kind} model version {version!r}; versions: {known}")


def read_pointer(settings: Settings, kind: Kind) -> dict[str, Any] | None:
    return read_json(registry_dir(settings, kind) / POINTER)


def current_version(settings: Settings, kind: Kind) -> ModelVersion | None:
    pointer = read_pointer(settings, kind)
    if not pointer:
        return None
    try:
        return get_version(settings, kind, str(pointer["version"]))
    except (RegistryError, KeyError):
        return None


def current_model(kind: Kind, settings: Settings) -> Path | None:
    """The promoted model's folder for `kind`, or None (then the configured model serves)."""
    found = current_version(settings, kind)
    return found.path if found is not None else None


def promote(settings: Settings, kind: Kind, version: str) -> ModelVersion:
    """Point `current` at `version` (any complete version, e.g. one the gate refused)."""
    chosen = get_version(settings, kind, version)
    pointer = read_pointer(settings, kind) or {}
    history = list(pointer.get("history", []))
    if pointer.get("version") and pointer.get("version") != version:
        history.append(pointer["version"])
    write_json_atomic(
        registry_dir(settings, kind) / POINTER,
        {
            "version": version,
            "path": str(chosen.path),
            "promoted_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "history": history[-50:],
        },
    )
    info = dict(chosen.info, promoted=True)
    write_json_atomic(chosen.path / VERSION_FILE, info)
    return ModelVersion(kind, version, chosen.path, info)


def rollback(settings: Settings, kind: Kind) -> ModelVersion | None:
    """Go back to the previously promoted version; None = back to the configured base model."""
    pointer = read_pointer(settings, kind)
    if not pointer:
        raise RegistryError(f"No {kind} model is promoted; nothing to roll back")
    history = list(pointer.get("history", []))
    known = {v.version for v in list_versions(settings, kind)}
    while history:
        previous = history.pop()
        if previous in known:
            chosen = get_version(settings, kind, previous)
            write_json_atomic(
                registry_dir(settings, kind) / POINTER,
                dict(
                    pointer,
                    version=previous,
                    path=str(chosen.path),
                    history=history,
                    promoted_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                ),
            )
            return chosen
    (registry_dir(settings, kind) / POINTER).unlink()
    return None


def remove_stale_staging(settings: Settings, kind: Kind, older_than: float = 24 * 3600) -> int:
    """Delete leftovers of killed runs (never promotable anyway); returns how many."""
    removed = 0
    for folder in registry_dir(settings, kind).glob(".tmp-*"):
        if time.time() - folder.stat().st_mtime > older_than:
            shutil.rmtree(folder, ignore_errors=True)
            removed += 1
    return removed
