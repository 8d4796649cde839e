"""Slack streamer: a reply shown while it is drafted (`workers/streaming.py`).

A placeholder ("✍️ …", the same in every language: the reply language is not known yet) is
posted once drafting starts, then `chat.update` shows the text so far. The post takes its
channel's slot (`ratelimit.py`) like any post; a busy channel or a 429 skips the update
(`TransientError`), it is never queued. The final reply edits the same message through
`SlackDeliverer` (`OutgoingMessage.replaces`).
"""

from __future__ import annotations

import logging

from bot.errors import TransientError
from bot.slack.delivery import SlackDeliverer
from bot.slack.render import answer_mrkdwn, split_text
from bot.slack.web import is_ts
from bot.types import OutgoingMessage
from workers.streaming import register_streamer

log = logging.getLogger(__name__)

PLACEHOLDER = "✍️ …"
IN_PROGRESS = " …"


class SlackStreamer(SlackDeliverer):
    """Posts and updates the streamed message of a reply (key: its stream key)."""

    def interval(self, outgoing: OutgoingMessage) -> float:
        """`PARLEY_STREAMING_SLACK_INTERVAL` (chat.update is a tier 3 method)."""
        return self._settings.streaming_slack_interval

    def indicate(self, outgoing: OutgoingMessage) -> bool:
        """Post the placeholder unless the streamed message exists; True when posted."""
        if self._posted.posted_id(outgoing.idempotency_key) is not None:
            return False
        self._show(outgoing, PLACEHOLDER)
        return True

    def show(self, outgoing: OutgoingMessage) -> None:
        """Post or update the streamed message with the text so far."""
        text = answer_mrkdwn(outgoing.text)
        limit = self._settings.slack_max_chars - len(IN_PROGRESS)
        if len(text) > limit:
            text = split_text(text, limit)[0]
        self._show(outgoing, text + IN_PROGRESS)

    def _show(self, outgoing: OutgoingMessage, text: str) -> None:
        key = outgoing.idempotency_key
        ts = self._posted.posted_id(key)
        if ts is None and self._posted.claim(key):
            try:
                ts = self._post_stream(outgoing, text)
            except BaseException:
                self._posted.release(key)
                raise
            self._posted.record(key, ts)
            self._mark_thread(outgoing)
            log.info("slack stream posted channel=%s ts=%s key=%s", outgoing.channel, ts, key)
            return
        ts = ts or self._posted.posted_id(key)
        if not ts or not is_ts(ts):
            return
        self._call("chat.update", self.web.chat_update, channel=outgoing.channel, ts=ts, text=text)

    def _post_stream(self, outgoing: OutgoingMessage, text: str) -> str:
        part_key = f"{outgoing.idempotency_key}#part"
        thread = outgoing.thread if is_ts(outgoing.thread) else None
        # a worker killed after posting the placeholder left it unrecorded: find it (recover.py)
        recovered = self._attempts.recover(self.web, outgoing.channel, thread, part_key)
        if recovered:
            return recovered
        wait = self._limiter.reserve(outgoing.channel, part_key)
        if wait > 0:  # the slot stays booked: the next update posts when it is due
            raise TransientError(f"channel {outgoing.channel} is busy", retry_after=wait)
        self._attempts.mark(part_key)
        return self._chat_post(outgoing, text, part_key, None)


register_streamer("slack", SlackStreamer)
