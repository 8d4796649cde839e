from __future__ import annotations

from bot.types import Turn
from nlp.history import bound_history, retrieve, search_query
from retrieval.types import Hit


def words(text: str) -> int:
    return len(text.split())


def conversation(n: int) -> list[Turn]:
    return [Turn("user" if i % 2 == 0 else "assistant", f"turn {i} text") for i in range(n)]


def test_history_keeps_the_most_recent_turns() -> None:
    kept = bound_history(conversation(10), max_turns=4, max_tokens=1000, count_tokens=words)
    assert [t.text for t in kept] == ["turn 6 text", "turn 7 text", "turn 8 text", "turn 9 text"]


def test_history_is_bounded_in_tokens_dropping_whole_turns_and_leading_assistant() -> None:
    kept = bound_history(conversation(10), max_turns=10, max_tokens=10, count_tokens=words)
    # 3 turns of 3 tokens fit; the oldest of them is an assistant turn, so it goes too.
    assert [t.text for t in kept] == ["turn 8 text", "turn 9 text"]


def test_history_can_be_switched_off() -> None:
    assert bound_history(conversation(4), max_turns=0, max_tokens=100, count_tokens=words) == ()
    assert bound_history(conversation(4), max_turns=4, max_tokens=0, count_tokens=words) == ()


def test_short_follow_ups_carry_the_previous_question() -> None:
    history = [Turn("user", "What does Premium include?"), Turn("assistant", "Support [1].")]
    query = search_query("and how much does that cost?", history)
    assert query == "What does Premium include?\nand how much does that cost?"


def test_standalone_questions_are_searched_as_they_are() -> None:
    history = [Turn("user", "What does Premium include?")]
    long = "How do I reset the password of my account when I no longer have the email?"
    assert search_query(long, history) == long
    assert search_query("and the price?", []) == "and the price?"


class ScoredRetriever:
    """Answers each query with one hit whose score the test sets; records the queries."""

    def __init__(self, scores: dict[str, float]) -> None:
        self.scores = scores
        self.queries: list[str] = []

    def search(self, query: str, k: int = 5, language: str | None = None) -> list[Hit]:
        self.queries.append(query)
        score = self.scores.get(query)
        return [] if score is None else [Hit(query, f"{query}#0", "kb", query, score, query)]


def test_a_short_question_is_searched_with_and_without_the_previous_one() -> None:
    history = [Turn("user", "How do I delete my workspace?")]
    joined = "How do I delete my workspace?\nHow much is the Business plan?"
    # A new topic: the question alone matches better, so its passages win.
    retriever = ScoredRetriever({joined: 0.80, "How much is the Business plan?": 0.87})
    hits, new_topic = retrieve(retriever, "How much is the Business plan?", history, k=3)
    assert [h.doc_id for h in hits] == ["How much is the Business plan?"] and new_topic
    assert retriever.queries == [joined, "How much is the Business plan?"]
    # A follow-up: the previous question makes the better match.
    follow = "How do I delete my workspace?\nCan I undo that?"
    retriever = ScoredRetriever({follow: 0.88, "Can I undo that?": 0.81})
    hits, new_topic = retrieve(retriever, "Can I undo that?", history, k=3)
    assert [h.doc_id for h in hits] == [follow] and not new_topic
    # Nothing found jointly: the question alone; a long question is searched once.
    retriever = ScoredRetriever({"Can I undo that?": 0.7})
    assert retrieve(retriever, "Can I undo that?", history, k=3)[0][0].score == 0.7
    long = "How do I reset the password of my account when I no longer have the email?"
    retriever = ScoredRetriever({long: 0.9})
    assert retrieve(retriever, long, history, k=3)[1] is False  # not called a new topic
    assert retriever.queries == [long]
