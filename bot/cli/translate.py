"""`parley translate`, `parley detect` and `parley glossary`: translation from the terminal."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from bot.cli.common import get_settings, handle_errors
from bot.errors import InvalidInputError

glossary_app = typer.Typer(
    name="glossary", help="Workspace glossaries: check a file, store it for a workspace.",
    no_args_is_help=True,
)  # fmt: skip


def register(app: typer.Typer) -> None:
    """Add `translate`, `detect` and the `glossary` group to the root app."""
    app.command("translate")(translate)
    app.command("detect")(detect)
    app.add_typer(glossary_app, name="glossary")


def _check_language(code: str | None, option: str) -> str | None:
    from nlp.prompts import LANGUAGE_NAMES

    if code is None:
        return None
    code = code.strip().lower()
    if code not in LANGUAGE_NAMES:
        raise InvalidInputError(
            f"{option} {code!r} is not a supported language; use one of "
            + ", ".join(sorted(LANGUAGE_NAMES))
        )
    return code


def _read_batch(path: Path) -> list[tuple[Any, str]]:
    """(id, text) pairs of a JSON Lines file; the error names the line."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInputError(f"Cannot read {path}: {exc}") from exc
    rows: list[tuple[Any, str]] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InvalidInputError(f"{path} line {number}: not valid JSON ({exc.msg})") from None
        if not isinstance(data, dict) or "id" not in data or not isinstance(data.get("text"), str):
            raise InvalidInputError(f'{path} line {number}: expected {{"id": ..., "text": "..."}}')
        rows.append((data["id"], data["text"]))
    return rows


@handle_errors
def translate(
    text: str | None = typer.Argument(None, help="Text to translate (or use --file)."),
    to: str = typer.Option(..., "--to", help="Target language (ISO 639-1, e.g. es)."),
    source: str | None = typer.Option(None, "--from", help="Source language (default: detect)."),
    file: Path | None = typer.Option(None, "--file", help='JSON Lines: {"id": ..., "text": ...}'),
    glossary: Path | None = typer.Option(None, "--glossary", help="Glossary file (JSON Lines)."),
    as_json: bool = typer.Option(False, "--json", help="JSON output (one object per line)."),
) -> None:
    """Translate TEXT (or every line of --file) into --to, keeping chat formatting intact."""
    from nlp.glossary import load_glossary
    from workers.runtime import load_translator

    target = _check_language(to, "--to")
    assert target is not None
    source = _check_language(source, "--from")
    if (text is None) == (file is None):
        raise InvalidInputError("Give either TEXT or --file FILE.jsonl")
    rows = _read_batch(file) if file is not None else [(None, text or "")]
    settings = get_settings(glossary_file=glossary)
    translator = load_translator(settings)
    terms = load_glossary(glossary) if glossary else None
    results = translator.translate_messages(
        [t for _, t in rows], target=target, source=source, glossary=terms
    )
    for (row_id, _), result in zip(rows, results, strict=True):
        if as_json:
            record: dict[str, Any] = {"id": row_id} if file is not None else {}
            record.update(
                source_language=result.source, target_language=target,
                translation=result.text, translated=result.translated,
            )  # fmt: skip
            typer.echo(json.dumps(record, ensure_ascii=False))
        else:
            typer.echo(result.text)


@handle_errors
def detect(
    text: str = typer.Argument(..., help="Text whose language to detect."),
    as_json: bool = typer.Option(False, "--json", help="JSON output."),
) -> None:
    """Detect the language of TEXT (with a confidence; 'unknown' when too short to tell)."""
    from nlp.langid import Py3LangidDetector

    detector = Py3LangidDetector()
    guess = detector.detect(text)
    parts = detector.detect_mixed(text)
    if as_json:
        data = {
            "language": guess.code if guess else None,
            "confidence": round(guess.confidence, 4) if guess else 0.0,
            "mixed": [{"language": c, "share": round(s, 3)} for c, s in parts] if len(parts) > 1
            else [],
        }  # fmt: skip
        typer.echo(json.dumps(data))
    elif guess is None:
        typer.echo("unknown (too short or ambiguous)")
    else:
        mixed = " (mixed: " + ", ".join(f"{c} {s:.0%}" for c, s in parts) + ")" if len(
            parts) > 1 else ""  # fmt: skip
        typer.echo(f"{guess.code}\t{guess.confidence:.2f}{mixed}")


@glossary_app.command("check")
@handle_errors
def glossary_check(path: Path = typer.Argument(..., help="Glossary file (JSON Lines).")) -> None:
    """Validate a glossary file; errors name the line."""
    from nlp.glossary import load_glossary

    terms = load_glossary(path)
    typer.echo(f"{len(terms.entries)} terms OK")


@glossary_app.command("set")
@handle_errors
def glossary_set(
    path: Path = typer.Argument(..., help="Glossary file (JSON Lines)."),
    platform: str = typer.Option(..., "--platform", help="local, slack or telegram."),
    workspace: str = typer.Option("", "--workspace", help="Slack team / Telegram chat id."),
) -> None:
    """Store a glossary for one workspace in Redis (needs PARLEY_REDIS_URL)."""
    from nlp.glossary import load_glossary
    from workers.app import state_url
    from workers.redis_client import connect
    from workers.translation import GlossaryStore

    settings = get_settings()
    terms = load_glossary(path)
    GlossaryStore(connect(state_url(settings)), settings.namespace).set(platform, workspace, terms)
    typer.echo(f"{len(terms.entries)} terms stored for {platform}:{workspace or '-'}")
