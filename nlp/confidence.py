"""How sure Parley is of a draft, on a 0..1 scale compared against the confidence threshold.

confidence = p_model x citation_factor x grounding_factor x echo_factor x support_factor, where
- p_model is the geometric mean probability the model gave its own answer tokens (greedy decoding:
  low when the model hesitates between continuations, typical of invented answers);
- citation_factor is 1.0 when the draft cites at least one passage, NO_CITATION_FACTOR otherwise;
- grounding_factor is UNGROUNDED_NUMBER_FACTOR when the draft states a number (a price, a date, a
  limit) that appears in no passage, 1.0 otherwise;
- echo_factor is EXAMPLE_ECHO_FACTOR when the draft repeats three words in a row of the prompt's
  worked example that no passage has ("within 30 days of delivery" for a workspace deletion),
  1.0 otherwise: the model copied the example instead of the sources;
- support_factor is LOW_SUPPORT_FACTOR when no passage holds at least MIN_SUPPORT of the draft's
  key terms (numbers and longer words, `nlp.prompts.passage_support`), 1.0 otherwise: an answer
  that shares almost nothing with its sources ("The capital of France is Paris [1]") came from
  the model's own knowledge. The bar is low because answers in another language than the
  passages share only names, numbers and menu paths with them.
All of it reads everything the model wrote (`DraftResult.whole`), not only the part the customer
is shown (`nlp.answer_text`). A draft in which the model says the passages do not answer the
question has confidence 0. Weak retrieval is handled before drafting: no hits, or a top score
below `min_retrieval_score`, escalate without a draft (retrievers' score scales differ, so they
are gated, not multiplied in).
Calibrated on bench/bench_answers.py (see docs/models.md for the figures).
"""

from __future__ import annotations

from collections.abc import Sequence

from nlp.drafting import DraftResult
from nlp.prompts import example_echoes, passage_support, ungrounded_numbers

NO_CITATION_FACTOR = 0.8
UNGROUNDED_NUMBER_FACTOR = 0.5
MIN_SUPPORT = 0.25
LOW_SUPPORT_FACTOR = 0.5
EXAMPLE_ECHO_FACTOR = 0.5


def draft_confidence(result: DraftResult, passages: Sequence[str]) -> tuple[float, str]:
    """The draft's confidence and, when something lowered it, why (for the reviewing agent)."""
    if result.refused:
        return 0.0, "the passages do not answer the question"
    confidence = result.token_probability
    written = result.whole or result.text  # all the model wrote, not only the shown part
    reasons = []
    if not result.cited:
        confidence *= NO_CITATION_FACTOR
        reasons.append("the draft cites no passage")
    numbers = ungrounded_numbers(written, passages)
    if numbers:
        confidence *= UNGROUNDED_NUMBER_FACTOR
        # The reviewing agent sees the shown part only: say where the others are.
        shown = set(ungrounded_numbers(result.text, passages)) if result.whole else set(numbers)
        listed = [n if n in shown else f"{n} (in the part not shown)" for n in numbers[:5]]
        reasons.append("numbers not found in the passages: " + ", ".join(listed))
    echoes = example_echoes(written, passages)
    if echoes:
        confidence *= EXAMPLE_ECHO_FACTOR
        reasons.append("the draft repeats the prompt's worked example: " + ", ".join(echoes[:3]))
    support = max(passage_support(written, passages), default=0.0)
    if support < MIN_SUPPORT:
        confidence *= LOW_SUPPORT_FACTOR
        reasons.append(f"the draft shares few words with the passages ({support:.0%})")
    return max(0.0, min(1.0, confidence)), "; ".join(reasons)
