"""Versioned JSONL datasets on disk, one per kind (dialogue, translation).

Layout under `<learning dir>/datasets/<kind>/`:
  <version>/{train,validation,test}.jsonl and manifest.json; `version` is the content hash of
  the sorted example ids, so the same data always has the same version.
  current.json  -> {"version": ...}, replaced atomically.
Every write builds a complete new version in a temp folder (fsync), renames it into place and then
moves the pointer, under a file lock; older versions are removed (the newest few kept).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from bot.errors import InvalidInputError
from bot.settings import Settings
from nlp.learning.examples import SPLITS, Example, Kind, Split
from nlp.learning.registry import read_json, write_json_atomic

log = logging.getLogger(__name__)

KEEP_VERSIONS = 3
POINTER = "current.json"


@dataclass(slots=True)
class LoadedDataset:
    kind: Kind
    version: str | None
    path: Path | None
    splits: dict[Split, list[Example]] = field(default_factory=dict)
    corrupt: list[str] = field(default_factory=list)  # "file:line: why", reported and skipped

    def all(self) -> list[Example]:
        return [e for split in SPLITS for e in self.splits.get(split, [])]


def dataset_dir(settings: Settings, kind: Kind) -> Path:
    return settings.learning_root / "datasets" / kind


@contextmanager
def dataset_lock(settings: Settings, kind: Kind) -> Iterator[None]:
    """One writer per dataset at a time (collector, import, forget)."""
    folder = dataset_dir(settings, kind)
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / ".lock").open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def read_jsonl(path: Path, corrupt: list[str]) -> list[Example]:
    """Examples of one JSONL file; bad lines are described in `corrupt` and skipped."""
    out = []
    with path.open(encoding="utf-8", errors="replace") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                out.append(Example.from_dict(json.loads(line)))
            except (ValueError, TypeError, InvalidInputError) as exc:
                corrupt.append(f"{path.name}:{number}: {exc}")
    return out


def load_dataset(settings: Settings, kind: Kind, folder: Path | None = None) -> LoadedDataset:
    """The current version of a dataset (or the dataset in `folder`); empty when none yet."""
    if folder is None:
        pointer = read_json(dataset_dir(settings, kind) / POINTER)
        version = str(pointer["version"]) if pointer and pointer.get("version") else None
        folder = dataset_dir(settings, kind) / version if version else None
    else:
        version = (read_json(folder / "manifest.json") or {}).get("version") or folder.name
    loaded = LoadedDataset(kind, version, folder)
    for split in SPLITS:
        path = folder / f"{split}.jsonl" if folder is not None else None
        rows = read_jsonl(path, loaded.corrupt) if path is not None and path.is_file() else []
        loaded.splits[split] = [e for e in rows if e.kind == kind]
    return loaded


def content_version(examples: Iterable[Example]) -> str:
    digest = hashlib.sha256("\n".join(sorted(e.id for e in examples)).encode())
    return digest.hexdigest()[:16]


def _write_lines(path: Path, examples: list[Example]) -> None:
    with path.open("w", encoding="utf-8") as handle:
        for example in examples:
            handle.write(json.dumps(example.to_dict(), ensure_ascii=False) + "\n")
        handle.flush()
        os.fsync(handle.fileno())


def write_dataset(settings: Settings, kind: Kind, examples: list[Example]) -> str:
    """Write `examples` (deduplicated by id, first kept) as a new version; returns it. Call
    under `dataset_lock`. Durable when it returns (files and folder fsynced, then renamed)."""
    unique: dict[str, Example] = {}
    for example in examples:
        unique.setdefault(example.id, example)
    version = content_version(unique.values())
    root = dataset_dir(settings, kind)
    target = root / version
    if not target.is_dir():
        tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=root))
        try:
            for split in SPLITS:
                rows = sorted((e for e in unique.values() if e.split == split), key=lambda e: e.id)
                _write_lines(tmp / f"{split}.jsonl", rows)
            counts = {s: sum(1 for e in unique.values() if e.split == s) for s in SPLITS}
            write_json_atomic(
                tmp / "manifest.json",
                {"version": version, "kind": kind, "examples": len(unique), "splits": counts},
            )
            tmp.chmod(0o755)
            os.rename(tmp, target)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    write_json_atomic(root / POINTER, {"version": version})
    _prune(root, keep=version)
    return version


def _prune(root: Path, keep: str) -> None:
    versions = sorted(
        (p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")),
        key=lambda p: p.stat().st_mtime,
    )
    for old in versions[:-KEEP_VERSIONS]:
        if old.name != keep:
            shutil.rmtree(old, ignore_errors=True)


def add_examples(settings: Settings, kind: Kind, new: list[Example]) -> tuple[str | None, int]:
    """Merge `new` into the current dataset; returns (version, how many were not seen before)."""
    with dataset_lock(settings, kind):
        current = load_dataset(settings, kind)
        known = {e.id for e in current.all()}
        fresh = [e for e in new if e.id not in known]
        if not fresh and current.version is not None:
            return current.version, 0
        fresh_ids = {e.id for e in fresh}
        return write_dataset(settings, kind, current.all() + fresh), len(fresh_ids)


def forget_user(settings: Settings, kind: Kind, user: str) -> int:
    """Remove every example of `user` from the dataset, old versions included; returns count."""
    with dataset_lock(settings, kind):
        current = load_dataset(settings, kind)
        kept = [e for e in current.all() if e.user != user]
        removed = len(current.all()) - len(kept)
        root = dataset_dir(settings, kind)
        version = write_dataset(settings, kind, kept) if current.version or kept else None
        for folder in root.iterdir():  # older versions may still hold the user's examples
            if folder.is_dir() and folder.name != version:
                shutil.rmtree(folder, ignore_errors=True)
        return removed
