"""The process-level runtime: settings, Celery app, Redis clients and the lazily loaded answerer.

The entry point (CLI, test) calls `configure(settings)` once; tasks call `current()`. Models load
once per worker process: at `worker_process_init` for prefork children, otherwise on first use.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import socket
import threading
import time
from typing import TYPE_CHECKING, Any, cast

import redis
from celery import Celery
from celery.signals import worker_process_init

from bot.errors import ConfigurationError, ParleyError
from bot.settings import Settings
from nlp.inference import InferenceOptions, configure_inference
from nlp.learning.watcher import ModelWatcher, with_promoted
from nlp.types import Answerer
from workers.app import create_celery_app, state_url
from workers.delivery import Deliverer, build_deliverers
from workers.keys import Keys
from workers.preferences import PreferenceStore
from workers.redis_client import connect
from workers.state import ConversationStore
from workers.thread_log import ThreadLog

if TYPE_CHECKING:
    from nlp.translation.chat import ChatTranslator

log = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 30
HEARTBEAT_TTL = 90


def _import_factory(variable: str, reference: str) -> Any:
    """The `module:function` named by a factory setting; ConfigurationError naming the variable."""
    module_name, _, func_name = reference.partition(":")
    try:
        return getattr(importlib.import_module(module_name), func_name)
    except (ImportError, AttributeError) as exc:
        raise ConfigurationError(f"{variable}={reference!r} cannot be imported: {exc}") from exc


def load_answerer(settings: Settings) -> Answerer:
    """Import and call the `module:function` factory named by PARLEY_ANSWERER_FACTORY."""
    factory = _import_factory("PARLEY_ANSWERER_FACTORY", settings.answerer_factory)
    return cast(Answerer, factory(settings))


def load_translator(settings: Settings) -> ChatTranslator:
    """Import and call the `module:function` factory named by PARLEY_TRANSLATOR_FACTORY."""
    factory = _import_factory("PARLEY_TRANSLATOR_FACTORY", settings.translator_factory)
    return cast("ChatTranslator", factory(settings))


class Runtime:
    """Everything a task needs, created once per process."""

    def __init__(self, settings: Settings, app: Celery) -> None:
        self.settings = settings
        self.app = app
        self.keys = Keys(settings.namespace)
        self._lock = threading.Lock()
        self._redis: redis.Redis | None = None
        # Watchers serve the configured (or promoted, docs/learning.md) model and swap in a newly
        # promoted one once it has loaded, without a restart.
        self._answerer: ModelWatcher[Answerer] | None = None
        self._translator: ModelWatcher[ChatTranslator] | None = None
        self._deliverers: dict[str, Deliverer] | None = None
        self.model_info: dict[str, Any] = {"loaded": False}
        self.tasks_done = 0
        self._heartbeat: threading.Thread | None = None

    @property
    def redis(self) -> redis.Redis:
        """The state Redis client (reconnects, retries short outages)."""
        if self._redis is None:
            self._redis = connect(state_url(self.settings))
        return self._redis

    @property
    def conversations(self) -> ConversationStore:
        """Conversation turns, dedupe and answered-event records."""
        return ConversationStore(self.redis, self.settings)

    @property
    def thread_log(self) -> ThreadLog:
        """What was said per channel (summaries)."""
        return ThreadLog(self.redis, self.settings)

    @property
    def preferences(self) -> PreferenceStore:
        """Channel and user settings."""
        return PreferenceStore(self.redis, self.settings.namespace)

    @property
    def deliverers(self) -> dict[str, Deliverer]:
        """Deliverers by platform, built on first use."""
        if self._deliverers is None:
            self._deliverers = build_deliverers(self.settings, self.redis)
        return self._deliverers

    def answerer(self) -> Answerer:
        """The answerer, loaded on first call; a promoted dialogue model replaces it live."""
        with self._lock:
            if self._answerer is None:
                started = time.monotonic()
                log.info("loading answerer %s", self.settings.answerer_factory)
                settings = self.settings
                self._answerer = ModelWatcher(
                    "dialogue", settings,
                    lambda path: load_answerer(with_promoted("dialogue", settings, path)),
                )  # fmt: skip
                self.model_info = {
                    "loaded": True,
                    "factory": self.settings.answerer_factory,
                    "dialogue_model": self.settings.dialogue_model,
                    "embedding_model": self.settings.embedding_model,
                    "load_seconds": round(time.monotonic() - started, 2),
                    "loaded_at": time.time(),
                }
                log.info("answerer loaded in %.1f s", self.model_info["load_seconds"])
                self.write_heartbeat()
        return self._answerer.value

    def translator(self) -> ChatTranslator:
        """The chat-safe translator, built on first call and kept for the life of the process
        (its models load on the first translation of each language pair)."""
        with self._lock:
            if self._translator is None:
                log.info("building translator %s", self.settings.translator_factory)
                settings = self.settings
                self._translator = ModelWatcher(
                    "translation", settings,
                    lambda path: load_translator(with_promoted("translation", settings, path)),
                )  # fmt: skip
        return self._translator.value

    def after_fork(self) -> None:
        """Drop connections inherited from the parent process."""
        self._redis = None
        self._deliverers = None
        self._heartbeat = None

    def write_heartbeat(self) -> None:
        """Record this process and its models for `parley status` (expires when it dies)."""
        pid = os.getpid()
        payload = {"hostname": socket.gethostname(), "pid": pid, "tasks": self.tasks_done}
        payload["models"] = self.model_info
        try:
            key = self.keys.worker(socket.gethostname(), pid)
            self.redis.set(key, json.dumps(payload), ex=HEARTBEAT_TTL)
        except redis.RedisError as exc:
            log.warning("heartbeat not written: %s", exc)

    def start_heartbeat(self) -> None:
        """Write the heartbeat now and every HEARTBEAT_SECONDS from a daemon thread."""
        if self._heartbeat is not None:
            return

        def beat() -> None:
            while True:
                self.write_heartbeat()
                time.sleep(HEARTBEAT_SECONDS)

        self._heartbeat = threading.Thread(target=beat, name="parley-heartbeat", daemon=True)
        self._heartbeat.start()


_state: dict[str, Any] = {"runtime": None, "preload": False}


def configure(settings: Settings, *, preload: bool = False) -> Runtime:
    """Create this process's runtime; `preload` loads models in each prefork child at start."""
    # Drafting and translation run on the configured backend behind one batcher per model.
    configure_inference(InferenceOptions.from_settings(settings))
    runtime = Runtime(settings, create_celery_app(settings))
    _state["runtime"] = runtime
    _state["preload"] = preload
    return runtime


def current() -> Runtime:
    """The runtime `configure` created; ConfigurationError when none was."""
    runtime = _state["runtime"]
    if runtime is None:
        raise ConfigurationError("Parley's runtime is not configured (call workers.configure)")
    return cast(Runtime, runtime)


@worker_process_init.connect  # type: ignore[untyped-decorator]
def _on_process_init(**_: Any) -> None:
    runtime = _state["runtime"]
    if runtime is None:
        return
    runtime.after_fork()
    if _state["preload"]:
        try:
            runtime.answerer()
        except ParleyError as exc:
            # Keep the child alive: each task will report the problem to the user instead.
            log.error("answerer not loaded at start: %s", exc)
    # After the load: a beat racing the load could overwrite "loaded" with a stale payload.
    runtime.start_heartbeat()
