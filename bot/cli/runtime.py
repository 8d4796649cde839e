"""`parley worker` and `parley status`: run a Celery worker, inspect the running system."""

from __future__ import annotations

import json
import logging
import os
from contextlib import ExitStack
from typing import Annotated, Any, cast

import typer
from kombu.exceptions import ChannelError
from rich.console import Console
from rich.table import Table

from bot.cli.common import get_settings, handle_errors
from bot.errors import ConfigurationError
from bot.settings import Settings
from workers.app import QUEUES, state_url
from workers.bootstrap import check_services
from workers.embedded import EmbeddedRedis
from workers.redis_client import connect, redact
from workers.runtime import Runtime, configure

console = Console()


def _parse_queues(value: str) -> list[str]:
    queues = [q.strip() for q in value.split(",") if q.strip()]
    unknown = sorted(set(queues) - set(QUEUES))
    if not queues or unknown:
        raise typer.BadParameter(f"queues must be among {','.join(QUEUES)}; got {value!r}")
    return queues


def worker(
    queues: Annotated[str, typer.Option(help="Comma-separated queues to consume")] = "models,io",
    concurrency: Annotated[int | None, typer.Option(help="Processes or threads")] = None,
    pool: Annotated[str, typer.Option(help="prefork, threads or solo")] = "prefork",
    loglevel: Annotated[str, typer.Option(help="Celery log level")] = "INFO",
    hostname: Annotated[str | None, typer.Option(help="Node name (parley-PID@host)")] = None,
) -> None:
    """Run a Celery worker on the configured Redis (or the embedded one when none is set)."""
    handle_errors(_run_worker)(queues, concurrency, pool, loglevel, hostname)


def _run_worker(
    queues: str, concurrency: int | None, pool: str, loglevel: str, hostname: str | None
) -> None:
    chosen = _parse_queues(queues)
    settings = get_settings()
    logging.getLogger().setLevel(loglevel.upper())
    with ExitStack() as stack:
        if settings.embedded:
            server = EmbeddedRedis(settings.data_dir)
            stack.callback(server.stop)
            settings = settings.model_copy(update={"redis_url": server.start()})
            console.print(f"Embedded Redis at {settings.redis_url} (data in {server.dir})")
        check_services(settings)
        runtime = configure(settings, preload=pool == "prefork")
        if pool != "prefork":
            runtime.answerer()
            runtime.start_heartbeat()
        argv = [
            "worker",
            f"--queues={','.join(chosen)}",
            f"--loglevel={loglevel}",
            f"--pool={pool}",
            f"--hostname={hostname or f'parley-{os.getpid()}@%h'}",
            "--without-gossip",
            "--without-mingle",
        ]
        if concurrency is not None:
            argv.append(f"--concurrency={concurrency}")
        runtime.app.worker_main(argv)


def collect_status(runtime: Runtime, *, timeout: float = 1.0) -> dict[str, Any]:
    """Queue depths, live workers, loaded models and Redis health, as plain data."""
    settings = runtime.settings
    client = connect(state_url(settings), retry=False)
    info: dict[str, Any] = client.info()
    policy = str(info.get("maxmemory_policy", "?"))
    status: dict[str, Any] = {
        "redis": {
            "url": redact(state_url(settings)),
            "ping": bool(client.ping()),
            "version": info.get("redis_version"),
            "used_memory": info.get("used_memory_human"),
            "maxmemory_policy": policy,
            "warning": None if policy == "noeviction" else "Celery's Redis must be noeviction",
        },
        "queues": {},
        "workers": {},
        "models": [],
    }
    with runtime.app.connection_for_write() as conn:
        channel = conn.default_channel
        for name in QUEUES:
            try:
                depth = channel.queue_declare(name, passive=True).message_count
            except ChannelError:  # never declared or empty (Redis drops empty lists)
                depth = 0
            status["queues"][name] = depth
    replies = runtime.app.control.inspect(timeout=timeout).ping() or {}
    status["workers"] = {name: reply.get("ok") for name, reply in replies.items()}
    for key in client.scan_iter(match=runtime.keys.workers_pattern(), count=100):
        raw = client.get(key)
        if raw is not None:
            status["models"].append(json.loads(cast(str, raw)))
    client.close()
    return status


def _print_status(status: dict[str, Any]) -> None:
    redis_info = status["redis"]
    console.print(
        f"Redis {redis_info['url']}: ping ok, version {redis_info['version']}, "
        f"memory {redis_info['used_memory']}, maxmemory-policy {redis_info['maxmemory_policy']}"
    )
    if redis_info["warning"]:
        console.print(f"[yellow]Warning:[/yellow] {redis_info['warning']}")
    for name, depth in status["queues"].items():
        console.print(f"Queue {name}: {depth} waiting")
    console.print(f"Live workers: {len(status['workers'])} " + " ".join(sorted(status["workers"])))
    table = Table("host", "pid", "tasks", "model loaded", "dialogue model", "load s")
    for beat in status["models"]:
        models = beat.get("models", {})
        table.add_row(
            str(beat["hostname"]),
            str(beat["pid"]),
            str(beat.get("tasks", 0)),
            "yes" if models.get("loaded") else "no",
            str(models.get("dialogue_model", "-")),
            str(models.get("load_seconds", "-")),
        )
    console.print(table)


def status(
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output")] = False,
    timeout: Annotated[
        float, typer.Option(help="Seconds to wait for workers to answer the ping")
    ] = 1.0,
) -> None:
    """Queue depths, live workers, loaded models and Redis health."""
    handle_errors(_status)(as_json, timeout)


def _status(as_json: bool, timeout: float = 1.0) -> None:
    settings: Settings = get_settings()
    if settings.embedded:
        raise ConfigurationError(
            "`parley status` inspects a shared deployment: set PARLEY_REDIS_URL (the embedded "
            "Redis lives only as long as `parley chat`/`ask`/`worker` runs)"
        )
    check_services(settings)
    result = collect_status(configure(settings), timeout=timeout)
    if as_json:
        typer.echo(json.dumps(result, indent=2))
    else:
        _print_status(result)


def register(app: typer.Typer) -> None:
    """Add `worker` and `status` to the root app."""
    app.command()(worker)
    app.command()(status)
