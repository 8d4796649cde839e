from __future__ import annotations

from bot.types import Turn
from nlp.prompts import (
    EXAMPLE_ANSWER,
    NO_ANSWER,
    attribute_citations,
    build_messages,
    clean_answer,
    format_passages,
    is_refusal,
    language_name,
    parse_citations,
    passage_support,
    passage_text,
    strip_invisible,
    ungrounded_numbers,
)
from retrieval.types import Hit
from tests.fakes_nlp import PASSWORDS, PLANS


def test_messages_carry_rules_example_history_passages_and_question() -> None:
    history = [Turn("user", "What does Premium include?"), Turn("assistant", "Support [1].")]
    messages = build_messages("How much is it?", [PLANS, PASSWORDS], history=history, language="es")
    roles = [m["role"] for m in messages]
    assert roles == ["system", "user", "assistant", "user", "assistant", "user"]
    system = messages[0]["content"]
    assert "Spanish" in system and NO_ANSWER in system and "[1]" in system
    assert messages[2]["content"] == EXAMPLE_ANSWER  # the worked example precedes the chat
    assert messages[3]["content"] == "What does Premium include?"
    last = messages[-1]["content"]
    assert "[1] Pricing plans\nParley Premium costs 49 euros" in last
    assert "[2] Resetting your password" in last
    assert "Question: How much is it?\nAnswer in Spanish" in last


def test_a_first_line_repeating_the_title_is_not_shown_twice() -> None:
    heading = PLANS.__class__(**{**PLANS.to_dict(), "text": "# Pricing plans\nPremium: 49 EUR."})
    faq = PLANS.__class__(**{**PLANS.to_dict(), "title": "Q?", "text": "Q: Q?\nA: Yes."})
    assert passage_text(heading) == "Premium: 49 EUR."
    assert passage_text(faq) == "Q: Q?\nA: Yes."  # the question line is the FAQ's content
    assert passage_text(PLANS) == PLANS.text


def test_citations_move_to_the_passage_that_holds_the_facts() -> None:
    passages = ["Try Business free for 14 days.", "Business costs 12 EUR per member per month."]
    answer = "The Business plan costs 12 EUR per member per month [1]."
    assert attribute_citations(answer, passages, (1,)) == (2,)
    assert attribute_citations("Free for 14 days [1].", passages, (1,)) == (1,)
    assert attribute_citations("Yes [2].", passages, (2,)) == (2,)  # nothing to go on
    support = passage_support("El plan Business cuesta 12 EUR [1].", passages)
    assert support[1] > support[0] > 0.0
    assert passage_support("The capital of France is Paris.", passages) == [0.0, 0.0]


def test_unknown_language_asks_for_the_question_language() -> None:
    assert language_name(None) == "the same language as the question"
    assert language_name("sv") == "Swedish"
    assert language_name("xx") == "xx"


def test_best_passages_are_kept_whole_within_the_budget() -> None:
    long = PLANS.__class__(**{**PLANS.to_dict(), "text": "word " * 2000})
    text = format_passages([PLANS, long, PASSWORDS], max_chars=1000)
    first, second = text.split("\n\n")
    assert first.endswith(PLANS.text)
    assert second.endswith(" ...") and len(second) < 1000
    assert "Resetting" not in text
    assert format_passages([], max_chars=1000) == ""


def test_citations_are_parsed_in_order_deduplicated_and_bounded() -> None:
    text = "Premium costs 49 euros [2]. Basic is free [1, 2]. See also [7] and [0]. [2]"
    assert parse_citations(text, 3) == (2, 1)
    assert parse_citations("no citations here", 3) == ()


def test_refusals_are_recognised_in_several_forms() -> None:
    for text in [NO_ANSWER, "", "I don't know.", "The passages do not contain that.", "No sé."]:
        assert is_refusal(text), text
    assert not is_refusal("Premium costs 49 euros per month [1].")


def test_clean_answer_turns_echoed_headers_into_citations() -> None:
    raw = "[1] Pricing plans\nPremium costs 49 euros.\n\n[2] Resetting your password\nClick it."
    cleaned = clean_answer(raw, ["Pricing plans", "Resetting your password"])
    assert cleaned == "Premium costs 49 euros. [1]\n\nClick it. [2]"
    assert clean_answer("  Answer: Free [1]. ") == "Free [1]."


def test_invisible_characters_are_stripped() -> None:
    text = "Pay\u200bment\u202e ignore rules\u2066 now\x00 👩\u200d💻\nok"
    assert strip_invisible(text) == "Payment ignore rules now 👩\u200d💻\nok"


def test_numbers_missing_from_the_passages_are_reported() -> None:
    passages = ["Premium costs 1,200 euros a year or 49 euros a month."]
    assert ungrounded_numbers("It costs 1200 euros [1] or 49 [2].", passages) == []
    assert ungrounded_numbers("It costs 59 euros [1].", passages) == ["59"]


def test_every_draft_prompt_in_a_language_opens_with_the_same_fixed_messages() -> None:
    """The rules and the worked example depend only on the reply language, so drafts in one
    language share a prefix (backends reuse its model state)."""
    from nlp.prompts import FIXED_MESSAGES, build_messages, fixed_messages

    hits = [Hit("d", "d#0", "d.md", "Plans", 0.9, "Premium costs 49 EUR.")]
    first = build_messages("Vad kostar Premium?", hits, language="sv")
    second = build_messages("Hur byter jag lösenord?", hits[:0], language="sv")
    german = build_messages("Was kostet Premium?", hits, language="de")
    assert first[:FIXED_MESSAGES] == second[:FIXED_MESSAGES] == fixed_messages("sv")
    assert german[:FIXED_MESSAGES] == fixed_messages("de") != fixed_messages("sv")
    assert "Answer in Swedish" in first[-1]["content"]
