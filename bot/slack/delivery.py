"""Slack deliverer: posts, edits and deletes replies through `slack_sdk`, once per key.

Registered for platform `slack` when imported (the workers import it through
`workers.delivery.PLATFORM_MODULES`). Posts are paced per channel (`ratelimit.py`), a 429's
`Retry-After` becomes `TransientError(retry_after=...)` so the task retries after it (`web.py`
maps the Web API's errors), and long texts are split with each part remembered, so a retry
never posts a part twice. A channel post whose worker died before recording it is found again
through its message metadata instead of being posted twice (`recover.py`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import redis
from slack_sdk import WebClient

from bot.errors import InvalidInputError, TransientError
from bot.settings import Settings
from bot.slack.keys import SlackKeys
from bot.slack.ratelimit import ChannelRateLimiter
from bot.slack.recover import PostAttempts, post_metadata
from bot.slack.render import escape, render_blocks, render_reply, split_text
from bot.slack.review_render import review_blocks
from bot.slack.web import build_web_client, call_web_api, is_ts, send_to_response_url
from bot.types import OutgoingMessage
from workers.delivery import PostedMessages, register_deliverer
from workers.review.card import status_line

log = logging.getLogger(__name__)

_GONE = frozenset({"message_not_found", "cant_delete_message", "cant_update_message"})


class SlackDeliverer:
    """Delivers `OutgoingMessage`s for platform `slack`."""

    def __init__(
        self,
        settings: Settings,
        client: redis.Redis,
        *,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._settings = settings
        self._redis = client
        self._keys = SlackKeys(settings.namespace)
        self._posted = PostedMessages(settings, client)
        self._attempts = PostAttempts(client, settings.namespace, settings.dedupe_ttl)
        self._limiter = ChannelRateLimiter(
            client, settings.namespace, settings.slack_channel_interval
        )
        self._sleep = sleep
        self._web: WebClient | None = None

    @property
    def web(self) -> WebClient:
        """The Web API client, built on first use (workers without Slack never need a token)."""
        if self._web is None:
            self._web = build_web_client(self._settings, resend=False)
        return self._web

    def deliver(self, outgoing: OutgoingMessage) -> bool:
        """Post, edit (`replaces`) or delete (`delete`); False when the key was already done."""
        if outgoing.delete:
            return self._delete(outgoing)
        original = self._posted.posted_id(outgoing.replaces) if outgoing.replaces else None
        key = outgoing.idempotency_key
        if not self._posted.claim(key):
            log.info("slack duplicate skipped channel=%s key=%s", outgoing.channel, key)
            return False
        try:
            if original and is_ts(original):
                posted = self._update(outgoing, original)
            else:
                posted = self._post(outgoing)
        except BaseException:
            self._posted.release(key)
            raise
        self._posted.record(key, posted)
        return True

    def _post(self, outgoing: OutgoingMessage) -> str:
        text = render_reply(outgoing)
        parts = split_text(text, self._settings.slack_max_chars)
        if outgoing.kind == "review":
            parts = [self._fallback(outgoing)]  # one post: the blocks carry the card
        response_url = self._response_url(outgoing)
        first = ""
        for index, part in enumerate(parts):
            key = outgoing.idempotency_key
            part_key = key if index == 0 else f"{key}#{index}"
            done = self._posted.posted_id(f"{part_key}#part")
            if done is None:
                last = index == len(parts) - 1
                blocks = self._blocks(outgoing, part) if last else None
                done = self._post_part(outgoing, part, part_key, response_url, blocks)
                self._posted.record(f"{part_key}#part", done)
            first = first or done
        self._mark_thread(outgoing)
        log.info(
            "slack posted channel=%s thread=%s parts=%d key=%s",
            outgoing.channel,
            outgoing.thread,
            len(parts),
            outgoing.idempotency_key,
        )
        return first

    def _post_part(
        self,
        outgoing: OutgoingMessage,
        text: str,
        part_key: str,
        response_url: str | None,
        blocks: list[dict[str, Any]] | None,
    ) -> str:
        if response_url:
            return send_to_response_url(response_url, text, blocks)
        thread = outgoing.thread if is_ts(outgoing.thread) else None
        if outgoing.ephemeral_to:
            data = self._call(
                "chat.postEphemeral",
                self.web.chat_postEphemeral,
                channel=outgoing.channel,
                user=outgoing.ephemeral_to,
                text=text,
                blocks=blocks,
                thread_ts=thread,
            )
            return str(data.get("message_ts") or "ephemeral")
        # an earlier attempt may have posted this part and died before recording it
        recovered = self._attempts.recover(self.web, outgoing.channel, thread, part_key)
        if recovered:
            return recovered
        self._wait_for_slot(outgoing.channel, part_key)
        self._attempts.mark(part_key)
        return self._chat_post(outgoing, text, part_key, blocks)

    def _chat_post(
        self,
        outgoing: OutgoingMessage,
        text: str,
        part_key: str,
        blocks: list[dict[str, Any]] | None,
    ) -> str:
        """`chat.postMessage` in the slot booked for `part_key` (given back on failure)."""
        try:
            data = self._call(
                "chat.postMessage",
                self.web.chat_postMessage,
                channel=outgoing.channel,
                text=text,
                blocks=blocks,
                thread_ts=outgoing.thread if is_ts(outgoing.thread) else None,
                unfurl_links=False,
                unfurl_media=False,
                metadata=post_metadata(part_key),
            )
        except TransientError as exc:
            self._limiter.forget(part_key)
            if exc.retry_after:  # a 429: Slack did not take the post
                self._attempts.forget(part_key)
                self._limiter.pause(outgoing.channel, exc.retry_after)
            raise
        except InvalidInputError:
            self._attempts.forget(part_key)  # refused: nothing to look for on a retry
            raise
        return str(data.get("ts") or "")

    def _wait_for_slot(self, channel: str, part_key: str) -> None:
        wait = self._limiter.reserve(channel, part_key)
        if wait > self._settings.slack_rate_max_wait:
            # Keep the slot; the task comes back when it is due instead of holding a worker.
            raise TransientError(f"channel {channel} is busy", retry_after=wait - 0.5)
        if wait > 0:
            self._sleep(wait)

    def _fallback(self, outgoing: OutgoingMessage) -> str:
        """The notification text of a review card (its blocks show the card itself)."""
        text = escape(outgoing.text)
        limit = self._settings.slack_max_chars
        return text if len(text) <= limit else split_text(text, limit - 1)[0] + "…"

    def _blocks(self, outgoing: OutgoingMessage, text: str) -> list[dict[str, Any]] | None:
        card = outgoing.metadata.get("review")
        if outgoing.kind == "review" and isinstance(card, dict):
            return review_blocks(card, status_line(card))
        return render_blocks(text, outgoing.buttons)

    def _update(self, outgoing: OutgoingMessage, ts: str) -> str:
        """Edit the message `ts`; a text over the limit edits it with the first part and posts
        (or edits) the rest after it, each part once."""
        review = outgoing.kind == "review"
        parts = [self._fallback(outgoing)] if review else split_text(
            render_reply(outgoing), self._settings.slack_max_chars
        )  # fmt: skip
        text = parts[0]
        for index, part in enumerate(parts[1:], 1):
            part_key = f"{outgoing.replaces}#{index}"
            extra = self._posted.posted_id(f"{part_key}#part")
            blocks = self._blocks(outgoing, part) if index == len(parts) - 1 else None
            if extra and is_ts(extra):
                channel = outgoing.channel
                self._call("chat.update", self.web.chat_update, channel=channel, ts=extra,
                           text=part, blocks=blocks or [])  # fmt: skip
            elif extra is None:
                done = self._post_part(outgoing, part, part_key, None, blocks)
                self._posted.record(f"{part_key}#part", done)
        self._call(
            "chat.update",
            self.web.chat_update,
            channel=outgoing.channel,
            ts=ts,
            text=text,
            # [] clears the buttons of a message that had them (e.g. a decided review); the
            # buttons of a reply in several parts go on its last part
            blocks=(self._blocks(outgoing, text) if len(parts) == 1 else None) or [],
        )
        log.info("slack updated channel=%s ts=%s key=%s", outgoing.channel, ts, outgoing.replaces)
        return ts

    def _delete(self, outgoing: OutgoingMessage) -> bool:
        original = outgoing.replaces or outgoing.idempotency_key
        ts = self._posted.posted_id(original)
        if not ts or not is_ts(ts):
            log.info("slack nothing to delete channel=%s key=%s", outgoing.channel, original)
            return False
        index = 1
        targets = [ts]
        while (extra := self._posted.posted_id(f"{original}#{index}#part")) is not None:
            targets.append(extra)
            index += 1
        for target in targets:
            try:
                self._call("chat.delete", self.web.chat_delete, channel=outgoing.channel, ts=target)
            except InvalidInputError as exc:
                if not any(code in str(exc) for code in _GONE):
                    raise
        self._posted.record(original, "deleted")
        log.info("slack deleted channel=%s ts=%s key=%s", outgoing.channel, ts, original)
        return True

    def _call(self, method: str, func: Callable[..., Any], **kwargs: Any) -> dict[str, Any]:
        """One Web API call, its failures mapped to Parley's errors (`web.call_web_api`)."""
        return call_web_api(method, func, **kwargs)

    def _response_url(self, outgoing: OutgoingMessage) -> str | None:
        reply_to = str(outgoing.metadata.get("reply_to") or "")
        if not reply_to:
            return None
        value = self._redis.get(self._keys.respond(reply_to))
        return str(value) if value else None

    def _mark_thread(self, outgoing: OutgoingMessage) -> None:
        if outgoing.kind == "answer" and is_ts(outgoing.thread) and outgoing.channel[:1] != "D":
            key = self._keys.thread(outgoing.channel, outgoing.thread)
            self._redis.set(key, "1", ex=self._settings.conversation_ttl)


def build_deliverer(settings: Settings, client: redis.Redis) -> SlackDeliverer:
    """The `DelivererFactory` registered for platform `slack`."""
    return SlackDeliverer(settings, client)


register_deliverer("slack", build_deliverer)
