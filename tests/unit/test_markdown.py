"""An answer's Markdown emphasis rendered per platform: Slack mrkdwn, Telegram HTML, terminal."""

from __future__ import annotations

from bot.cli.chat import _answer_line
from bot.markdown import spans
from bot.slack.render import answer_mrkdwn, render_reply
from bot.telegram.render import answer_html
from bot.telegram.render import render_reply as telegram_reply
from bot.types import OutgoingMessage

ANSWER = "Open **Settings > Security** and run `parley ask` [1]."


def test_bold_and_code_spans_are_split_out_of_the_text() -> None:
    assert spans(ANSWER) == [
        ("text", "Open "),
        ("bold", "Settings > Security"),
        ("text", " and run "),
        ("code", "parley ask"),
        ("text", " [1]."),
    ]
    # Unclosed (still streaming), empty, spaced or multi-line markers stay text.
    for text in ("Open **Settings", "a ** b ** c", "****", "**a\nb**", "2 * 3 * 4"):
        assert spans(text) == [("text", text)]
    assert spans("`**not bold**`") == [("code", "**not bold**")]


def test_slack_answers_get_mrkdwn_bold_and_stay_escaped() -> None:
    assert answer_mrkdwn(ANSWER) == "Open *Settings &gt; Security* and run `parley ask` [1]."
    assert answer_mrkdwn("**<!channel>** & `<@U1>`") == "*&lt;!channel&gt;* &amp; `&lt;@U1&gt;`"

    def reply(action: str) -> str:
        outgoing = OutgoingMessage(
            platform="slack", channel="C1", text="Click **Save**.", idempotency_key="k",
            metadata={"draft": {"action": action}},
        )  # fmt: skip
        return render_reply(outgoing)

    assert reply("answer") == "Click *Save*."
    assert reply("escalate").endswith("Click **Save**.")  # the handoff note is not an answer


def test_telegram_answers_get_html_tags_and_other_texts_are_only_escaped() -> None:
    assert answer_html(ANSWER) == (
        "Open <b>Settings &gt; Security</b> and run <code>parley ask</code> [1]."
    )
    assert answer_html("**<i>x</i>**") == "<b>&lt;i&gt;x&lt;/i&gt;</b>"
    assert telegram_reply("Click **Save**.", {"draft": {"action": "answer"}}) == [
        "Click <b>Save</b>."
    ]
    # A translation or notice (no draft) is escaped as it was; streaming passes answer=True.
    assert telegram_reply("Click **Save**.", {}) == ["Click **Save**."]
    assert telegram_reply("Click **Save**.", {}, answer=True) == ["Click <b>Save</b>."]


def test_the_terminal_shows_bold_without_the_markers() -> None:
    line = _answer_line(ANSWER)
    assert line.plain == "parley> Open Settings > Security and run parley ask [1]."
    styles = {line.plain[span.start : span.end]: str(span.style) for span in line.spans}
    assert styles["Settings > Security"] == "bold" and styles["parley ask"] == "cyan"
