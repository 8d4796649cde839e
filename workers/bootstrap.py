"""Setting up a client process (`parley ask`, `parley chat`): embedded or configured Redis."""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager

from bot.errors import ParleyError
from bot.settings import Settings
from workers.app import broker_url, state_url
from workers.embedded import EmbeddedRedis, InProcessWorker
from workers.redis_client import check_reachable
from workers.runtime import Runtime, configure

log = logging.getLogger(__name__)

Progress = Callable[[str], None]
SAMPLE_KB_MODULES = ("retrieval.factory", "retrieval.sample", "retrieval")
DEFAULT_ANSWERER = Settings.model_fields["answerer_factory"].default


def check_services(settings: Settings) -> None:
    """Fail fast with a clear ParleyError when the configured Redis is unreachable."""
    check_reachable(state_url(settings))
    broker = broker_url(settings)
    if broker.startswith(("redis://", "rediss://", "unix://")) and broker != state_url(settings):
        check_reachable(broker, variable="PARLEY_BROKER_URL")


def ensure_sample_knowledge_base(settings: Settings, progress: Progress) -> None:
    """Install the sample knowledge base when the retrieval package offers it (first run)."""
    for name in SAMPLE_KB_MODULES:
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        ensure = getattr(module, "ensure_sample_knowledge_base", None)
        if ensure is not None:
            progress("Preparing the sample knowledge base")
            try:
                ensure(settings)
            except ParleyError:
                raise
            except Exception as exc:
                raise ParleyError(
                    f"Could not install the sample knowledge base ({type(exc).__name__}: {exc}); "
                    "add your documents with `parley kb ingest PATH`"
                ) from exc
            return
    log.warning(
        "no sample knowledge base helper found (retrieval.sample); "
        "add documents with `parley kb` if answers escalate for lack of sources"
    )


@contextmanager
def client_runtime(settings: Settings, *, progress: Progress = log.info) -> Iterator[Runtime]:
    """A configured runtime for a terminal session.

    With no PARLEY_REDIS_URL: start the embedded Redis and an in-process worker (models load
    here, with progress reported). Otherwise: check Redis and enqueue to the running workers.
    """
    with ExitStack() as stack:
        embedded = settings.embedded
        if embedded:
            progress("Starting the embedded Redis")
            server = EmbeddedRedis(settings.data_dir)
            stack.callback(server.stop)
            settings = settings.model_copy(update={"redis_url": server.start()})
        check_services(settings)
        runtime = configure(settings)
        if embedded:
            if settings.answerer_factory == DEFAULT_ANSWERER:
                # The sample documents feed the built-in retrieval answerer; others bring theirs.
                ensure_sample_knowledge_base(settings, progress)
            progress("Loading models (the first run converts them; later loads take seconds)")
            runtime.answerer()
            progress("Starting the in-process worker")
            worker = InProcessWorker(runtime.app, loglevel=settings.log_level)
            stack.callback(worker.stop)
            worker.start()
            runtime.start_heartbeat()
        yield runtime
