"""Translating a search query into English with the dialogue model (cross-lingual retrieval).

`LLMQueryTranslator` is a `retrieval.knowledge_base.QueryTranslator` (a `str -> str` callable):
the knowledge base searches the English translation alongside the original query and fuses the
two. It costs one greedy generation per non-English question (seconds on a CPU); whether that
pays off is measured by bench/bench_query_translation.py and switched by
`PARLEY_QUERY_TRANSLATION`.
"""

from __future__ import annotations

import logging
import re

from nlp.drafting import LLMDrafter
from nlp.loading import LoadedModel

logger = logging.getLogger(__name__)

SYSTEM_PROMPT = (
    "Translate the customer's message into English. Reply with the English translation only: "
    "no explanation, no quotes."
)
# One worked example: without it the 0.5B model sometimes answers the question instead.
EXAMPLE = ("Hur återställer jag mitt lösenord?", "How do I reset my password?")
_LABEL = re.compile(r"^(?:english|translation|english translation)\s*:\s*", re.IGNORECASE)


def clean_translation(text: str) -> str:
    """The first line of the output without a "Translation:" label or surrounding quotes."""
    line = next((ln.strip() for ln in text.strip().splitlines() if ln.strip()), "")
    return _LABEL.sub("", line).strip().strip("\"'“”«»").strip()


class LLMQueryTranslator:
    """Translate a query to English by prompting a causal chat LM (greedy, deterministic)."""

    def __init__(self, loaded: LoadedModel, *, max_new_tokens: int = 96) -> None:
        self._drafter = LLMDrafter(loaded, max_new_tokens=max_new_tokens)
        self.max_new_tokens = max_new_tokens

    def __call__(self, query: str) -> str:
        """The English translation of `query` ("" if the model produced nothing usable)."""
        messages = [
            {"role": "system", "content": SYSTEM_PROMPT},
            {"role": "user", "content": EXAMPLE[0]},
            {"role": "assistant", "content": EXAMPLE[1]},
            {"role": "user", "content": query},
        ]
        # A translation is about as long as its source; the cap stops a runaway generation.
        budget = min(self.max_new_tokens, 16 + 2 * self._drafter.count_tokens(query))
        gen = self._drafter.generate(messages, max_new_tokens=budget)
        logger.debug("Translated a query in %.1f s (%d tokens)", gen.seconds, gen.new_tokens)
        return clean_translation(gen.text)
