"""The `parley` command line: one Typer app, one module per command group."""

from __future__ import annotations

import typer

from bot.cli import (
    chat,
    config,
    content,
    data,
    kb,
    models,
    runtime,
    slack,
    telegram,
    train,
    translate,
)

app = typer.Typer(
    name="parley",
    help="Parley: a self-hosted multilingual support bot for Slack and Telegram.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _root() -> None:
    """Parley: answers support questions from your knowledge base, in the asker's language."""


config.register(app)
kb.register(app)
runtime.register(app)
chat.register(app)
translate.register(app)
content.register(app)
slack.register(app)
telegram.register(app)
data.register(app)
models.register(app)
train.register(app)


def main() -> None:
    """Console-script entry point."""
    app()
