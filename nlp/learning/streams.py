"""Collect training examples from the Redis Streams, acknowledging only what is on disk.

Two streams, one consumer group (`Keys.learning_group()`):
- `Keys.review_stream()`: review decisions (format: the review contract); an approved or edited
  draft, or an agent's own answer, becomes a dialogue example;
- `Keys.translation_corrections_stream()`: translation corrections
  (`record_translation_correction`).
A batch is read, converted, written as a new dataset version (fsync + rename) and only then
XACKed. A crash in between leaves the entries pending; the next run reads its pending entries
first and the content-id dedupe keeps them from being added twice.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from typing import Any

import redis

from bot.settings import Settings
from nlp.learning.datasets import add_examples, dataset_dir
from nlp.learning.examples import Example, Kind
from workers.keys import Keys
from workers.review.redact import redact

log = logging.getLogger(__name__)

STREAM_MAXLEN = 100_000
CONSUMER = "collector"
# Entries another consumer read but never acknowledged for this long are taken over.
CLAIM_IDLE_MS = 10 * 60 * 1000
LEARNED_DECISIONS = ("approve", "edit", "reject")


@dataclass(slots=True)
class CollectResult:
    read: int = 0
    added: dict[str, int] = field(default_factory=dict)
    skipped: int = 0  # nothing to learn (expired review, rejection without an answer)
    corrupt: int = 0  # unreadable entries, copied to rejected.jsonl and acknowledged


def streams(settings: Settings) -> dict[str, Kind]:
    keys = Keys(settings.namespace)
    return {keys.review_stream(): "dialogue", keys.translation_corrections_stream(): "translation"}


def record_translation_correction(
    client: redis.Redis,
    settings: Settings,
    *,
    source_text: str,
    source_language: str | None,
    target_language: str,
    machine_translation: str,
    corrected_translation: str,
    user: str,
    platform: str,
    channel: str,
    at: float | None = None,
) -> str:
    """XADD one translation correction (personal data redacted); returns the entry id."""

    def clean(text: str) -> str:  # phone formats follow the person, not the target language
        return redact(redact(text, language=source_language), language=target_language)

    data = {
        "source_text": clean(source_text),
        "source_language": source_language or "",
        "target_language": target_language,
        "machine_translation": clean(machine_translation),
        "corrected_translation": clean(corrected_translation),
        "user": user,
        "platform": platform,
        "channel": channel,
        "at": time.time() if at is None else at,
    }
    stream = Keys(settings.namespace).translation_corrections_stream()
    payload = json.dumps(data, ensure_ascii=False)
    return str(client.xadd(stream, {"data": payload}, maxlen=STREAM_MAXLEN, approximate=True))


def example_from_entry(kind: Kind, entry_id: str, data: dict[str, Any]) -> Example | None:
    """The example one stream entry teaches, or None when it teaches nothing."""
    if kind == "translation":
        return Example(
            kind="translation",
            input=str(data["source_text"]),
            output=str(data["corrected_translation"]),
            source_language=str(data.get("source_language") or "") or None,
            target_language=str(data["target_language"]),
            user=str(data.get("user") or ""),
            draft=str(data.get("machine_translation") or ""),
            decision="correction",
            origin=f"corrections:{entry_id}",
            at=str(data.get("at") or ""),
        )
    final = str(data.get("final_text") or "").strip()
    if data.get("decision") not in LEARNED_DECISIONS or not final:
        return None
    return Example(
        kind="dialogue",
        input=str(data["customer_text"]),
        output=final,
        source_language=str(data.get("customer_language") or "") or None,
        target_language=str(data.get("final_language") or data.get("customer_language") or "")
        or None,
        user=str(data.get("customer") or ""),
        draft=str(data.get("draft_text") or ""),
        decision=str(data["decision"]),
        passages=tuple(p for p in data.get("passages") or [] if isinstance(p, dict)),
        origin=f"reviews:{entry_id}",
        at=str(data.get("decided_at") or ""),
    )


def ensure_group(client: redis.Redis, stream: str, group: str) -> None:
    try:
        client.xgroup_create(stream, group, id="0", mkstream=True)
    except redis.ResponseError as exc:
        if "BUSYGROUP" not in str(exc):
            raise


def _read(client: redis.Redis, stream: str, group: str, count: int) -> list[tuple[str, Any]]:
    """Own pending entries first (a crash before XACK), then stale ones, then new ones."""
    pending: Any = client.xreadgroup(group, CONSUMER, {stream: "0"}, count=count)
    entries = list(pending[0][1]) if pending else []
    if not entries:
        claimed: Any = client.xautoclaim(stream, group, CONSUMER, CLAIM_IDLE_MS, count=count)
        entries = [e for e in claimed[1] if e[1]]
    if not entries:
        fresh: Any = client.xreadgroup(group, CONSUMER, {stream: ">"}, count=count)
        entries = list(fresh[0][1]) if fresh else []
    gone = [entry_id for entry_id, fields in entries if not fields]
    if gone:  # deleted (`data forget`) while pending: nothing left to learn, acknowledge
        client.xack(stream, group, *gone)
        if len(gone) == len(entries):
            return _read(client, stream, group, count)
    return [(_text(entry_id), fields) for entry_id, fields in entries if fields]


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _reject(settings: Settings, stream: str, entry_id: str, fields: Any, why: str) -> None:
    """Keep an unreadable entry on disk (nothing is lost) before it is acknowledged."""
    path = settings.learning_root / "datasets" / "rejected.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    record = {
        "stream": stream,
        "id": entry_id,
        "why": why,
        "fields": {_text(k): _text(v) for k, v in dict(fields).items()},
    }
    with path.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    log.warning("learning: unreadable entry %s in %s (%s); kept in %s", entry_id, stream, why, path)


def collect_stream(
    client: redis.Redis, settings: Settings, stream: str, kind: Kind, *, batch: int = 500
) -> CollectResult:
    """Drain one stream into its dataset; XACK each batch only after it is on disk."""
    group, result = Keys(settings.namespace).learning_group(), CollectResult()
    ensure_group(client, stream, group)
    dataset_dir(settings, kind).mkdir(parents=True, exist_ok=True)
    while entries := _read(client, stream, group, batch):
        examples = []
        for entry_id, fields in entries:
            try:
                data = json.loads(_text(dict(fields).get("data") or dict(fields).get(b"data")))
                example = example_from_entry(kind, entry_id, data)
            except (ValueError, TypeError, KeyError, AttributeError) as exc:
                _reject(settings, stream, entry_id, fields, f"{type(exc).__name__}: {exc}")
                result.corrupt += 1
                continue
            if example is None:
                result.skipped += 1
            else:
                examples.append(example)
        if examples:
            _, fresh = add_examples(settings, kind, examples)
            result.added[kind] = result.added.get(kind, 0) + fresh
        client.xack(stream, group, *[entry_id for entry_id, _ in entries])
        result.read += len(entries)
    return result


def collect(client: redis.Redis, settings: Settings) -> CollectResult:
    """Drain both training-data streams into the datasets."""
    total = CollectResult()
    for stream, kind in streams(settings).items():
        part = collect_stream(client, settings, stream, kind)
        total.read += part.read
        total.skipped += part.skipped
        total.corrupt += part.corrupt
        for name, count in part.added.items():
            total.added[name] = total.added.get(name, 0) + count
    return total


def _page(client: redis.Redis, stream: str, start: str) -> Any:
    return client.xrange(stream, min=start, max="+", count=1000)


def forget_in_streams(client: redis.Redis, settings: Settings, user: str) -> int:
    """XDEL every entry whose customer (reviews) or user (corrections) is `user`."""
    deleted = 0
    for stream in streams(settings):
        doomed: list[str] = []
        cursor = "-"
        while page := _page(client, stream, cursor):
            for entry_id, fields in page:
                try:
                    data = json.loads(_text(dict(fields).get("data") or dict(fields).get(b"data")))
                except (ValueError, TypeError):
                    continue
                if isinstance(data, dict) and user in (data.get("customer"), data.get("user")):
                    doomed.append(_text(entry_id))
            last = _text(page[-1][0])
            ms, seq = last.split("-")
            cursor = f"{ms}-{int(seq) + 1}"
        for start in range(0, len(doomed), 500):
            deleted += int(client.xdel(stream, *doomed[start : start + 500]))
    return deleted
