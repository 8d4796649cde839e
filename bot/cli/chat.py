"""`parley ask` and `parley chat`: the terminal as a chat platform, through the full pipeline."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console
from rich.live import Live
from rich.markup import escape
from rich.status import Status
from rich.text import Text

from bot.cli.common import get_settings, handle_errors
from bot.errors import ParleyError
from bot.local import LocalChannel, Reply
from bot.markdown import spans
from workers.bootstrap import client_runtime

console = Console()
err_console = Console(stderr=True)

QUIT = {"/quit", "/exit", "/q"}


def _answer_line(text: str) -> Text:
    styles = {"text": "", "bold": "bold", "code": "cyan"}
    return Text.assemble(("parley> ", "bold green"), *((p, styles[k]) for k, p in spans(text)))


class _Streamed:
    """The answer redrawn in place while it is drafted; the final text replaces it, so the
    screen (or a pipe, which sees only the final draw) shows the answer once."""

    def __init__(self, status: Status) -> None:
        self._status = status
        self._live: Live | None = None

    def partial(self, text: str) -> None:
        if self._live is None:
            self._status.stop()
            self._live = Live(_answer_line(text), console=console, auto_refresh=False)
            self._live.start()
        self._live.update(_answer_line(text), refresh=True)

    def finish(self, reply: Reply | None) -> bool:
        """Draw the final answer (None: keep the last draw); False when nothing was streamed."""
        if self._live is None:
            return False
        if reply is not None:
            self._live.update(_answer_line(reply.text), refresh=True)
        self._live.stop()
        self._live = None
        if not console.is_terminal:
            console.line()  # Live ends its line only on a terminal
        return True


def _render(reply: Reply, *, streamed: bool = False) -> None:
    if not streamed:
        console.print(_answer_line(reply.text))
    draft = reply.draft
    if draft is None:
        return
    for citation in draft.citations:
        title = citation.title or citation.doc_id
        console.print(f"  [dim]source: {title} ({citation.source})[/dim]")
    for related in draft.suggestions:
        console.print(f"  [dim]see also: {related.get('title') or related.get('doc_id')}[/dim]")
    label = "escalated to a person" if draft.action == "escalate" else "answered"
    console.print(
        f"  [dim]{label} · language {draft.language} · confidence {draft.confidence:.2f} · "
        f"{reply.elapsed:.1f} s[/dim]"
    )


def ask(
    question: Annotated[str, typer.Argument(help="The question to answer")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the answer as JSON")] = False,
) -> None:
    """Answer one question through the full pipeline (embedded Redis and worker by default)."""
    handle_errors(_ask)(question, as_json)


def _ask(question: str, as_json: bool) -> None:
    settings = get_settings()
    with err_console.status("Starting Parley") as spinner:

        def progress(text: str) -> None:
            spinner.update(text)

        with client_runtime(settings, progress=progress) as runtime:
            spinner.update("Thinking")
            reply = LocalChannel(runtime).ask(question)
    if as_json:
        typer.echo(json.dumps(reply.to_json(), ensure_ascii=False))
    else:
        _render(reply)


def chat() -> None:
    """Chat in the terminal with conversation memory (/reset forgets, /quit leaves)."""
    handle_errors(_chat)()


def _chat() -> None:
    settings = get_settings()
    with err_console.status("Starting Parley") as spinner:
        stack = client_runtime(settings, progress=lambda text: spinner.update(text))
        runtime = stack.__enter__()
    try:
        channel = LocalChannel(runtime)
        console.print("Parley is ready. Ask a question; /reset forgets, /quit ends.")
        while True:
            try:
                text = console.input("[bold cyan]you>[/bold cyan] ")
            except (EOFError, KeyboardInterrupt):
                console.print()
                break
            command = text.strip().lower()
            if command in QUIT:
                break
            if command == "/reset":
                channel.reset()
                console.print("[dim]Conversation forgotten.[/dim]")
                continue
            if not command:
                continue
            with err_console.status("Thinking") as status:
                stream = _Streamed(status)
                try:
                    reply = channel.ask(text, on_partial=stream.partial)
                except ParleyError as exc:
                    stream.finish(None)
                    err_console.print(f"[red]Error:[/red] {escape(str(exc))}", soft_wrap=True)
                    continue
                streamed = stream.finish(reply)
            _render(reply, streamed=streamed)
    finally:
        stack.__exit__(None, None, None)


def register(app: typer.Typer) -> None:
    """Add `ask` and `chat` to the root app."""
    app.command()(ask)
    app.command()(chat)
