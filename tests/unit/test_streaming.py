"""Streaming without platforms: the publisher's pacing and failure handling, when a reply may be
streamed, what text a customer may see of a draft, and token streams in the backends' plumbing."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from itertools import pairwise
from typing import Any

import pytest

from bot.errors import TransientError
from bot.settings import Settings
from bot.types import IncomingMessage, MessageKind, OutgoingMessage
from nlp.answering import RetrievalAnswerer, streams
from nlp.drafting import DraftResult, visible_partial
from nlp.inference import GenerationOutput, GenerationRequest, MicroBatcher
from nlp.inference.streaming import TextStream
from retrieval.types import Hit
from tests.fakes_nlp import FakeDetector, FakeDrafter, FakeRetriever, FakeTranslator
from workers.pipeline import make_reply
from workers.preferences import ChannelSettings
from workers.streaming import ReplyStream, should_stream, stream_key


class RecordingStreamer:
    """A `Streamer` that records what it was asked to show, and when; can fail on demand."""

    def __init__(self, interval: float = 0.3, errors: Sequence[Exception] = ()) -> None:
        self._interval = interval
        self.errors = list(errors)
        self.shows: list[tuple[float, str]] = []
        self.indications = 0

    def interval(self, outgoing: OutgoingMessage) -> float:
        return self._interval

    def indicate(self, outgoing: OutgoingMessage) -> bool:
        self.indications += 1
        return False

    def show(self, outgoing: OutgoingMessage) -> None:
        if self.errors:
            raise self.errors.pop(0)
        self.shows.append((time.monotonic(), outgoing.text))


MESSAGE = IncomingMessage("slack", "C1", "U1", "hi", "Ev1", thread="1.2")
REPLY = make_reply(MESSAGE, "")
TARGET = OutgoingMessage("slack", "C1", "", stream_key(REPLY.idempotency_key))


def feed(stream: ReplyStream, words: int, every: float) -> list[str]:
    assert stream.on_text is not None
    texts = [" ".join(f"w{i}" for i in range(n + 1)) for n in range(words)]
    stream.on_text("")
    for text in texts:
        time.sleep(every)
        stream.on_text(text)
    return texts


def test_updates_coalesce_to_the_latest_text_within_the_interval() -> None:
    streamer = RecordingStreamer(interval=0.3)
    started = time.monotonic()
    with ReplyStream(streamer, TARGET, typing_interval=10) as stream:
        texts = feed(stream, 40, 0.025)
        time.sleep(0.5)
    elapsed = time.monotonic() - started
    assert streamer.indications == 1  # drafting started, no text yet
    shown = [text for _, text in streamer.shows]
    assert shown[-1] == texts[-1]
    assert 3 <= len(shown) <= elapsed / 0.3 + 1  # one update per 0.3 s, not one per word
    gaps = [b - a for (a, _), (b, _) in pairwise(streamer.shows)]
    assert all(g >= 0.29 for g in gaps)


def test_a_rate_limited_update_is_skipped_and_streaming_goes_on() -> None:
    streamer = RecordingStreamer(interval=0.1, errors=[TransientError("429", retry_after=0.6)])
    started = time.monotonic()
    with ReplyStream(streamer, TARGET) as stream:
        texts = feed(stream, 20, 0.05)
        time.sleep(0.3)
    assert streamer.shows[0][0] - started >= 0.6  # waited out Retry-After
    assert streamer.shows[-1][1] == texts[-1]


def test_a_broken_platform_never_fails_the_answer() -> None:
    streamer = RecordingStreamer(interval=0.05, errors=[RuntimeError("boom")] * 10)
    with ReplyStream(streamer, TARGET) as stream:
        feed(stream, 20, 0.02)
        time.sleep(0.3)
    assert len(streamer.errors) == 7  # gave up after three failures
    assert not streamer.shows


def test_closing_waits_for_the_update_in_flight() -> None:
    release = threading.Event()

    class Slow(RecordingStreamer):
        def show(self, outgoing: OutgoingMessage) -> None:
            release.wait(2)
            super().show(outgoing)

    streamer = Slow()
    stream = ReplyStream(streamer, TARGET).__enter__()
    assert stream.on_text is not None
    stream.on_text("first")
    time.sleep(0.1)
    threading.Timer(0.3, release.set).start()
    stream.close()
    assert [text for _, text in streamer.shows] == ["first"]


def test_the_final_reply_edits_the_streamed_message() -> None:
    stream = ReplyStream(RecordingStreamer(), TARGET)
    assert stream.final(REPLY).replaces == TARGET.idempotency_key
    other = OutgoingMessage("slack", "C9", "on-call notice", "notice:1")
    assert stream.final(other) is other
    disabled = ReplyStream()
    assert disabled.on_text is None and disabled.final(REPLY) is REPLY
    with disabled:
        pass


@pytest.mark.parametrize(
    ("channel", "kind", "platform", "streaming", "expected"),
    [
        (ChannelSettings(), MessageKind.MENTION, "slack", True, True),
        (ChannelSettings(), MessageKind.MENTION, "slack", False, False),
        (ChannelSettings(policy="review"), MessageKind.DM, "telegram", True, False),
        (ChannelSettings(confidence_threshold=0.7), MessageKind.DM, "telegram", True, False),
        (ChannelSettings(), MessageKind.COMMAND, "slack", True, False),
        (ChannelSettings(), MessageKind.COMMAND, "telegram", True, True),
        (ChannelSettings(policy="translate"), MessageKind.DM, "local", True, True),
    ],
)
def test_only_replies_straight_to_the_customer_stream(
    channel: ChannelSettings, kind: MessageKind, platform: str, streaming: bool, expected: bool
) -> None:
    message = IncomingMessage(platform, "C1", "U1", "hi", "e1", kind=kind)  # type: ignore[arg-type]
    settings = Settings(_env_file=None, streaming=streaming)  # type: ignore[call-arg]
    assert should_stream(message, channel, settings) is expected


@pytest.mark.parametrize(
    ("raw", "visible"),
    [
        ("Premium costs 49 euros [1", "Premium costs 49 euros"),
        ("Premium costs 49 euros [1] per month [1, 2]", "Premium costs 49 euros per month"),
        ("Answer: Premium costs", "Premium costs"),
        ("NO_ANS", ""),
        ("N", ""),
        ("NO_ANSWER", ""),
        ("I don't know the price", ""),
        ("No, it is free", "No, it is free"),
    ],
)
def test_customers_see_the_cleaned_answer_so_far(raw: str, visible: str) -> None:
    assert visible_partial(raw) == visible


class CharTokenizer:
    """Token i decodes to chr(i); 0xFFFD stands for half a multi-byte character."""

    def decode(self, ids: list[int], skip_special_tokens: bool = True) -> str:
        return "".join(chr(i) for i in ids)


def test_text_stream_stops_at_the_stop_token_and_survives_a_failing_callback() -> None:
    seen: list[str] = []
    stream = TextStream(CharTokenizer(), seen.append, stop_ids=[0], limit=10)
    for token in [ord("a"), 0xFFFD, ord("b"), 0, ord("c")]:
        stream.add(token)
    assert seen == ["a", "a\ufffdb"]  # held back while a character was incomplete

    def broken(text: str) -> None:
        raise ValueError("callback bug")

    failing = TextStream(CharTokenizer(), broken, stop_ids=[0], limit=10)
    failing.add(ord("a"))  # logged, not raised
    failing.add(ord("b"))


class StreamingBackend:
    """Streams each prompt's ids back as characters, then returns them."""

    name = "stream"
    tokenizer: Any = CharTokenizer()
    device = "cpu"
    max_context = 100

    def generate(self, requests: Sequence[GenerationRequest]) -> list[GenerationOutput]:
        outputs = []
        for request in requests:
            stream = (
                TextStream(self.tokenizer, request.on_text, [], 99) if request.on_text else None
            )
            for token in request.prompt_ids:
                if stream is not None:
                    stream.add(token)
            text = CharTokenizer().decode(list(request.prompt_ids))
            outputs.append(GenerationOutput(text, request.prompt_ids, (), 0, 0, 0.0))
        return outputs


def test_the_batcher_carries_each_requests_callback() -> None:
    batcher = MicroBatcher(StreamingBackend(), max_batch=4, max_wait=0.05)
    seen: dict[str, list[str]] = {"a": [], "b": []}
    requests = [
        GenerationRequest((ord("h"), ord("i")), 4, on_text=seen["a"].append),
        GenerationRequest((ord("y"), ord("o")), 4, on_text=seen["b"].append),
        GenerationRequest((ord("x"),), 4),
    ]
    outputs = batcher.generate(requests)
    assert [o.text for o in outputs] == ["hi", "yo", "x"]
    assert seen == {"a": ["h", "hi"], "b": ["y", "yo"]}


class StreamingDrafter(FakeDrafter):
    partial: str = "Premium costs"

    def draft(self, question: str, hits: Sequence[Hit], **kw: Any) -> DraftResult:
        on_text = kw.pop("on_text", None)
        if on_text is not None:
            on_text("")
            on_text(self.partial)
        return super().draft(question, hits, **kw)


def test_the_answerer_streams_only_after_retrieval_found_a_passage() -> None:
    settings = Settings(_env_file=None, answer_translation=False)  # type: ignore[call-arg]
    answerer = RetrievalAnswerer(settings, FakeRetriever(), StreamingDrafter(), FakeDetector())
    assert streams(answerer)
    seen: list[str] = []
    draft = answerer.answer("How much is Premium?", language="en", on_text=seen.append)
    assert seen == ["", "Premium costs"] and draft.action == "answer"
    empty = RetrievalAnswerer(settings, FakeRetriever(hits=[]), StreamingDrafter(), FakeDetector())
    seen.clear()
    assert empty.answer("Anything?", language="en", on_text=seen.append).action == "escalate"
    assert seen == []  # escalated before drafting: nothing was shown


@pytest.mark.parametrize(("asker", "shown"), [("en", True), ("de", False)])
def test_an_answer_that_will_be_translated_is_not_streamed(asker: str, shown: bool) -> None:
    settings = Settings(_env_file=None, answer_translation=True)  # type: ignore[call-arg]
    drafter = StreamingDrafter()
    drafter.partial = "Premium costs 49 euros per month and includes priority support, always."
    answerer = RetrievalAnswerer(
        settings,
        FakeRetriever(),
        drafter,
        FakeDetector(contains={"Premium costs": "en"}),
        lambda: FakeTranslator(),
    )
    seen: list[str] = []
    answerer.answer("How much is Premium?", language=asker, on_text=seen.append)
    assert seen == (["", drafter.partial] if shown else [""])  # "": the typing indicator
