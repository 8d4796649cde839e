"""`parley triage`, `parley summarize` and `parley write`: content and insight from the terminal."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from bot.cli.common import get_settings, handle_errors
from bot.errors import InvalidInputError
from bot.settings import Settings


def register(app: typer.Typer) -> None:
    """Add `triage`, `summarize` and `write` to the root app."""
    app.command("triage")(triage)
    app.command("summarize")(summarize)
    app.command("write")(write)


@handle_errors
def triage(
    text: str = typer.Argument(..., help="A customer message."),
    as_json: bool = typer.Option(False, "--json", help="JSON output."),
) -> None:
    """Sentiment (negative, neutral, positive) and urgency flags (outage, payment, legal, churn)."""
    from nlp.triage import EmbeddingTriage
    from retrieval.factory import build_embedder

    if not text.strip():
        raise InvalidInputError("The message is empty: give the text to triage")
    result = EmbeddingTriage(build_embedder(get_settings())).triage([text])[0]
    if as_json:
        typer.echo(json.dumps(result.to_dict(), ensure_ascii=False))
        return
    flags = ", ".join(result.urgency) or "none"
    typer.echo(f"sentiment {result.sentiment} ({result.sentiment_confidence:.2f}); urgent: {flags}")


def _read_thread(path: Path) -> list[dict[str, Any]]:
    rows = []
    for number, line in enumerate(path.read_text("utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InvalidInputError(f"{path} line {number}: not JSON ({exc.msg})") from exc
        if not isinstance(row, dict) or "text" not in row:
            raise InvalidInputError(
                f'{path} line {number}: expected {{"author": ..., "text": ...}}'
            )
        rows.append(row)
    return rows


def _model_settings() -> Settings:
    """Settings, with this process's inference backend configured from them."""
    from nlp.inference import InferenceOptions, configure_inference

    settings = get_settings()
    configure_inference(InferenceOptions.from_settings(settings))
    return settings


@handle_errors
def summarize(
    file: Path = typer.Option(..., "--file", help='Thread as JSON Lines: {"author", "text", "at"}'),
    language: str = typer.Option("en", "--lang", help="Language of the summary (ISO 639-1)."),
    as_json: bool = typer.Option(False, "--json", help="JSON output."),
) -> None:
    """Summarise a thread: who said what, decisions and open questions (chunked when long)."""
    from nlp.content import Summarizer, ThreadMessage
    from nlp.content.chat_model import load_chat_model
    from workers.runtime import load_translator

    if not file.is_file():
        raise InvalidInputError(f"No such file: {file}")
    messages = [ThreadMessage.from_dict(r) for r in _read_thread(file)]
    settings = _model_settings()

    def translate(texts: list[str], target: str) -> list[str]:
        results = load_translator(settings).translate_messages(texts, target=target, source="en")
        return [r.text for r in results]  # loaded only when the summary is not in English

    summary = Summarizer(load_chat_model(settings), translate=translate).summarize(
        messages, language=language.strip().lower()
    )
    typer.echo(json.dumps(summary.to_dict(), ensure_ascii=False) if as_json else summary.render())


@handle_errors
def write(
    brief: str = typer.Argument(..., help="What to write, e.g. 'announce the new SSO login'."),
    to: str = typer.Option("en", "--to", help="Languages, comma-separated (e.g. en,es,de)."),
    tone: str = typer.Option("friendly", "--tone", help="formal, friendly or concise."),
    grounded: bool = typer.Option(True, help="Ground facts in the knowledge base."),
    as_json: bool = typer.Option(False, "--json", help="JSON output (one object per language)."),
) -> None:
    """Draft an announcement, release note or reply from BRIEF in several languages at once."""
    from nlp.content import Writer, check_languages
    from nlp.content.chat_model import load_chat_model
    from retrieval.factory import build_retriever
    from workers.runtime import load_translator

    languages = check_languages(to.split(","))
    settings = _model_settings()

    def translate(texts: list[str], target: str) -> list[str]:
        return [r.text for r in load_translator(settings).translate_messages(texts, target=target)]

    def retrieve(query: str) -> list[str]:
        hits = build_retriever(settings).search(query, k=3)
        return [h.text for h in hits if h.score >= settings.min_retrieval_score]

    writer = Writer(
        load_chat_model(settings), translate=translate, retrieve=retrieve if grounded else None
    )
    for draft in writer.write(brief, languages=languages, tone=tone):
        if as_json:
            typer.echo(json.dumps(draft.to_dict(), ensure_ascii=False))
        else:
            typer.echo(f"[{draft.language}]\n{draft.text}\n")
