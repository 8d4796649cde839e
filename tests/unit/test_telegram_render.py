"""Rendering for Telegram: HTML escaping, UTF-16 lengths, splitting, citations, escalation."""

from __future__ import annotations

from bot.telegram.render import (
    ESCALATION_NOTE,
    MAX_MESSAGE_UTF16,
    escape,
    render_reply,
    split_text,
    utf16_len,
)


def test_escape_covers_html_specials_only() -> None:
    assert escape('<b>Tom & Jerry</b> "quoted" *stars*') == (
        '&lt;b&gt;Tom &amp; Jerry&lt;/b&gt; "quoted" *stars*'
    )


def test_utf16_counts_astral_characters_twice() -> None:
    assert utf16_len("abc") == 3
    assert utf16_len("😀") == 2
    assert utf16_len("é中") == 2


def test_split_respects_the_limit_in_utf16_units() -> None:
    text = "😀" * 3000  # 6000 UTF-16 units in 3000 code points
    chunks = split_text(text)
    assert len(chunks) == 2
    assert all(utf16_len(c) <= MAX_MESSAGE_UTF16 for c in chunks)
    assert "".join(chunks) == text  # no surrogate pair cut in half


def test_split_prefers_paragraph_and_word_boundaries() -> None:
    text = ("word " * 700).strip() + "\n\n" + ("more " * 300).strip()
    chunks = split_text(text)
    assert chunks[0].endswith("word") and chunks[1].startswith("more")
    words = " ".join(chunks).split()
    assert len(words) == 1000


def test_short_text_is_one_chunk() -> None:
    assert split_text("hello") == ["hello"]


def test_render_adds_citations_and_escapes() -> None:
    draft = {
        "action": "answer",
        "citations": [
            {"doc_id": "d1", "source": "faq.md", "title": "FAQ <1>", "url": None},
            {
                "doc_id": "d2",
                "source": "web",
                "title": "Docs",
                "url": "https://x.example/a?b=1&c=2",
            },
        ],
    }
    (message,) = render_reply("1 < 2 & 3 > 2", {"draft": draft})
    assert message.startswith("1 &lt; 2 &amp; 3 &gt; 2\n\n<b>Sources:</b>\n")
    assert "1. FAQ &lt;1&gt; (faq.md)" in message
    assert '2. <a href="https://x.example/a?b=1&amp;c=2">Docs</a>' in message
    assert "<br" not in message


def test_render_escalation_note_is_visible_and_has_no_sources() -> None:
    draft = {"action": "escalate", "citations": [{"doc_id": "d", "source": "s", "title": "T"}]}
    (message,) = render_reply("Ich habe Ihre Frage weitergegeben.", {"draft": draft})
    assert message == "<i>Ich habe Ihre Frage weitergegeben.</i>"
    assert render_reply("", {"draft": draft}) == [f"<i>{ESCALATION_NOTE}</i>"]


def test_render_long_reply_splits_and_keeps_sources_last() -> None:
    draft = {"action": "answer", "citations": [{"doc_id": "d", "source": "s", "title": "T"}]}
    messages = render_reply("a" * 5000, {"draft": draft})
    assert len(messages) == 2
    assert "Sources" in messages[-1] and "Sources" not in messages[0]
    assert utf16_len(messages[0]) <= MAX_MESSAGE_UTF16
