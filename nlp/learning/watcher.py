"""`ModelWatcher`: pick up a promoted model without restarting the worker.

The worker keeps serving the model it has; `poll()` (cheap: one stat of the pointer file, at most
every `learning_poll_seconds`) notices a new `current.json`, loads the new model on a background
thread and swaps it in only once it has loaded. A model that fails to load is logged and the old
one keeps serving.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Generic, TypeVar

from bot.settings import Settings
from nlp.learning.examples import Kind
from nlp.learning.registry import POINTER, current_model, registry_dir

log = logging.getLogger(__name__)

T = TypeVar("T")


class ModelWatcher(Generic[T]):
    """Holds the serving model of one kind and reloads it when a new version is promoted.

    `load(path)` builds the serving object from a model folder; `path` is None when nothing is
    promoted (or after a rollback to the base), then `load` should build the configured model.
    """

    def __init__(
        self,
        kind: Kind,
        settings: Settings,
        load: Callable[[Path | None], T],
        *,
        initial: T | None = None,
        background: bool = True,
    ) -> None:
        self.kind, self.settings, self._load = kind, settings, load
        self._pointer = registry_dir(settings, kind) / POINTER
        self._background = background
        self._lock = threading.Lock()
        self._loading: threading.Thread | None = None
        self._checked = 0.0
        self._stamp = self._read_stamp()
        self.path = current_model(kind, settings)
        self._value = initial if initial is not None else load(self.path)

    def _read_stamp(self) -> tuple[int, int] | None:
        try:
            stat = self._pointer.stat()
        except OSError:
            return None
        return (stat.st_mtime_ns, stat.st_ino)

    @property
    def value(self) -> T:
        """The model serving now (the old one until a new one has fully loaded)."""
        self.poll()
        with self._lock:
            return self._value

    def poll(self, *, force: bool = False) -> bool:
        """Check the pointer (at most every `learning_poll_seconds`); True if a reload started."""
        now = time.monotonic()
        if not force and now - self._checked < self.settings.learning_poll_seconds:
            return False
        self._checked = now
        stamp = self._read_stamp()
        if stamp == self._stamp or (self._loading is not None and self._loading.is_alive()):
            return False
        path = current_model(self.kind, self.settings)
        self._stamp = stamp
        if path == self.path:
            return False
        if self._background:
            self._loading = threading.Thread(target=self._swap, args=(path,), daemon=True)
            self._loading.start()
        else:
            self._swap(path)
        return True

    def _swap(self, path: Path | None) -> None:
        started = time.monotonic()
        try:
            value = self._load(path)
        except Exception:  # the old model keeps serving; the operator sees why in the log
            log.exception("learning: could not load promoted %s model %s", self.kind, path)
            return
        with self._lock:
            self._value, self.path = value, path
        log.info(
            "learning: now serving %s model %s (loaded in %.1f s)",
            self.kind,
            path or "base",
            time.monotonic() - started,
        )

    def wait(self, timeout: float | None = None) -> None:
        """Block until a reload in progress has finished (tests, CLI)."""
        if self._loading is not None:
            self._loading.join(timeout)


def with_promoted(kind: Kind, settings: Settings, path: Path | None) -> Settings:
    """`settings` with the promoted model of `kind` in place of the configured one (or as they
    are when `path` is None): what a worker's loader passes to the usual factory."""
    if path is None:
        return settings
    if kind == "dialogue":
        return settings.model_copy(update={"dialogue_model": str(path)})
    models = {**settings.translation_models, "*": str(path)}
    return settings.model_copy(update={"translation_models": models})
