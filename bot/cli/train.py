"""`parley train dialogue|translation`: fine-tune on the collected data, evaluate, maybe promote."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from bot.cli.common import get_settings, handle_errors


def register(app: typer.Typer) -> None:
    """Add the `train` command to the root app."""
    app.command("train")(train)


@handle_errors
def train(
    kind: str = typer.Argument(..., help="dialogue or translation."),
    data: Path | None = typer.Option(None, "--data", help="A dataset version folder."),
    base: str | None = typer.Option(None, "--base", help="Model to start from."),
    max_examples: int | None = typer.Option(None, "--max-examples", min=1),
    epochs: int | None = typer.Option(None, "--epochs", min=1),
    batch_size: int | None = typer.Option(None, "--batch-size", min=1),
    method: str | None = typer.Option(None, "--method", help="lora or full."),
    no_promote: bool = typer.Option(
        False, "--no-promote", help="Evaluate and keep, never promote."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
) -> None:
    """Fine-tune on the held-in splits, score old and new on the test split, promote if better."""
    from bot.errors import InvalidInputError
    from nlp.learning.examples import KINDS
    from nlp.learning.pipeline import RunOptions, run_training

    if kind not in KINDS:
        raise InvalidInputError(f"KIND must be one of {', '.join(KINDS)}, not {kind!r}")
    if method not in (None, "lora", "full"):
        raise InvalidInputError("--method is lora or full")
    options = RunOptions(
        kind=kind,
        data=data,
        base=base,
        max_examples=max_examples,  # type: ignore[arg-type]
        epochs=epochs,
        batch_size=batch_size,
        method=method,  # type: ignore[arg-type]
        promote=not no_promote,
        progress=not as_json,
    )
    report = run_training(get_settings(), options)
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "version": report.version,
                    "path": str(report.path),
                    "promoted": report.promoted,
                    "reason": report.reason,
                    "before": report.before,
                    "after": report.after,
                    "data": report.data,
                    "timings": report.timings,
                },
                indent=2,
            )
        )
        return
    verdict = "promoted" if report.promoted else "kept, not promoted"
    typer.echo(f"{kind} model {report.version}: {verdict} ({report.reason})")
    typer.echo(f"report: {report.path / 'report.json'}, chart: {report.path / 'report.png'}")
