"""`parley models`: the learning loop's model registry (list, promote, rollback)."""

from __future__ import annotations

import json
from typing import Any

import typer

from bot.cli.common import get_settings, handle_errors

models_app = typer.Typer(
    name="models",
    help="Trained model versions: list, promote, rollback.",
    no_args_is_help=True,
)
KIND_OPTION = typer.Option("translation", "--kind", help="dialogue or translation.")


def register(app: typer.Typer) -> None:
    """Add the `models` command group to the root app."""
    app.add_typer(models_app, name="models")


def _kind(value: str) -> Any:
    from bot.errors import InvalidInputError
    from nlp.learning.examples import KINDS

    if value not in KINDS:
        raise InvalidInputError(f"--kind must be one of {', '.join(KINDS)}, not {value!r}")
    return value


@models_app.command("list")
@handle_errors
def list_models(
    kind: str | None = typer.Option(None, "--kind", help="dialogue or translation (default both)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Model versions with their scores, data and base model; `*` marks the current one."""
    from nlp.learning.examples import KINDS
    from nlp.learning.registry import list_versions, read_pointer

    settings = get_settings()
    rows = []
    for name in [_kind(kind)] if kind else list(KINDS):
        current = (read_pointer(settings, name) or {}).get("version")
        for v in list_versions(settings, name):
            metrics = v.info.get("metrics", {})
            rows.append(
                {
                    "kind": name,
                    "version": v.version,
                    "current": v.version == current,
                    "passed": v.info.get("passed"),
                    "before": metrics.get("before", {}),
                    "after": metrics.get("after", {}),
                    "base_model": v.info.get("base_model"),
                    "data": v.info.get("data", {}).get("version"),
                    "path": str(v.path),
                }
            )
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        typer.echo("No trained models yet: `parley train translation` or `parley train dialogue`.")
    for r in rows:
        mark = "*" if r["current"] else " "
        gate = "passed" if r["passed"] else "failed the gate"
        chrf = f"chrF {r['before'].get('chrf')} -> {r['after'].get('chrf')}"
        typer.echo(
            f"{mark} {r['kind']:<11} {r['version']}  {chrf}  {gate}  data {r['data']}  "
            f"base {r['base_model']}"
        )


@models_app.command("promote")
@handle_errors
def promote_model(version: str = typer.Argument(...), kind: str = KIND_OPTION) -> None:
    """Make VERSION the current model (also one the gate refused: your call)."""
    from nlp.learning.registry import promote

    chosen = promote(get_settings(), _kind(kind), version)
    typer.echo(f"{kind} model {chosen.version} is now current ({chosen.path})")


@models_app.command("rollback")
@handle_errors
def rollback_model(kind: str = KIND_OPTION) -> None:
    """Go back to the previously promoted version (or to the configured base model)."""
    from nlp.learning.registry import rollback

    back = rollback(get_settings(), _kind(kind))
    typer.echo(
        f"{kind}: now {back.version} ({back.path})"
        if back
        else f"{kind}: no promoted version left; the configured base model serves"
    )
