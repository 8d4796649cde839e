"""Escaping, citations, escalation notes and splitting of Slack text."""

from __future__ import annotations

from bot.slack.render import ESCALATION_MARK, escape, render_reply, split_text
from bot.types import OutgoingMessage


def _reply(text: str, draft: dict[str, object] | None = None) -> OutgoingMessage:
    return OutgoingMessage(
        platform="slack", channel="C1", text=text, idempotency_key="k", metadata={"draft": draft}
    )


def test_model_output_cannot_mention_anyone() -> None:
    text = render_reply(_reply("Hi <!channel> and <@U123> & <https://evil|x>"))
    assert "<!channel>" not in text and "<@U123>" not in text
    assert text == "Hi &lt;!channel&gt; and &lt;@U123&gt; &amp; &lt;https://evil|x&gt;"
    assert escape("a<b>&") == "a&lt;b&gt;&amp;"


def test_citations_as_links_or_names_and_escalation_note() -> None:
    draft: dict[str, object] = {
        "action": "answer",
        "citations": [
            {"doc_id": "1", "source": "faq.md", "title": "FAQ <1>", "url": "https://kb.io/faq"},
            {"doc_id": "2", "source": "guide.pdf", "title": "", "url": None},
        ],
    }
    text = render_reply(_reply("Yes.", draft))
    assert text == "Yes.\n\nSources: <https://kb.io/faq|FAQ &lt;1&gt;>, guide.pdf"
    draft["action"] = "escalate"
    note = "I've passed your question to a person."
    assert render_reply(_reply(note, draft)) == f"{ESCALATION_MARK} {note}"


def test_split_at_safe_boundaries() -> None:
    text = ("word " * 900).strip()
    parts = split_text(text, 1000)
    assert all(len(p) <= 1000 for p in parts)
    assert " ".join(parts) == text
    entity = "x" * 997 + "&amp;" + "y" * 10
    head, tail = split_text(entity, 1000)
    assert head == "x" * 997 and tail.startswith("&amp;")
    link = "x" * 990 + " <https://a.io|label> end"
    assert all(p.count("<") == p.count(">") for p in split_text(link, 1000))
    assert split_text("", 10) == [""]
