"""Local adapter: terminal text in, a reply delivered through the full queue pipeline out.

Like Rasa's collecting output channel, it waits for the reply the `local` deliverer pushes to a
Redis list (one per event), so the terminal sees exactly what a chat platform would receive. The
local streamer pushes the answer so far to the same list (`{"partial": text}`) before it.
"""

from __future__ import annotations

import getpass
import json
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, cast

from bot.errors import InvalidInputError, ParleyError
from bot.types import IncomingMessage, MessageKind, OutgoingMessage
from nlp.types import Draft
from workers.intake import accept_message
from workers.pipeline import clean_text
from workers.runtime import Runtime

log = logging.getLogger(__name__)

CHANNEL = "terminal"


def local_user() -> str:
    """The operating-system user name (the terminal's `user`)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "local"


@dataclass(frozen=True, slots=True)
class Reply:
    """What came back for one question: the delivered text and the draft behind it."""

    text: str
    draft: Draft | None
    error: str | None = None
    elapsed: float = 0.0
    outgoing: OutgoingMessage | None = field(default=None, repr=False)

    def to_json(self) -> dict[str, Any]:
        """The `parley ask --json` shape."""
        draft = self.draft
        citations = [] if draft is None else draft.citations
        return {
            "answer": self.text if draft is None else draft.text,
            "language": None if draft is None else draft.language,
            "action": "escalate" if draft is None else draft.action,
            "confidence": 0.0 if draft is None else draft.confidence,
            "citations": [
                {"doc_id": c.doc_id, "source": c.source, "title": c.title} for c in citations
            ],
            "suggestions": [] if draft is None else list(draft.suggestions),
        }


class LocalChannel:
    """One terminal conversation: normalise input, enqueue it, wait for the delivered reply."""

    def __init__(self, runtime: Runtime, *, thread: str | None = None, user: str | None = None):
        self._runtime = runtime
        self.thread = thread or uuid.uuid4().hex[:12]
        self.user = user or local_user()

    def normalise(self, text: str, *, event_id: str | None = None) -> IncomingMessage:
        """Terminal input as an IncomingMessage (platform `local`, channel `terminal`)."""
        return IncomingMessage(
            platform="local",
            channel=CHANNEL,
            user=self.user,
            text=text,
            event_id=event_id or uuid.uuid4().hex,
            thread=self.thread,
            kind=MessageKind.DM,
        )

    def submit(self, message: IncomingMessage) -> bool:
        """Deduplicate and enqueue; False when this event id was already accepted."""
        return accept_message(message, self._runtime)

    def wait(
        self,
        message: IncomingMessage,
        *,
        timeout: float | None = None,
        on_partial: Callable[[str], None] | None = None,
    ) -> Reply:
        """Block until the reply to `message` is delivered; ParleyError on timeout.

        The answer so far, streamed while it is drafted (`workers/streaming.py`), goes to
        `on_partial` (or is skipped); the final reply is returned once.
        """
        limit = self._runtime.settings.reply_timeout if timeout is None else timeout
        key = self._runtime.keys.local_reply(message.event_id)
        started = time.monotonic()
        data: dict[str, Any] | None = None
        # Short BLPOPs: each stays under the client's socket timeout and rides out a restart.
        while data is None and time.monotonic() - started < limit:
            popped = self._runtime.redis.blpop([key], timeout=1)
            if popped is None:
                continue
            data = json.loads(cast(tuple[str, str], popped)[1])
            if data is not None and "partial" in data:
                if on_partial is not None:
                    on_partial(str(data["partial"]))
                data = None
        if data is None:
            raise ParleyError(
                f"No reply within {limit:.0f} s: is a worker running (`parley worker`, "
                "`parley status`)? Raise PARLEY_REPLY_TIMEOUT if models are still loading."
            )
        outgoing = OutgoingMessage.from_dict(data)
        draft_data = outgoing.metadata.get("draft")
        draft = Draft.from_dict(draft_data) if draft_data else None
        return Reply(
            text=outgoing.text,
            draft=draft,
            error=outgoing.metadata.get("error"),
            elapsed=time.monotonic() - started,
            outgoing=outgoing,
        )

    def ask(
        self,
        text: str,
        *,
        timeout: float | None = None,
        on_partial: Callable[[str], None] | None = None,
    ) -> Reply:
        """Send one question through the pipeline and return its reply (partial answers, when
        streamed, go to `on_partial`)."""
        if not clean_text(text):
            raise InvalidInputError("The question is empty: type something to ask")
        message = self.normalise(text)
        self.submit(message)
        return self.wait(message, timeout=timeout, on_partial=on_partial)

    def reset(self) -> None:
        """Forget this conversation and start a new thread."""
        self._runtime.conversations.reset(self.normalise("").thread_ref)
        self.thread = uuid.uuid4().hex[:12]
