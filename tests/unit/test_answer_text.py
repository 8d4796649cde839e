"""What a customer is shown of a draft: first section, re-flowed lines, whole sentences."""

from __future__ import annotations

from collections.abc import Sequence

from nlp.answer_text import first_section, reflow, shown_answer, whole_sentences
from nlp.confidence import draft_confidence
from nlp.drafting import LLMDrafter
from nlp.inference import GenerationOutput, GenerationRequest
from nlp.partial_drafts import visible_partial
from retrieval.types import Hit
from tests.unit.test_inference_drafting import WordTokenizer

# What the 0.5B model wrote for "How do I reset my password?" (bench/data/answers_eval_howto).
COPIED = """## Forgotten password

Open the sign-in page at app.parley.example and click **Forgot password?**. Enter the email address
of your account; we send a reset link that stays valid for 30 minutes. The link works once.

## Changing your password [2]

Signed in, open **Settings > Security > Change password**. Passwords need at least 12 characters.

## Deleting your own account [3]

Open **Settings > Account > Delete account**. Deletion is final after"""

ANSWER = (
    "Open the sign-in page at app.parley.example and click **Forgot password?**. Enter the email "
    "address of your account; we send a reset link that stays valid for 30 minutes. The link "
    "works once."
)


def test_a_copied_page_is_cut_to_its_first_section_without_the_heading() -> None:
    assert first_section(COPIED) == (
        COPIED.split("\n\n")[1],
        True,
    )
    assert shown_answer(COPIED, cut=True) == ANSWER


def test_headings_only_or_none_leave_the_text_as_it_was() -> None:
    assert first_section("## Plans and prices [1]") == ("## Plans and prices [1]", False)
    assert first_section("It costs 6 EUR [1].") == ("It costs 6 EUR [1].", False)
    # A heading still being streamed ("#", "## ") is not shown.
    assert first_section("It works.\n\n## ") == ("It works.", False)
    # A heading after the first one, before any text, is dropped too.
    assert first_section("# Title\n## Part\nText.\n## Next\nMore.") == ("Text.", True)


def test_lines_broken_inside_a_paragraph_are_joined_and_blocks_kept() -> None:
    text = "Use these:\n- one\n- two\n\nThen run\n```\nparley ask\n  --json\n```\n> quoted\n1. step"
    assert reflow(text) == text  # list items, code, quotes, numbered steps keep their lines
    assert reflow("The key expires\nafter 365 days.\n\nNew paragraph\nhere.") == (
        "The key expires after 365 days.\n\nNew paragraph here."
    )
    # A heading or a table row is not joined with the line after it.
    assert reflow("## Refunds\nYou can\ncancel.\n| a |\n| b |") == (
        "## Refunds\nYou can cancel.\n| a |\n| b |"
    )


def test_a_draft_the_budget_cut_ends_at_its_last_whole_sentence() -> None:
    assert whole_sentences("It costs 6 EUR [1]. Deletion is final after") == "It costs 6 EUR [1]."
    assert whole_sentences('Click **Save**." Then') == 'Click **Save**."'
    assert whole_sentences("No sentence ends here") == "No sentence ends here …"
    # Not cut by the budget: the model ended it, as it is.
    assert shown_answer("It costs 6 EUR [1]. And then") == "It costs 6 EUR [1]. And then"
    assert shown_answer("It costs 6 EUR [1]. And then", cut=True) == "It costs 6 EUR [1]."


def test_a_period_doubled_around_the_citation_is_made_one() -> None:
    assert shown_answer("Ask an administrator for a new key. [1].") == (
        "Ask an administrator for a new key [1]."
    )
    assert shown_answer("Really? [1, 2].") == "Really [1, 2]?"
    assert shown_answer("Version 2.5 [1].") == "Version 2.5 [1]."


class CopyingBackend:
    """Writes the copied page, cut by the budget, as the 0.5B model did."""

    name = "copying"
    device = "cpu"
    max_context = 32768

    def __init__(self, text: str) -> None:
        self.text = text
        self.tokenizer = WordTokenizer()

    def generate(self, requests: Sequence[GenerationRequest]) -> list[GenerationOutput]:
        out = []
        for r in requests:
            if r.on_text is not None:
                r.on_text(self.text)
            ids = tuple(range(r.max_new_tokens))  # the whole budget: cut, no stop token
            out.append(GenerationOutput(self.text, ids, (-0.05,) * len(ids), 10, len(ids), 0.1))
        return out


PASSAGES = [
    Hit("passwords", "passwords#0", "passwords.md", "Resetting your password", 0.9,
        COPIED.replace(" [2]", "").replace(" [3]", "")),
    Hit("plans", "plans#0", "plans.md", "Plans", 0.8, "The Team plan costs 6 EUR."),
]  # fmt: skip


def test_the_drafter_shows_the_first_section_and_scores_all_it_wrote() -> None:
    drafter = LLMDrafter(CopyingBackend(COPIED), max_new_tokens=50)
    streamed: list[str] = []
    result = drafter.draft("How do I reset my password?", PASSAGES, on_text=streamed.append)
    assert result.text == ANSWER.removesuffix(".") + " [1]."  # attributed to the page it copied
    assert result.cited == (1,)
    assert result.whole.startswith("## Forgotten password") and "Deleting" in result.whole
    assert streamed[-1] == visible_partial(COPIED) == ANSWER  # the stream never shows the rest
    # Scored on everything written: an invented number in the left-out part still counts.
    invented = LLMDrafter(CopyingBackend(COPIED + " 99 days."), max_new_tokens=50)
    doubted = invented.draft("How do I reset my password?", PASSAGES)
    assert doubted.text == result.text
    passages = [hit.text for hit in PASSAGES]
    assert draft_confidence(doubted, passages)[0] < draft_confidence(result, passages)[0]
    assert draft_confidence(doubted, passages)[1] == (
        "numbers not found in the passages: 99 (in the part not shown)"
    )
