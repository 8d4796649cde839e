"""`parley slack`: run the Slack adapter (Socket Mode or HTTP Events API)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add this module's commands to the root app (placeholder until the adapter lands)."""
