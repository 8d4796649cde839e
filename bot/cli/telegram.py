"""`parley telegram`: run the Telegram adapter (long polling or webhook)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add this module's commands to the root app (placeholder until the adapter lands)."""
