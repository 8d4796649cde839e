"""Redis keys the Slack adapter writes (all under the namespace; listed in docs/slack.md)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SlackKeys:
    """Key builder bound to one namespace."""

    namespace: str

    def rate(self, channel: str) -> str:
        """String: epoch ms when the next post to `channel` may go out; TTL a few minutes."""
        return f"{self.namespace}:slack:rate:{channel}"

    def slot(self, part_key: str) -> str:
        """String: epoch ms slot reserved for one post (kept across task retries); short TTL."""
        return f"{self.namespace}:slack:slot:{part_key}"

    def attempt(self, part_key: str) -> str:
        """String: epoch seconds of the last `chat.postMessage` attempt of one part (it may have
        gone out unrecorded if the worker died); TTL `dedupe_ttl`."""
        return f"{self.namespace}:slack:attempt:{part_key}"

    def respond(self, event_id: str) -> str:
        """String: `response_url` of a slash command or shortcut, for its reply; TTL 30 min."""
        return f"{self.namespace}:slack:respond:{event_id}"

    def thread(self, channel: str, thread: str) -> str:
        """String `1`: Parley answered in this thread, so replies there count as mentions; TTL
        `conversation_ttl`."""
        return f"{self.namespace}:slack:thread:{channel}:{thread}"

    def user_name(self, user: str) -> str:
        """String: a Slack user's display name (summaries, review cards); TTL 1 day."""
        return f"{self.namespace}:slack:name:{user}"
