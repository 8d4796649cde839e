"""Triage classifiers over multilingual sentence embeddings.

`EmbeddingTriage` fits small logistic-regression heads (numpy, seconds) on labelled examples
(the packaged `train.jsonl`: support messages in EN, ES, DE, SV and ZH) and unions the
urgency flags it predicts with the lexicon's cue phrases. `ZeroShotTriage` is the baseline the
benchmark compares against: the same embedder, no training, each label described in a sentence.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

import numpy as np
import numpy.typing as npt

from bot.errors import InvalidInputError
from nlp.triage.lexicon import urgency_cues
from nlp.triage.types import SENTIMENTS, URGENCY_FLAGS, Sentiment, Triage
from retrieval.embedders import Embedder

Matrix = npt.NDArray[np.float32]


@dataclass(frozen=True, slots=True)
class Example:
    text: str
    sentiment: Sentiment
    urgency: tuple[str, ...] = ()


def load_examples(lines: Iterable[str], *, source: str = "examples") -> list[Example]:
    """Parse JSONL rows `{"text", "sentiment", "urgency": [...]}`; errors name the line."""
    examples = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row: dict[str, Any] = json.loads(line)
            sentiment = row["sentiment"]
            urgency = tuple(row.get("urgency") or ())
            if sentiment not in SENTIMENTS or not set(urgency) <= set(URGENCY_FLAGS):
                raise ValueError(f"unknown label in {row}")
            examples.append(Example(str(row["text"]), sentiment, urgency))
        except (ValueError, KeyError, TypeError) as exc:
            raise InvalidInputError(f"{source} line {number}: {exc}") from exc
    return examples


def packaged_examples() -> list[Example]:
    text = resources.files("nlp.triage").joinpath("train.jsonl").read_text("utf-8")
    return load_examples(text.splitlines(), source="nlp/triage/train.jsonl")


def _softmax(z: Matrix) -> Matrix:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    out: Matrix = (e / e.sum(axis=1, keepdims=True)).astype(np.float32)
    return out


def _fit_softmax(x: Matrix, y: npt.NDArray[np.int64], classes: int, *, l2: float = 1e-2) -> Matrix:
    """Multinomial logistic regression by full-batch gradient descent (tiny data, fast)."""
    x1 = np.hstack([x, np.ones((len(x), 1), np.float32)])
    w = np.zeros((x1.shape[1], classes), np.float32)
    onehot = np.eye(classes, dtype=np.float32)[y]
    for _ in range(400):
        grad = x1.T @ (_softmax(x1 @ w) - onehot) / len(x1) + l2 * w
        w -= 0.5 * grad
    return w


def _scores(x: Matrix, w: Matrix) -> Matrix:
    return _softmax(np.hstack([x, np.ones((len(x), 1), np.float32)]) @ w)


class EmbeddingTriage:
    """Sentiment and urgency from embedding heads plus the multilingual cue lexicon."""

    def __init__(
        self,
        embedder: Embedder,
        examples: Sequence[Example] | None = None,
        *,
        flag_threshold: float = 0.35,
        lexicon: bool = True,
    ) -> None:
        examples = list(examples if examples is not None else packaged_examples())
        if len(examples) < 6:
            raise InvalidInputError("Triage needs at least 6 labelled examples to train on")
        self._embedder = embedder
        self._threshold = flag_threshold
        self._lexicon = lexicon
        raw = embedder.embed_queries([e.text for e in examples])
        # e5 embeddings sit in a narrow cone (cosines 0.7-0.9): centre and scale each dimension.
        self._mean = raw.mean(axis=0)
        self._std = raw.std(axis=0) + 1e-6
        x = self._standardise(raw)
        labels = np.array([SENTIMENTS.index(e.sentiment) for e in examples], np.int64)
        self._sentiment = _fit_softmax(x, labels, len(SENTIMENTS))
        flags = np.array(
            [len(e.urgency) and URGENCY_FLAGS.index(e.urgency[0]) + 1 for e in examples]
        )
        self._urgency = _fit_softmax(x, flags.astype(np.int64), len(URGENCY_FLAGS) + 1)

    def _standardise(self, x: Matrix) -> Matrix:
        out: Matrix = ((x - self._mean) / self._std).astype(np.float32)
        return out

    def triage(self, texts: Sequence[str]) -> list[Triage]:
        """Classify a batch of messages (empty texts are neutral, with no flags)."""
        results: list[Triage] = [Triage("neutral", 1.0)] * len(texts)
        live = [i for i, t in enumerate(texts) if t.strip()]
        if not live:
            return results
        x = self._standardise(self._embedder.embed_queries([texts[i] for i in live]))
        sentiment = _scores(x, self._sentiment)
        urgency = _scores(x, self._urgency)
        for row, i in enumerate(live):
            cues = urgency_cues(texts[i]) if self._lexicon else {}
            top = int(urgency[row].argmax())
            flags = set(cues)
            if top and urgency[row, top] >= self._threshold:
                flags.add(URGENCY_FLAGS[top - 1])
            best = int(sentiment[row].argmax())
            label: Sentiment = "negative" if flags else SENTIMENTS[best]
            scores: dict[str, float] = {
                s: float(sentiment[row, k]) for k, s in enumerate(SENTIMENTS)
            }
            scores.update({f: float(urgency[row, k + 1]) for k, f in enumerate(URGENCY_FLAGS)})
            results[i] = Triage(
                sentiment=label,
                sentiment_confidence=round(max(scores[label], 0.75 if flags else 0.0), 3),
                urgency=tuple(f for f in URGENCY_FLAGS if f in flags),
                scores={k: round(v, 3) for k, v in scores.items()},
                cues=tuple(cues.values()),
            )
        return results


_DESCRIPTIONS = {
    "negative": "An angry, unhappy or frustrated customer complaint.",
    "neutral": "A neutral question asking how something works.",
    "positive": "A happy customer saying thanks or praising the product.",
    "none": "A normal message about the product.",
    "outage": "The service is down, not loading or unreachable.",
    "payment": "A payment failed or the customer was charged wrongly.",
    "legal": "The customer threatens legal action or mentions a lawyer.",
    "churn": "The customer wants to cancel and leave for a competitor.",
}


class ZeroShotTriage:
    """Baseline: nearest label description, same embedder, no training and no lexicon."""

    def __init__(self, embedder: Embedder) -> None:
        self._embedder = embedder
        self._labels = list(_DESCRIPTIONS)
        self._label_vectors = embedder.embed_passages(list(_DESCRIPTIONS.values()))

    def triage(self, texts: Sequence[str]) -> list[Triage]:
        x = self._embedder.embed_queries(list(texts))
        sims = x @ self._label_vectors.T
        out = []
        for row in sims:
            by_label = dict(zip(self._labels, row.tolist(), strict=True))
            sentiment = max(SENTIMENTS, key=lambda s: by_label[s])
            flag = max(("none", *URGENCY_FLAGS), key=lambda f: by_label[f])
            urgency = () if flag == "none" else (flag,)
            out.append(Triage(sentiment, round(by_label[sentiment], 3), urgency))
        return out
