"""One training example, its content id and its deterministic split."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from bot.errors import InvalidInputError

Kind = Literal["dialogue", "translation"]
KINDS: tuple[Kind, ...] = ("dialogue", "translation")
Split = Literal["train", "validation", "test"]
SPLITS: tuple[Split, ...] = ("train", "validation", "test")
# Percent of examples per split, by the hash of the example id (stable as the data grows).
VALIDATION_PERCENT = 10
TEST_PERCENT = 15


@dataclass(frozen=True, slots=True)
class Example:
    """A question and the answer the model should have given (or a source text and its
    corrected translation). `user` ("platform:id") is whose data it is, for `data forget`."""

    kind: Kind
    input: str
    output: str
    source_language: str | None = None
    target_language: str | None = None
    user: str = ""
    draft: str = ""  # what the model produced (the draft or the machine translation)
    decision: str = ""  # approve | edit | reject | correction | import
    passages: tuple[dict[str, Any], ...] = field(default_factory=tuple)
    origin: str = ""  # stream entry id or imported file
    at: str = ""

    @property
    def id(self) -> str:
        """Content id: the same question with the same answer is one example."""
        key = [
            self.kind,
            self.input.strip(),
            self.output.strip(),
            self.source_language,
            self.target_language,
        ]
        return hashlib.sha256(json.dumps(key, ensure_ascii=False).encode()).hexdigest()[:16]

    @property
    def split(self) -> Split:
        return split_of(self.id)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["passages"] = list(self.passages)
        return {"id": self.id, **data}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Example:
        """Parse one dataset line (raises InvalidInputError naming what is wrong)."""
        if not isinstance(data, dict):
            raise InvalidInputError("an example must be a JSON object")
        kind = data.get("kind")
        if kind not in KINDS:
            raise InvalidInputError(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
        text, answer = data.get("input"), data.get("output")
        if not isinstance(text, str) or not text.strip():
            raise InvalidInputError("input is missing or empty")
        if not isinstance(answer, str) or not answer.strip():
            raise InvalidInputError("output is missing or empty")
        passages = data.get("passages") or ()
        if not isinstance(passages, list | tuple):
            raise InvalidInputError("passages must be a list")
        return cls(
            kind=kind,
            input=text,
            output=answer,
            source_language=_opt_str(data.get("source_language")),
            target_language=_opt_str(data.get("target_language")),
            user=str(data.get("user") or ""),
            draft=str(data.get("draft") or ""),
            decision=str(data.get("decision") or ""),
            passages=tuple(p for p in passages if isinstance(p, dict)),
            origin=str(data.get("origin") or ""),
            at=str(data.get("at") or ""),
        )


def _opt_str(value: Any) -> str | None:
    return str(value) if value else None


def split_of(example_id: str) -> Split:
    """train / validation / test from the hash of the id: the same example always lands in the
    same split, whatever else is in the dataset."""
    bucket = int(hashlib.sha256(example_id.encode()).hexdigest()[:8], 16) % 100
    if bucket < TEST_PERCENT:
        return "test"
    if bucket < TEST_PERCENT + VALIDATION_PERCENT:
        return "validation"
    return "train"
