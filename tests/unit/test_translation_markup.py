"""Chat markup protection: protect -> translate -> restore keeps every protected span exactly."""

from __future__ import annotations

import random

import pytest

from nlp.chat_markup import (
    PlaceholderError,
    has_words,
    placeholders_in,
    protect,
    restore,
)

CHAT_TEXTS = [
    "Hey <@U123ABC> can you check https://example.com/a?b=1&c=2 before `make release`? :tada: 🎉",
    "*Bold* and _italic_ and ~strike~ with <https://x.io/docs|the docs> in <#C01|general> <!here>",
    "<!subteam^S123|@oncall> please look at <mailto:ops@example.com|ops> 👩‍💻👍🏽",
    "- first item\n- second item for @john_doe\n\n1. numbered\n2) other\n> quoted *text*",
    "```\ndef f(x):\n    return {x: 1}\n```\nafter the code block",
    'Telegram <b>bold</b>, <i>it</i>, <a href="https://t.me/x">link</a> and [docs](https://t.me/y)',
    "||spoiler|| __underline__ ~~gone~~ **strong** #release #v2",
    "{0} is literal here, and {12} too; snake_case_name stays, time 10:30:45",
    "Email me at jane.doe+tag@example.co.uk or visit www.example.org/path.",
    "🇸🇪 flag, keycap 1️⃣, ❤️ and :white_check_mark: :+1: done",
    "Trailing URL in parens (https://example.com/page) and end https://example.com.",
    "   indented line\ttab\r\nwindows line\n\n\n",
    "",
    "👍👍",
    "`only code`",
    "Mixed: Parley invoice for <@U1> <@U2> at https://a.b",
]


def uppercase(text: str) -> str:
    """A stand-in "translation" that changes every letter outside placeholders."""
    return text.upper()


@pytest.mark.parametrize("text", CHAT_TEXTS)
def test_identity_round_trip(text: str) -> None:
    protected = protect(text)
    assert restore(protected.text, protected) == text


@pytest.mark.parametrize("text", CHAT_TEXTS)
def test_protected_spans_survive_a_translation(text: str) -> None:
    protected = protect(text)
    out = restore(uppercase(protected.text), protected)
    for value in protected.values:
        assert value in out


@pytest.mark.parametrize(
    "span",
    [
        "<@U123ABC>",
        "<#C01|general>",
        "<!here>",
        "<https://x.io/docs|the docs>",
        "@john_doe",
        "https://example.com/a?b=1&c=2",
        "`make release`",
        ":tada:",
        "🎉",
        "👩‍💻",
        "<b>",
        "[docs](https://t.me/y)",
        "jane.doe+tag@example.co.uk",
    ],
)
def test_each_kind_of_span_is_hidden_from_the_model(span: str) -> None:
    protected = protect(f"please look at {span} now")
    assert span not in protected.text
    assert span in protected.values


def test_url_does_not_swallow_trailing_punctuation() -> None:
    protected = protect("see https://example.com/page.")
    assert protected.values == ("https://example.com/page",)
    assert protected.text.endswith("{0}.")


def test_adjacent_spans_share_one_placeholder() -> None:
    protected = protect("ping <@U1> <@U2> :wave: please")
    assert protected.text == "ping {0} please"


def test_citation_markers_are_protected_but_brackets_in_prose_are_not() -> None:
    protected = protect("Premium costs 49 euros [1], Basic is free [2, 3].")
    assert protected.text == "Premium costs 49 euros {0}, Basic is free {1}."
    assert protected.values == ("[1]", "[2, 3]")
    assert protect("[x] done, see [the docs] and [a1]").values == ()


def test_snake_case_and_times_are_not_markup() -> None:
    assert protect("use snake_case_name at 10:30:45").values == ()


def test_emphasis_markers_are_protected_but_their_words_are_not() -> None:
    protected = protect("this is *very* important")
    assert protected.text == "this is {0}very{1} important"


def test_code_block_spans_lines_inside_one_placeholder() -> None:
    protected = protect("```\na\nb\n```\ntext")
    assert protected.text == "{0}\ntext"


def test_glossary_terms_are_replaced_whole_word_case_insensitively() -> None:
    protected = protect(
        "The Invoice from parley, not invoices",
        replacements={"invoice": "factura", "Parley": "Parley"},
    )
    assert protected.text == "The {0} from {1}, not invoices"
    assert restore(protected.text, protected) == "The factura from Parley, not invoices"


def test_glossary_term_inside_a_url_stays_part_of_the_url() -> None:
    protected = protect("see https://parley.dev/invoice", replacements={"invoice": "factura"})
    assert protected.values == ("https://parley.dev/invoice",)


@pytest.mark.parametrize("mangled", ["lost it", "{0} {0} {1}", "{0} {1} {2}", "{1}"])
def test_restore_refuses_mangled_placeholders(mangled: str) -> None:
    protected = protect("hi <@U1> see https://a.b/c now")
    assert placeholders_in(protected.text) == [0, 1]
    with pytest.raises(PlaceholderError):
        restore(mangled, protected)


def test_has_words_ignores_placeholders() -> None:
    assert not has_words("{0} {1} !")
    assert has_words("{0} hola")


def _random_chat(rng: random.Random) -> str:
    atoms = [
        "hello", "world", "hola", "danke", "<@U9>", "<#C1|x>", "<!channel>", "https://q.io/x?y=1",
        "`rm -rf`", ":smile:", "😀", "@alice_b", "*bold*", "_it_", "~s~", "{3}", "\n", "- ", "1. ",
        "> ", ",", ".", "?", "Parley", "<https://z.io|z>", "[a](https://b.c)", "<b>x</b>", "#tag",
    ]  # fmt: skip
    return "".join(
        rng.choice(atoms) + rng.choice(["", " ", "  "]) for _ in range(rng.randint(1, 14))
    )


def test_property_round_trip_on_random_chat_texts() -> None:
    rng = random.Random(4)
    for _ in range(500):
        text = _random_chat(rng)
        protected = protect(text, replacements={"Parley": "Parley"})
        assert restore(protected.text, protected) == text
        assert restore(uppercase(protected.text), protected).count("<@U9>") == text.count("<@U9>")
