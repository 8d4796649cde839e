"""Bounding the conversation memory a draft sees, and resolving follow-up questions."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from bot.types import Turn
from retrieval.types import Hit, Retriever

FOLLOW_UP_MAX_WORDS = 8


def bound_history(
    turns: Sequence[Turn],
    *,
    max_turns: int,
    max_tokens: int,
    count_tokens: Callable[[str], int],
) -> tuple[Turn, ...]:
    """The most recent turns that fit both `max_turns` and `max_tokens`, oldest first.

    Whole turns are dropped from the oldest end (never cut mid-turn), and a leading assistant turn
    is dropped too, so the prompt's conversation always starts with the customer.
    """
    if max_turns <= 0 or max_tokens <= 0:
        return ()
    kept: list[Turn] = []
    used = 0
    for turn in reversed(turns[-max_turns:]):
        used += count_tokens(turn.text)
        if used > max_tokens:
            break
        kept.append(turn)
    kept.reverse()
    while kept and kept[0].role != "user":
        kept.pop(0)
    return tuple(kept)


def search_query(question: str, history: Sequence[Turn]) -> str:
    """The retrieval query for `question`, with the previous user question for short follow-ups.

    "And how much does that cost?" retrieves nothing useful on its own; prefixed with the question
    before it ("What does the Premium plan include?") it finds the Premium passages. Questions
    longer than FOLLOW_UP_MAX_WORDS words are taken as standalone. This costs no model call.
    """
    if len(question.split()) > FOLLOW_UP_MAX_WORDS:
        return question
    previous = [turn.text for turn in history if turn.role == "user"]
    if not previous:
        return question
    return f"{previous[-1]}\n{question}"


def retrieve(
    retriever: Retriever,
    question: str,
    history: Sequence[Turn],
    *,
    k: int,
    language: str | None = None,
) -> tuple[list[Hit], bool]:
    """The passages for `question`, and whether it is a new topic (False for a follow-up).

    A short question is searched both with the previous question (`search_query`) and alone,
    and the search whose best passage scores higher wins. It is a follow-up ("And how much does
    it cost?") or a new topic ("How much is the Business plan?"): the earlier question helps the
    first and muddies the second, and the better match tells which it is
    (bench/bench_followups.py). A long question, or one without history, is searched once and
    is not called a new topic (the conversation may still explain it).
    """
    query = search_query(question, history)
    hits = retriever.search(query, k=k, language=language)
    if query == question:
        return hits, False
    alone = retriever.search(question, k=k, language=language)
    if alone and (not hits or alone[0].score > hits[0].score):
        return alone, True
    return hits, False
