"""Sentiment and urgency triage of support messages (see docs/content.md)."""

from nlp.triage.classifier import EmbeddingTriage, Example, ZeroShotTriage, load_examples
from nlp.triage.lexicon import urgency_cues
from nlp.triage.types import SENTIMENTS, URGENCY_FLAGS, Sentiment, Triage

__all__ = [
    "SENTIMENTS",
    "URGENCY_FLAGS",
    "EmbeddingTriage",
    "Example",
    "Sentiment",
    "Triage",
    "ZeroShotTriage",
    "load_examples",
    "urgency_cues",
]
