"""Summaries, multilingual writing and suggested articles, with a scripted chat model."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pytest

from bot.errors import InvalidInputError
from nlp.content import Summarizer, ThreadMessage, Writer, suggest_articles
from tests.fakes_nlp import PASSWORDS, PLANS

REPLY = "Summary: Ana reported the export failing; Bo will fix it."


@dataclass
class ScriptedChat:
    """Answers every chat with `reply`; one token per word; remembers the chats and batches."""

    reply: str = REPLY
    chats: list[list[dict[str, str]]] = field(default_factory=list)
    batches: list[tuple[int, int]] = field(default_factory=list)  # (chats, max_new_tokens)

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    def complete(
        self, chats: Sequence[Sequence[Mapping[str, str]]], *, max_new_tokens: int
    ) -> list[str]:
        self.chats += [[dict(m) for m in c] for c in chats]
        self.batches.append((len(chats), max_new_tokens))
        return [self.reply for _ in chats]


def thread(n: int) -> list[ThreadMessage]:
    return [
        ThreadMessage("Ana" if i % 2 else "Bo", f"message number {i} about the export")
        for i in range(n)
    ]


def test_short_thread_is_one_plain_call_with_quoted_points() -> None:
    chat = ScriptedChat()
    messages = [
        *thread(4),
        ThreadMessage("Cy", "OK, Bo ships a fix on Friday."),
        ThreadMessage("Ana", "Do we refund anyone?"),
    ]
    summary = Summarizer(chat).summarize(messages)
    assert len(chat.chats) == 1 and len(chat.chats[0]) == 1  # one plain user prompt
    prompt = chat.chats[0][0]["content"]
    assert prompt.startswith("Summarize this conversation:\n") and "Ana: message number 1" in prompt
    assert summary.text == "Ana reported the export failing; Bo will fix it."  # label dropped
    assert summary.decisions == ("Cy: OK, Bo ships a fix on Friday.",)
    assert summary.open_questions == ("Ana: Do we refund anyone?",)
    assert summary.participants == ("Bo", "Ana", "Cy") and summary.messages == 6
    assert summary.chunks == 1 and chat.batches == [(1, 220)]
    assert "Decisions:\n- Cy: OK, Bo ships" in summary.render()


def test_long_thread_is_chunked_batched_and_merged_never_cut() -> None:
    chat = ScriptedChat()
    summarizer = Summarizer(chat, budget=60)
    summary = summarizer.summarize(thread(200))
    assert summary.chunks > 10
    assert chat.batches[0] == (summary.chunks, 110)  # every chunk in one batch, short partials
    first_pass = chat.chats[: summary.chunks]
    text = "\n".join(c[-1]["content"] for c in first_pass)
    assert all(f"message number {i} " in text for i in range(200))  # every message was read
    merges = [c[-1]["content"] for c in chat.chats[summary.chunks :]]
    assert merges and all(m.startswith("These are summaries") for m in merges)
    assert all(size == 220 for _, size in chat.batches[1:])
    assert summary.text == "Ana reported the export failing; Bo will fix it."


def test_one_huge_message_is_split_not_dropped() -> None:
    chat = ScriptedChat()
    words = " ".join(f"w{i}" for i in range(500))
    summarizer = Summarizer(chat, budget=100)
    assert len(summarizer.chunk([f"Ana: {words}"])) >= 5
    summarizer.summarize([ThreadMessage("Ana", words)])
    assert "w499" in "\n".join(c[-1]["content"] for c in chat.chats)


def test_bot_only_or_empty_threads_are_clear_errors() -> None:
    summarizer = Summarizer(ScriptedChat())
    with pytest.raises(InvalidInputError, match="only bot messages"):
        summarizer.summarize(
            [ThreadMessage("parley", "hi", is_bot=True), ThreadMessage("a", " ", files=1)]
        )
    with pytest.raises(InvalidInputError, match="Cannot write summaries in 'xx'"):
        summarizer.summarize(thread(2), language="xx")


def test_summary_in_the_askers_language_is_translated() -> None:
    calls: list[tuple[list[str], str]] = []

    def translate(texts: list[str], target: str) -> list[str]:
        calls.append((texts, target))
        return [f"[{target}] {t}" for t in texts]

    messages = [*thread(3), ThreadMessage("Bo", "I'll ship a fix on Friday.")]
    summary = Summarizer(ScriptedChat(), translate=translate).summarize(messages, language="es")
    assert summary.language == "es" and summary.text.startswith("[es] Ana")
    assert summary.decisions == ("[es] Bo: I'll ship a fix on Friday.",)
    assert calls == [
        (
            ["Ana reported the export failing; Bo will fix it.", "Bo: I'll ship a fix on Friday."],
            "es",
        )
    ]


def test_writer_drafts_once_and_translates_the_rest() -> None:
    chat = ScriptedChat(reply="SSO is now available on the Premium plan.")
    writer = Writer(
        chat,
        translate=lambda texts, target: [f"[{target}] {t}" for t in texts],
        retrieve=lambda q: [PLANS.text],
    )
    drafts = writer.write("announce SSO", languages=["es", "en", "de"], tone="formal")
    assert [d.language for d in drafts] == ["es", "en", "de"]
    assert drafts[1].text == "SSO is now available on the Premium plan."
    assert drafts[0].text.startswith("[es] SSO") and drafts[0].translated_from == "en"
    assert len(chat.chats) == 1
    assert (
        "formal" in chat.chats[0][0]["content"]
        and "[1] Parley Premium" in chat.chats[0][1]["content"]
    )


@pytest.mark.parametrize(
    ("brief", "languages", "tone", "message"),
    [
        ("", ["en"], "friendly", "brief is empty"),
        ("x" * 2001, ["en"], "friendly", "keep it under 2000"),
        ("hi", ["tlh"], "friendly", "Cannot write in tlh"),
        ("hi", [], "friendly", "at least one language"),
        ("hi", ["en"], "angry", "Unknown tone"),
    ],
)
def test_writer_bad_input(brief: str, languages: list[str], tone: str, message: str) -> None:
    writer = Writer(ScriptedChat(), translate=lambda t, target: t)
    with pytest.raises(InvalidInputError, match=message):
        writer.write(brief, languages=languages, tone=tone)


def test_suggestions_skip_cited_and_repeated_documents() -> None:
    hits = [PLANS, PASSWORDS, PLANS]
    assert [s.doc_id for s in suggest_articles(hits, cited=["plans"])] == ["passwords"]
    assert [s.doc_id for s in suggest_articles(hits)] == ["plans", "passwords"]
    assert suggest_articles(hits, limit=1)[0].title == "Pricing plans"
