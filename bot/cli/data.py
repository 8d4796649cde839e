"""`parley data`: collect, inspect, export, import and forget the learning loop's training data."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import typer

from bot.cli.common import get_settings, handle_errors
from bot.settings import Settings

data_app = typer.Typer(
    name="data",
    help="Training data of the learning loop: collect, stats, export, import, forget.",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    """Add the `data` command group to the root app."""
    app.add_typer(data_app, name="data")


@contextmanager
def redis_client(settings: Settings) -> Iterator[Any]:
    """A client on PARLEY_REDIS_URL, or on the embedded Redis (started for the command)."""
    from workers.embedded import EmbeddedRedis
    from workers.redis_client import check_reachable, connect

    with ExitStack() as stack:
        url = settings.redis_url
        if url is None:
            server = EmbeddedRedis(settings.data_dir)
            stack.callback(server.stop)
            url = server.start()
        check_reachable(url)
        client = connect(url)
        stack.callback(client.close)
        yield client


def _collect(settings: Settings) -> str:
    from nlp.learning.streams import collect

    with redis_client(settings) as client:
        result = collect(client, settings)
    added = ", ".join(f"{n} {k}" for k, n in result.added.items()) or "none"
    return (
        f"collected {result.read} stream entries: new examples {added}; {result.skipped} with "
        f"nothing to learn; {result.corrupt} unreadable (kept in datasets/rejected.jsonl)"
    )


NO_COLLECT = typer.Option(False, "--no-collect", help="Do not drain the Redis streams first.")


@data_app.command("collect")
@handle_errors
def collect_command() -> None:
    """Drain the review-decision and translation-correction streams into the datasets."""
    typer.echo(_collect(get_settings()))


@data_app.command("stats")
@handle_errors
def stats(
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    no_collect: bool = NO_COLLECT,
) -> None:
    """Examples per dataset and split, the dataset versions, corrupt lines."""
    from nlp.learning.datasets import load_dataset
    from nlp.learning.examples import KINDS, SPLITS

    settings = get_settings()
    note = "" if no_collect else _collect(settings)
    out: dict[str, Any] = {}
    for kind in KINDS:
        loaded = load_dataset(settings, kind)
        out[kind] = {
            "version": loaded.version,
            "path": str(loaded.path or ""),
            **{s: len(loaded.splits[s]) for s in SPLITS},
            "corrupt_lines": len(loaded.corrupt),
        }
    if as_json:
        typer.echo(json.dumps(out, indent=2))
        return
    if note:
        typer.echo(note)
    for name, row in out.items():
        typer.echo(
            f"{name}: {row['train']} train, {row['validation']} validation, {row['test']} test "
            f"(version {row['version'] or 'none'}; {row['corrupt_lines']} corrupt lines)"
        )


@data_app.command("export")
@handle_errors
def export(
    out: Path = typer.Option(Path("parley-data"), "--out", help="Folder to write into."),
    no_collect: bool = NO_COLLECT,
) -> None:
    """Copy the current datasets (JSONL per split, plus manifest) into --out/<kind>/."""
    from nlp.learning.datasets import load_dataset
    from nlp.learning.examples import KINDS

    settings = get_settings()
    if not no_collect:
        typer.echo(_collect(settings))
    for kind in KINDS:
        loaded = load_dataset(settings, kind)
        if loaded.path is None:
            typer.echo(f"{kind}: no data yet")
            continue
        target = out / kind
        target.mkdir(parents=True, exist_ok=True)
        for file in loaded.path.iterdir():
            shutil.copy2(file, target / file.name)
        typer.echo(f"{kind}: version {loaded.version}, {len(loaded.all())} examples -> {target}")
    typer.echo("Exports are copies: `parley data forget` cannot reach them; delete them yourself.")


@data_app.command("import")
@handle_errors
def import_pairs(
    file: Path = typer.Argument(..., help="A .tsv (source<TAB>translation) or .jsonl file."),
    source: str | None = typer.Option(None, "--from", help="Source language of lines without one."),
    target: str | None = typer.Option(None, "--to", help="Target language of lines without one."),
) -> None:
    """Add translation pairs to the translation dataset (bad lines are reported and skipped)."""
    from nlp.learning.datasets import add_examples
    from nlp.learning.imports import read_pairs

    settings = get_settings()
    result = read_pairs(file, source=source, target=target)
    for problem in result.bad_lines[:20]:
        typer.echo(f"skipped {problem}", err=True)
    if len(result.bad_lines) > 20:
        typer.echo(f"... and {len(result.bad_lines) - 20} more bad lines", err=True)
    version, fresh = (
        add_examples(settings, "translation", result.examples) if result.examples else (None, 0)
    )
    typer.echo(
        f"{len(result.examples)} pairs read, {fresh} new, {len(result.bad_lines)} bad lines "
        f"skipped; translation dataset version {version or 'unchanged'}"
    )
    if not result.examples:
        raise typer.Exit(1)


@data_app.command("forget")
@handle_errors
def forget(
    user: str = typer.Argument(..., help="The person, as platform:user_id (e.g. telegram:42)."),
    yes: bool = typer.Option(False, "--yes", help="Do not ask for confirmation."),
) -> None:
    """Delete a person's examples from every dataset version and their stream entries."""
    from bot.errors import InvalidInputError
    from nlp.learning.datasets import forget_user
    from nlp.learning.examples import KINDS
    from nlp.learning.streams import forget_in_streams

    if ":" not in user:
        raise InvalidInputError("USER is platform:user_id, e.g. slack:U123 or telegram:42")
    if not yes:
        typer.confirm(f"Delete all training data of {user}?", abort=True)
    settings = get_settings()
    with redis_client(settings) as client:
        entries = forget_in_streams(client, settings, user)
    removed = {kind: forget_user(settings, kind, user) for kind in KINDS}
    typer.echo(
        f"{user}: {sum(removed.values())} examples removed from the datasets "
        f"({', '.join(f'{k} {n}' for k, n in removed.items())}), {entries} stream entries "
        "deleted. Trained model versions keep what they learnt; exports are not touched."
    )
