"""`parley kb`: ingest, list, remove and search the knowledge base."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from bot.cli.common import get_settings, handle_errors
from bot.errors import InvalidInputError

kb_app = typer.Typer(
    name="kb", help="Knowledge base: ingest, list, remove, search, tune.", no_args_is_help=True
)

KB_OPTION = typer.Option(
    None, "--kb", help="Knowledge-base folder (default: PARLEY_KB_DIR or the per-user data folder)."
)
HIT_FIELDS = ("doc_id", "chunk_id", "source", "title", "score", "text")


def register(app: typer.Typer) -> None:
    """Add the `kb` command group to the root app."""
    app.add_typer(kb_app, name="kb")


@kb_app.command("ingest")
@handle_errors
def ingest(
    paths: list[Path] = typer.Argument(..., help="Files or folders to ingest."),
    kb: Path | None = KB_OPTION,
    rebuild: bool = typer.Option(False, "--rebuild", help="Start a new index from these paths."),
) -> None:
    """Ingest Markdown, text, HTML, PDF, CSV and JSONL files; changed files replace their chunks."""
    from retrieval.factory import build_knowledge_base

    settings = get_settings(kb_dir=kb)
    report = build_knowledge_base(settings).ingest(paths, rebuild=rebuild)
    for _path, reason in report.skipped:
        typer.echo(f"skipped: {reason}", err=True)
    typer.echo(
        f"{len(report.added)} added, {len(report.replaced)} replaced, "
        f"{len(report.unchanged)} unchanged, {len(report.skipped)} skipped; "
        f"{report.chunks} chunks embedded into {settings.knowledge_base_dir}"
    )
    if report.skipped and not (report.added or report.replaced or report.unchanged):
        raise typer.Exit(1)


@kb_app.command("list")
@handle_errors
def list_documents(
    kb: Path | None = KB_OPTION,
    as_json: bool = typer.Option(False, "--json", help="One JSON object per line."),
) -> None:
    """List the ingested documents."""
    from retrieval.factory import build_knowledge_base

    docs = build_knowledge_base(get_settings(kb_dir=kb)).documents()
    for doc in docs:
        if as_json:
            row = {"doc_id": doc.doc_id, "title": doc.title, "source": doc.source}
            typer.echo(json.dumps({**row, "chunks": doc.chunks}, ensure_ascii=False))
        else:
            typer.echo(f"{doc.doc_id}\t{doc.chunks} chunks\t{doc.title}\t{doc.source}")
    if not as_json:
        typer.echo(f"{len(docs)} documents", err=True)


@kb_app.command("remove")
@handle_errors
def remove(
    doc_id: str = typer.Argument(..., help="Document id, as shown by `parley kb list`."),
    kb: Path | None = KB_OPTION,
) -> None:
    """Remove a document and its vectors."""
    from retrieval.factory import build_knowledge_base

    removed = build_knowledge_base(get_settings(kb_dir=kb)).remove(doc_id)
    typer.echo(f"removed {doc_id} ({removed} chunks)")


@kb_app.command("search")
@handle_errors
def search(
    query: str | None = typer.Argument(None, help="The question to search for."),
    kb: Path | None = KB_OPTION,
    k: int = typer.Option(5, "-k", "--k", min=1, max=100, help="Number of hits."),
    as_json: bool = typer.Option(False, "--json", help="JSON output (one line per query)."),
    queries: Path | None = typer.Option(
        None, "--queries", help='JSONL file of {"id": ..., "text": ...} queries (batch mode).'
    ),
    language: str | None = typer.Option(None, "--language", help="Query language, if known."),
) -> None:
    """Search the knowledge base for one query, or for every line of a JSONL file."""
    from retrieval.factory import build_retriever

    if (query is None) == (queries is None):
        raise InvalidInputError("Give either a QUERY or --queries FILE.jsonl")
    retriever = build_retriever(get_settings(kb_dir=kb), preload=False)
    if queries is not None:
        rows = _read_queries(queries)
        results = retriever.search_batch([r[1] for r in rows], k=k, language=language)
        for (row_id, _), hits in zip(rows, results, strict=True):
            payload = {"id": row_id, "hits": [_hit_json(h.to_dict()) for h in hits]}
            typer.echo(json.dumps(payload, ensure_ascii=False))
        return
    assert query is not None
    hits = retriever.search(query, k=k, language=language)
    if as_json:
        typer.echo(json.dumps({"hits": [_hit_json(h.to_dict()) for h in hits]}, ensure_ascii=False))
        return
    for rank, hit in enumerate(hits, start=1):
        snippet = " ".join(hit.text.split())[:160]
        typer.echo(f"{rank}. [{hit.score:.3f}] {hit.title} ({hit.chunk_id})\n   {snippet}")
    if not hits:
        typer.echo("no hits", err=True)


@kb_app.command("tune")
@handle_errors
def tune(
    pairs: Path = typer.Option(
        ...,
        "--pairs",
        help='JSONL: {"query": ..., "passage": ...} or {"question": ..., "answer": ...} rows.',
    ),
    out: Path = typer.Option(..., "--out", help="Folder to write the tuned model to."),
    kb: Path | None = KB_OPTION,
    base: str | None = typer.Option(
        None, "--base", help="Model to start from (default: PARLEY_EMBEDDING_MODEL)."
    ),
    epochs: int = typer.Option(
        4,
        "--epochs",
        min=1,
        max=50,
        help="Maximum number of epochs; the best epoch on the held-out pairs is kept.",
    ),
    validation_fraction: float = typer.Option(
        0.1,
        "--validation-fraction",
        min=0.0,
        max=0.5,
        help="Share of the passages (with all their questions) held out to choose the epoch; "
        "needs at least 20 held-out passages, else all pairs are trained on. 0 disables.",
    ),
    batch_size: int = typer.Option(32, "--batch-size", min=2, max=512),
    learning_rate: float = typer.Option(5e-5, "--lr", min=0.0),
) -> None:
    """Fine-tune the embedding model on your own question -> passage pairs.

    Then set PARLEY_EMBEDDING_MODEL to the new folder and re-ingest with --rebuild.
    """
    from retrieval.tuning import TuningConfig, read_pairs, tune_embedder

    settings = get_settings(kb_dir=kb)
    base_model = base or settings.embedding_model
    config = TuningConfig(
        epochs=epochs,
        batch_size=batch_size,
        learning_rate=learning_rate,
        validation_fraction=validation_fraction,
    )
    report = tune_embedder(base_model, read_pairs(pairs), out, config)
    typer.echo(
        f"tuned {base_model} on {report.train_pairs} of {report.pairs} pairs "
        f"({report.steps} steps, {report.seconds:.0f} s) -> {out}"
    )
    chosen = report.chosen
    if chosen is None:
        typer.echo(f"kept epoch {report.chosen_epoch} (the last): {report.validation_note}")
    else:
        typer.echo(
            f"kept epoch {chosen.epoch} of {epochs}: recall@5 {chosen.recall_at_5:.3f}, "
            f"MRR {chosen.mrr:.3f} on {report.validation_pairs} held-out questions "
            f"({report.validation_passages} passages)"
        )
    typer.echo(
        f"use it: PARLEY_EMBEDDING_MODEL={out} parley kb ingest PATH... --rebuild "
        f"--kb {settings.knowledge_base_dir}",
        err=True,
    )


def _hit_json(hit: dict[str, Any]) -> dict[str, Any]:
    return {name: hit[name] for name in HIT_FIELDS}


def _read_queries(path: Path) -> list[tuple[Any, str]]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInputError(f"{path}: cannot read queries ({exc})") from exc
    rows: list[tuple[Any, str]] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            rows.append((row["id"], str(row["text"])))
        except (ValueError, KeyError, TypeError) as exc:
            raise InvalidInputError(
                f'{path} line {number}: expected {{"id": ..., "text": ...}} ({exc})'
            ) from exc
    return rows
