"""Shared CLI plumbing: settings at the entry point, errors turned into clear exits."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from bot.errors import ConfigurationError, ParleyError
from bot.settings import Settings, load_settings

P = ParamSpec("P")
R = TypeVar("R")

err_console = Console(stderr=True)


def get_settings(**overrides: object) -> Settings:
    """Build the settings once per command; invalid settings exit with code 2."""
    clean = {k: v for k, v in overrides.items() if v is not None}
    try:
        settings = load_settings(**clean)
    except ConfigurationError as exc:
        err_console.print(f"[red]Error:[/red] {escape(str(exc))}", soft_wrap=True)
        raise typer.Exit(2) from exc
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    return settings


def handle_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Turn ParleyError into a one-line message and exit code 1 (no traceback)."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except ParleyError as exc:
            err_console.print(f"[red]Error:[/red] {escape(str(exc))}", soft_wrap=True)
            raise typer.Exit(1) from exc

    return wrapper
