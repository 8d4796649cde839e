"""Streaming replies: the answer shown while the model writes it (docs/runtime.md "Streaming").

The answering task opens a `ReplyStream` for replies that go straight to the customer. Its
publisher thread gets the visible answer so far from the drafter (`on_text`, called from the
generation thread) and, per platform `Streamer`, shows a working indicator once drafting starts,
then posts one message and edits it with the latest text, at most once per interval (updates
coalesce; a rate-limited update is skipped, never queued). The streamed message is kept under
`stream_key(reply key)` (`PostedMessages`); the final reply names it in `replaces`, so the
delivery task edits it, exactly once per reply key, also after a retry.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from types import TracebackType
from typing import Protocol

import redis

from bot.errors import TransientError
from bot.settings import Settings
from bot.types import IncomingMessage, MessageKind, OutgoingMessage
from nlp.inference.types import PartialText
from workers.keys import Keys
from workers.pipeline import make_reply
from workers.preferences import ChannelSettings

log = logging.getLogger(__name__)

MAX_FAILURES = 3  # the publisher gives up on a platform that keeps refusing
JOIN_SECONDS = 30.0  # longer than the SDKs' HTTP timeouts: no update may land after the final


class Streamer(Protocol):
    """Shows one reply in progress on a platform (`outgoing.idempotency_key` is the stream key)."""

    def interval(self, outgoing: OutgoingMessage) -> float:
        """Fewest seconds between two updates of a streamed message in this chat."""
        ...

    def indicate(self, outgoing: OutgoingMessage) -> bool:
        """Show that Parley is working; True when that posted the streamed message."""
        ...

    def show(self, outgoing: OutgoingMessage) -> None:
        """Post the streamed message with `outgoing.text`, or edit it to that text.
        TransientError (with `retry_after`) when rate limited: the update is skipped."""
        ...


StreamerFactory = Callable[[Settings, redis.Redis], Streamer]


def stream_key(reply_key: str) -> str:
    """The idempotency key the streamed message of a reply is recorded under."""
    return f"{reply_key}#stream"


class LocalStreamer:
    """Partial answers for `parley chat`: pushed to the reply list the terminal reads."""

    def __init__(self, settings: Settings, client: redis.Redis) -> None:
        self._settings = settings
        self._client = client
        self._keys = Keys(settings.namespace)

    def interval(self, outgoing: OutgoingMessage) -> float:
        return self._settings.streaming_local_interval

    def indicate(self, outgoing: OutgoingMessage) -> bool:
        return False  # the terminal shows its own spinner

    def show(self, outgoing: OutgoingMessage) -> None:
        key = self._keys.local_reply(str(outgoing.metadata.get("reply_to", "")))
        pipe = self._client.pipeline()
        pipe.rpush(key, json.dumps({"partial": outgoing.text}))
        pipe.expire(key, int(self._settings.reply_timeout) + 3600)
        pipe.execute()


_REGISTRY: dict[str, StreamerFactory] = {"local": LocalStreamer}
STREAM_MODULES = {"slack": "bot.slack.stream", "telegram": "bot.telegram.stream"}
_built: dict[tuple[int, str], tuple[Settings, Streamer]] = {}
_built_lock = threading.Lock()


def register_streamer(platform: str, factory: StreamerFactory) -> None:
    """Make `factory(settings, redis)` the streamer of `platform`."""
    _REGISTRY[platform] = factory


def streamer_for(settings: Settings, client: redis.Redis, platform: str) -> Streamer | None:
    """This process's streamer for `platform`, importing its adapter's module on first use
    (None for a platform without one)."""
    module = STREAM_MODULES.get(platform)
    if platform not in _REGISTRY and module is not None:
        importlib.import_module(module)
    factory = _REGISTRY.get(platform)
    if factory is None:
        return None
    key = (os.getpid(), platform)
    with _built_lock:
        cached = _built.get(key)
        if cached is None or cached[0] is not settings:
            cached = (settings, factory(settings, client))
            _built[key] = cached
    return cached[1]


def should_stream(message: IncomingMessage, channel: ChannelSettings, settings: Settings) -> bool:
    """Whether the reply to `message` goes straight to the customer and may be streamed.

    Not in review channels or ones with a review threshold (an unreviewed draft must not show),
    not for Slack slash commands (answered privately through response_url).
    """
    if not settings.streaming or channel.policy not in ("answer", "translate"):
        return False
    if channel.confidence_threshold is not None:
        return False
    return not (message.platform == "slack" and message.kind == MessageKind.COMMAND)


class ReplyStream:
    """One reply's stream: `on_text` for the drafter, `final` for the reply to deliver.

    Used as a context manager around drafting: leaving it stops and joins the publisher, so no
    update can follow the final reply. A disabled stream (`ReplyStream()`) does nothing.
    """

    def __init__(
        self,
        streamer: Streamer | None = None,
        target: OutgoingMessage | None = None,
        *,
        typing_interval: float = 4.0,
    ) -> None:
        self._streamer = streamer
        self._target = target
        self._typing_interval = typing_interval
        self._cond = threading.Condition()
        self._latest = ""
        self._started = False
        self._stopped = False
        self._thread: threading.Thread | None = None

    @property
    def enabled(self) -> bool:
        return self._streamer is not None and self._target is not None

    @property
    def on_text(self) -> PartialText | None:
        """The drafter's callback, or None when this reply is not streamed."""
        return self._receive if self.enabled else None

    def final(self, outgoing: OutgoingMessage) -> OutgoingMessage:
        """The reply to deliver: it edits the streamed message when there is one."""
        if not self.enabled or self._target is None:
            return outgoing
        if stream_key(outgoing.idempotency_key) != self._target.idempotency_key:
            return outgoing
        return replace(outgoing, replaces=self._target.idempotency_key)

    def __enter__(self) -> ReplyStream:
        if self.enabled:
            self._thread = threading.Thread(target=self._run, name="parley-stream", daemon=True)
            self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        """Stop the publisher and wait for an update in flight (idempotent)."""
        with self._cond:
            self._stopped = True
            self._cond.notify_all()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(JOIN_SECONDS)
            if thread.is_alive():
                log.warning("stream publisher still busy key=%s", self._key)

    @property
    def _key(self) -> str:
        return self._target.idempotency_key if self._target else ""

    def _receive(self, text: str) -> None:
        with self._cond:
            self._started = True
            if text:
                self._latest = text
            self._cond.notify_all()

    def _wait(self, shown: str, next_show: float, next_typing: float) -> str | None:
        """The latest text once an update is due ("" for the indicator); None when stopped."""
        with self._cond:
            while not self._stopped:
                now, text = time.monotonic(), self._latest
                due = []
                if self._started and text != shown:
                    due.append(next_show)
                elif self._started and not shown:
                    due.append(next_typing)
                if due and now >= due[0]:
                    return text
                self._cond.wait(max(0.01, due[0] - now) if due else None)
        return None

    def _run(self) -> None:
        assert self._streamer is not None and self._target is not None
        streamer, target = self._streamer, self._target
        interval = streamer.interval(target)
        next_show = next_typing = 0.0
        failures = 0
        shown = ""
        while (text := self._wait(shown, next_show, next_typing)) is not None:
            try:
                if text:
                    streamer.show(replace(target, text=text))
                    shown, next_show = text, time.monotonic() + interval
                elif streamer.indicate(target):
                    next_show = time.monotonic() + interval
                next_typing = time.monotonic() + self._typing_interval
            except TransientError as exc:
                pause = max(exc.retry_after or 0.0, interval)
                log.info("stream update skipped key=%s for %.1f s: %s", self._key, pause, exc)
                next_show = next_typing = time.monotonic() + pause
            except Exception:
                failures += 1
                log.warning("stream update failed key=%s", self._key, exc_info=True)
                if failures >= MAX_FAILURES:
                    log.warning("streaming given up key=%s", self._key)
                    return
                next_show = next_typing = time.monotonic() + interval


def open_stream(
    settings: Settings, client: redis.Redis, message: IncomingMessage, channel: ChannelSettings
) -> ReplyStream:
    """The stream of the reply to `message`: disabled unless `should_stream` and a streamer is
    registered for its platform."""
    if not should_stream(message, channel, settings):
        return ReplyStream()
    try:
        streamer = streamer_for(settings, client, message.platform)
    except Exception:  # streaming is a courtesy: the answer goes on without it
        log.warning("no streaming for platform=%s", message.platform, exc_info=True)
        return ReplyStream()
    if streamer is None:
        return ReplyStream()
    reply = make_reply(message, "")
    target = replace(reply, idempotency_key=stream_key(reply.idempotency_key))
    return ReplyStream(streamer, target, typing_interval=settings.streaming_typing_interval)
