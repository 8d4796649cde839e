"""Streaming a generation's text: token ids in as they are chosen, decoded text out.

Backends create one `TextStream` per request that has an `on_text` callback and feed it each
generated token. It decodes the answer so far and calls back with the text whenever it grew
(holding back a half-decoded multi-byte character). A failing callback is logged once and
dropped: streaming is a courtesy, the generation must finish.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from nlp.inference.types import GenerationRequest, PartialText

logger = logging.getLogger(__name__)

_INCOMPLETE = "\ufffd"  # what a tokenizer decodes half of a multi-byte character to


class TextStream:
    """The decoded text of one request's tokens, reported to its callback as it grows."""

    def __init__(
        self, tokenizer: Any, callback: PartialText, stop_ids: Sequence[int], limit: int
    ) -> None:
        self._tokenizer = tokenizer
        self._callback: PartialText | None = callback
        self._stops = frozenset(stop_ids)
        self._limit = limit
        self._tokens: list[int] = []
        self._text = ""
        self._done = False

    def add(self, token_id: int) -> None:
        """One generated token (stop tokens and anything after them end the stream)."""
        if self._done or self._callback is None:
            return
        if token_id in self._stops or len(self._tokens) >= self._limit:
            self._done = True
            return
        self._tokens.append(token_id)
        text = str(self._tokenizer.decode(self._tokens, skip_special_tokens=True))
        if text != self._text and not text.endswith(_INCOMPLETE):
            self._text = text
            self._emit(text)

    def _emit(self, text: str) -> None:
        callback = self._callback
        if callback is None:
            return
        try:
            callback(text)
        except Exception:
            logger.warning("A streaming callback failed; streaming stopped", exc_info=True)
            self._callback = None


def text_streams(
    requests: Sequence[GenerationRequest], tokenizer: Any, stop_ids: Sequence[int]
) -> list[TextStream | None]:
    """One `TextStream` per request that streams (None for the others)."""
    return [
        TextStream(tokenizer, r.on_text, stop_ids, r.max_new_tokens) if r.on_text else None
        for r in requests
    ]


def notify(callback: PartialText | None, text: str) -> None:
    """Call `callback(text)`, logging instead of raising when it fails."""
    if callback is None:
        return
    try:
        callback(text)
    except Exception:
        logger.warning("A streaming callback failed", exc_info=True)
