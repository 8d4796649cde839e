"""The review card in Telegram HTML: content, escaping, the 4,096 limit, keyboards."""

from __future__ import annotations

from typing import Any

from telegram import ForceReply, InlineKeyboardMarkup

from bot.telegram.keyboards import edited_markup, inline_keyboard, reply_markup
from bot.telegram.render import MAX_MESSAGE_UTF16
from bot.telegram.review_card import clip, render_card, visible_len
from bot.types import Button, OutgoingMessage

RID = "3f9c2a1b7d4e6f80"
BUTTONS = (
    Button("Approve", "review:approve", RID),
    Button("Edit", "review:edit", RID),
    Button("Reject", "review:reject", RID),
)


def card(**changes: Any) -> dict[str, Any]:
    review: dict[str, Any] = {
        "review_id": RID,
        "status": "pending",
        "customer": {
            "platform": "slack",
            "channel": "C0SUPPORT",
            "user": "U42",
            "user_name": "Jürgen <J> & Co",
            "where": "#support",
        },
        "customer_text": "Wie setze ich mein Passwort <zurück>?",
        "customer_language": "de",
        "customer_text_translated": "How do I reset my password <back>?",
        "agent_language": "en",
        "draft_text": "Öffnen Sie Einstellungen & klicken Sie auf 'Zurücksetzen'.",
        "draft_translated": "Open Settings & click 'Reset'.",
        "passages": [
            {
                "title": "Password FAQ",
                "source": "faq.md",
                "url": "https://docs.example/faq?a=1&b=2",
                "score": 0.8312,
                "text": "To reset your password, open <Settings>.",
            },
            {"title": "Accounts", "source": "acc.md", "url": None, "score": 0.5, "text": "x"},
        ],
        "confidence": 0.42,
        "reason": "low confidence",
        "decided_by": "",
        "decided_at": "",
        "final_text": "",
        "final_text_sent": "",
        "reject_reason": "",
        "expires_at": 1_764_075_600.0,
    }
    review.update(changes)
    return review


def test_pending_card_shows_everything_escaped() -> None:
    html = render_card("fallback", {"review": card()})
    assert html.startswith(f"<b>Review {RID}</b> · ⏳ Waiting for review")
    assert "From <b>Jürgen &lt;J&gt; &amp; Co</b> (slack:U42) in #support" in html
    assert "Confidence: <b>0.42</b> · Why: low confidence" in html
    assert "<blockquote>Wie setze ich mein Passwort &lt;zurück&gt;?</blockquote>" in html
    assert "<i>Translation (en):</i>\n<blockquote>How do I reset my password &lt;back&gt;?" in html
    assert "<b>Draft</b> (de):\n<blockquote>Öffnen Sie Einstellungen &amp; klicken" in html
    assert (
        "<i>Draft in en:</i>\n<blockquote>Open Settings &amp; click 'Reset'.</blockquote>" in html
    )
    assert '1. <a href="https://docs.example/faq?a=1&amp;b=2">Password FAQ</a> (0.83)' in html
    assert "<blockquote expandable>To reset your password, open &lt;Settings&gt;." in html
    assert "2. Accounts (0.50)" in html
    assert "Expires 2025-11-25 13:00 UTC." in html


def test_same_language_has_no_translation_lines() -> None:
    html = render_card("", {"review": card(customer_text_translated="", draft_translated="")})
    assert "Translation" not in html and "Draft in" not in html


def test_decided_card_shows_the_outcome() -> None:
    review = card(
        status="rejected",
        decided_by="Ana",
        decided_at="1764072120.5",
        reject_reason="wrong <product>",
        final_text="Please use the app.",
        final_text_sent="Bitte nutzen Sie die App.",
    )
    html = render_card("", {"review": review})
    assert html.startswith(f"<b>Review {RID}</b> · ❌ Rejected")
    assert "<b>❌ Rejected</b> by Ana at 2025-11-25 12:02 UTC." in html
    assert "Reason: wrong &lt;product&gt;" in html
    assert "Written:\n<blockquote>Please use the app.</blockquote>" in html
    assert (
        "<b>Sent to the customer</b>:\n<blockquote>Bitte nutzen Sie die App.</blockquote>" in html
    )
    assert "Expires" not in html


def test_long_card_fits_by_shortening_passages_first() -> None:
    passages = [
        {"title": f"Doc {i}", "score": 0.5, "text": "passage words " * 200} for i in range(8)
    ]
    html = render_card("", {"review": card(passages=passages)})
    assert visible_len(html) <= MAX_MESSAGE_UTF16
    assert "Wie setze ich mein Passwort" in html  # the texts stay whole
    assert "Open Settings &amp; click 'Reset'." in html
    assert "1. Doc 0 (0.50)" in html and "…" in html


def test_huge_texts_are_clipped_to_fit() -> None:
    review = card(customer_text="😀" * 5000, draft_text="b" * 5000, draft_translated="c" * 5000)
    html = render_card("", {"review": review})
    assert visible_len(html) <= MAX_MESSAGE_UTF16
    assert "Passages" not in html  # dropped before the texts were clipped
    assert f"Review {RID}" in html and "b…" in html


def test_without_review_metadata_the_plain_text_is_used() -> None:
    assert render_card("a < b", {}) == "a &lt; b"
    assert visible_len(render_card("x" * 5000, {})) == MAX_MESSAGE_UTF16


def test_clip_counts_utf16_and_never_splits_a_pair() -> None:
    assert clip("abc", 3) == "abc"
    assert clip("😀😀😀", 4) == "😀…"
    assert clip("abcdef", None) == "abcdef"


def test_keyboards() -> None:
    out = OutgoingMessage("telegram", "-100", "t", "k", buttons=BUTTONS, kind="review")
    markup = inline_keyboard(BUTTONS)
    assert isinstance(markup, InlineKeyboardMarkup)
    datas = [b.callback_data for b in markup.inline_keyboard[0]]
    assert datas == [f"review:approve:{RID}", f"review:edit:{RID}", f"review:reject:{RID}"]
    assert reply_markup(out) == markup and edited_markup(out) == markup
    decided = OutgoingMessage("telegram", "-100", "t", "k2", kind="review", replaces="k")
    assert edited_markup(decided) == InlineKeyboardMarkup([])  # removes the keyboard
    assert edited_markup(OutgoingMessage("telegram", "1", "t", "k3", kind="notice")) is None
    prompt = OutgoingMessage(
        "telegram", "-100", "t", "k4", metadata={"force_reply": True, "placeholder": "x" * 80}
    )
    force = reply_markup(prompt)
    assert isinstance(force, ForceReply) and force.input_field_placeholder == "x" * 64
    assert inline_keyboard((Button("Too long", "review:approve", "x" * 60),)) is None


def test_content_card_shows_the_brief_without_confidence() -> None:
    review = card(
        kind="content", customer_text="announce SSO", customer_language="",
        customer_text_translated="", draft_text="[en]\nSSO is here", draft_translated="",
        passages=[], confidence=1.0, reason="content draft: posted in the channel once approved",
    )  # fmt: skip
    html = render_card("", {"review": review})
    assert "Content draft" in html and "Confidence" not in html
    assert "<b>Brief</b>:\n<blockquote>announce SSO</blockquote>" in html
    assert "<b>Draft</b>:\n<blockquote>[en]\nSSO is here</blockquote>" in html


def test_the_draft_shows_its_emphasis_as_the_customer_will_see_it() -> None:
    review = card(draft_text="Öffnen Sie **Einstellungen > Konto**.", customer_text="**Hilfe**")
    html = render_card("", {"review": review})
    assert "<blockquote>Öffnen Sie <b>Einstellungen &gt; Konto</b>.</blockquote>" in html
    assert "<blockquote>**Hilfe**</blockquote>" in html  # the customer's words, as typed
