"""`ChatTranslator`: chat-safe translation around any `Translator`.

Per message: detect the source language (unless given), hide mentions, links, code, emoji,
markup and glossary terms behind placeholders (`nlp.chat_markup`), split into lines (list
markers, quote marks and leading/trailing placeholders stay outside the model) and long lines
into sentences, translate every segment of every message in one batched call per source
language, check each segment's placeholders and, where the model mangled them, translate the
plain-text fragments between placeholders instead, so protected spans can never be lost.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from nlp.chat_markup import (
    PLACEHOLDER_RE,
    PlaceholderError,
    Protected,
    check_placeholders,
    has_words,
    placeholders_in,
    protect,
    restore,
)
from nlp.glossary import Glossary
from nlp.langid import LanguageDetector
from nlp.translation.base import Translator

logger = logging.getLogger(__name__)

_LINE = re.compile(
    r"^(?P<pre>[ \t]*(?:(?:>|&gt;)[ \t]?|[-*•‣◦+][ \t]+|\d{1,3}[.)][ \t]+|\[[ xX]\][ \t]+"
    r"|\{\d+\}[ \t]*)*)(?P<core>.*?)(?P<post>(?:[ \t]*\{\d+\})*[ \t\r]*)$"
)
_SENTENCE_END = re.compile(r"(?<=[.!?\u3002\uff01\uff1f])(\s+)")
_FRAGMENT = re.compile(r"(\{\d+\})")
_CLAUSE_END = re.compile(r"[.!?:;,)\]\u2026\u3002\uff01\uff1f]$")


@dataclass(frozen=True, slots=True)
class Translation:
    """One translated message: `translated` is False when it came back unchanged on purpose
    (already in the target language, nothing translatable, unknown source)."""

    text: str
    source: str | None
    target: str
    translated: bool
    fallbacks: int = 0


@dataclass(slots=True)
class _Plan:
    protected: Protected
    source: str | None
    # Literal strings and segment indexes, in order.
    parts: list[str | int] = field(default_factory=list)


def split_long(text: str, limit: int) -> list[str]:
    """Pieces of at most `limit` chars, split after sentences, else at spaces, else anywhere;
    joining them gives `text` back (never truncated)."""
    if len(text) <= limit:
        return [text]
    pieces: list[str] = []
    current = ""
    tokens = _SENTENCE_END.split(text)
    if len(tokens) == 1:
        tokens = re.split(r"(\s+)", text)
    for token in tokens:
        if len(current) + len(token) <= limit or not current:
            current += token
        else:
            pieces.append(current)
            current = token
    pieces.append(current)
    out: list[str] = []
    for piece in pieces:  # a single sentence/word longer than the limit
        out += [piece[i : i + limit] for i in range(0, len(piece), limit)] or [piece]
    return out


class ChatTranslator:
    """A `Translator` that keeps chat formatting intact and reports the source language."""

    def __init__(
        self,
        backend: Translator,
        *,
        detector: LanguageDetector | None = None,
        max_segment_chars: int = 400,
        glossary: Glossary | None = None,
    ) -> None:
        self.backend = backend
        self.detector = detector
        self.max_segment_chars = max_segment_chars
        self.glossary = glossary or Glossary()

    def translate(
        self, texts: Sequence[str], *, target: str, source: str | None = None
    ) -> list[str]:
        return [t.text for t in self.translate_messages(texts, target=target, source=source)]

    def detect(self, text: str) -> str | None:
        if self.detector is None:
            return None
        guess = self.detector.detect(PLACEHOLDER_RE.sub(" ", protect(text).text))
        return guess.code if guess else None

    def _plan(self, text: str, source: str | None, target: str, glossary: Glossary) -> _Plan:
        plan = _Plan(protect(text, replacements=glossary.replacements(target)), source)
        return plan

    def translate_messages(
        self,
        texts: Sequence[str],
        *,
        target: str,
        source: str | None = None,
        glossary: Glossary | None = None,
    ) -> list[Translation]:
        """Translate each text into `target`; unchanged where it already is in `target`."""
        terms = glossary if glossary is not None else self.glossary
        segments: list[str] = []
        seg_source: list[str | None] = []
        plans: list[_Plan | Translation] = []
        for text in texts:
            src = source or self.detect(text)
            if src == target or not text.strip():
                plans.append(Translation(text, src, target, False))
                continue
            plan = self._plan(text, src, target, terms)
            for n, line in enumerate(plan.protected.text.split("\n")):
                if n:
                    plan.parts.append("\n")
                self._plan_line(line, plan, segments, seg_source)
            plans.append(plan)
        outputs = self._run(segments, seg_source, target)
        return [
            item if isinstance(item, Translation) else self._assemble(text, item, outputs, target)
            for text, item in zip(texts, plans, strict=True)
        ]

    def _plan_line(
        self, line: str, plan: _Plan, segments: list[str], seg_source: list[str | None]
    ) -> None:
        m = _LINE.match(line)
        if m is None or not has_words(m["core"]):
            plan.parts.append(line)
            return
        core, post = m["core"], m["post"]
        if post.strip() and not _CLAUSE_END.search(core):
            # "fails for @maria" needs its mention inside the sentence; "Thanks! :tada:" does not.
            core, post = core + post.rstrip(), post[len(post.rstrip()) :]
        plan.parts.append(m["pre"])
        for piece in split_long(core, self.max_segment_chars):
            stripped = piece.strip()
            if not has_words(stripped):
                plan.parts.append(piece)
                continue
            lead = piece[: len(piece) - len(piece.lstrip())]
            trail = piece[len(piece.rstrip()) :]
            plan.parts += [lead, len(segments), trail]
            segments.append(stripped)
            seg_source.append(plan.source)
        plan.parts.append(post)

    def _backend(self, texts: list[str], sources: list[str | None], target: str) -> list[str]:
        """One backend call per source language, batched across all messages."""
        out = [""] * len(texts)
        for src in dict.fromkeys(sources):
            idx = [i for i, s in enumerate(sources) if s == src]
            done = self.backend.translate([texts[i] for i in idx], target=target, source=src)
            for i, value in zip(idx, done, strict=True):
                out[i] = value
        return out

    def _run(self, segments: list[str], sources: list[str | None], target: str) -> list[str]:
        outputs = self._backend(segments, sources, target)
        failed = []
        for i, (seg, out) in enumerate(zip(segments, outputs, strict=True)):
            try:
                if not out.strip():
                    raise PlaceholderError("empty translation")
                check_placeholders(out, placeholders_in(seg))
            except PlaceholderError as exc:
                logger.info("segment %d falls back to fragments: %s", i, exc)
                failed.append(i)
        if failed:
            for i, fixed in zip(
                failed, self._fragments(segments, sources, failed, target), strict=True
            ):
                outputs[i] = fixed
        return outputs

    def _fragments(
        self, segments: list[str], sources: list[str | None], failed: list[int], target: str
    ) -> list[str]:
        """Translate only the text between placeholders of the failed segments."""
        pieces = [_FRAGMENT.split(segments[i]) for i in failed]
        todo: list[tuple[int, int]] = [
            (n, k)
            for n, parts in enumerate(pieces)
            for k, part in enumerate(parts)
            if k % 2 == 0 and has_words(part)
        ]
        texts = [pieces[n][k].strip() for n, k in todo]
        done = self._backend(texts, [sources[failed[n]] for n, _ in todo], target)
        for (n, k), out in zip(todo, done, strict=True):
            part = pieces[n][k]
            if out.strip() and not PLACEHOLDER_RE.search(out):
                lead = part[: len(part) - len(part.lstrip())]
                trail = part[len(part.rstrip()) :]
                pieces[n][k] = lead + out.strip() + trail
        return ["".join(parts) for parts in pieces]

    def _assemble(self, text: str, plan: _Plan, outputs: list[str], target: str) -> Translation:
        joined = "".join(outputs[p] if isinstance(p, int) else p for p in plan.parts)
        count = sum(isinstance(p, int) for p in plan.parts)
        try:
            restored = restore(joined, plan.protected)
        except PlaceholderError as exc:  # cannot happen by construction; never lose content
            logger.warning("translation kept the original: %s", exc)
            return Translation(text, plan.source, target, False, fallbacks=1)
        return Translation(restored, plan.source, target, count > 0)
