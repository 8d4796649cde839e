"""`parley config`: print the effective settings, secrets masked."""

from __future__ import annotations

import json

import typer

from bot.cli.common import get_settings


def register(app: typer.Typer) -> None:
    app.command("config")(show_config)


def show_config(
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """Print the effective settings (from PARLEY_* variables and .env), secrets masked."""
    settings = get_settings()
    values = settings.masked()
    values["knowledge_base_dir"] = str(settings.knowledge_base_dir)
    if as_json:
        typer.echo(json.dumps(values, indent=2, default=str))
        return
    width = max(len(k) for k in values)
    for key, value in values.items():
        typer.echo(f"{('PARLEY_' + key.upper()).ljust(width + 7)}  {value}")
