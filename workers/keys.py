"""Every Redis key Parley writes, in one place (docs/runtime.md lists them with their TTLs).

All keys start with the namespace (`PARLEY_NAMESPACE`, default `parley`). Celery's own keys (the
queues `models` and `io`, `unacked`, `unacked_index`, `_kombu.binding.*`, `celery-task-meta-*`)
are not namespaced; Celery's Redis must run with `maxmemory-policy noeviction`.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.types import ThreadRef


@dataclass(frozen=True, slots=True)
class Keys:
    """Key builder bound to one namespace."""

    namespace: str

    def conversation(self, thread: ThreadRef) -> str:
        """List of JSON turns of one conversation, oldest first; TTL `conversation_ttl`."""
        return f"{self.namespace}:conv:{thread.key()}"

    def answered(self, event_key: str) -> str:
        """String: the JSON draft answered for one incoming event; set together with the turns, so
        a re-run after a crash reuses it instead of answering (and remembering) twice. TTL
        `dedupe_ttl`."""
        return f"{self.namespace}:answered:{event_key}"

    def dedupe(self, event_key: str) -> str:
        """String `1`: an incoming platform event was accepted (SET NX EX `dedupe_ttl`)."""
        return f"{self.namespace}:dedupe:{event_key}"

    def outbound(self, idempotency_key: str) -> str:
        """String: an outgoing reply with this idempotency key was delivered; TTL `dedupe_ttl`."""
        return f"{self.namespace}:outbound:{idempotency_key}"

    def local_reply(self, event_id: str) -> str:
        """List the local adapter BLPOPs for the reply to one event; TTL `reply_timeout` + 1 h."""
        return f"{self.namespace}:local:reply:{event_id}"

    def channel(self, platform: str, channel: str) -> str:
        """Hash of one channel's settings (policy, languages, review destination, threshold)."""
        return f"{self.namespace}:channel:{platform}:{channel}"

    def user(self, platform: str, user: str) -> str:
        """Hash of one user's settings (preferred language)."""
        return f"{self.namespace}:user:{platform}:{user}"

    def translations(self, platform: str, channel: str, message_id: str) -> str:
        """Hash of one message's translations: field `<lang>` (or `<lang>@<edit event>`) -> JSON
        `{key, text}`; HSETNX makes each translation happen once. TTL `dedupe_ttl`."""
        return f"{self.namespace}:translations:{platform}:{channel}:{message_id}"

    def glossary(self, platform: str, workspace: str) -> str:
        """String: one workspace's glossary as JSON Lines (`parley glossary set`); no TTL."""
        return f"{self.namespace}:glossary:{platform}:{workspace or '-'}"

    def review(self, review_id: str) -> str:
        """Hash of one review (docs/review.md): `data` (JSON card facts), `status`, who decided
        and when, the final text; TTL `dedupe_ttl` after it is decided (none while pending)."""
        return f"{self.namespace}:review:{review_id}"

    def reviews_pending(self) -> str:
        """Sorted set of pending review ids scored by creation time; no TTL."""
        return f"{self.namespace}:reviews:pending"

    def reviews_by_customer(self, platform: str, channel: str) -> str:
        """List of the latest review ids of one customer conversation (capped at 20)."""
        return f"{self.namespace}:reviews:customer:{platform}:{channel}"

    def review_agents(self) -> str:
        """Set of `platform:user` agents added at run time (besides PARLEY_REVIEW_AGENTS)."""
        return f"{self.namespace}:review:agents"

    def posted_translation(self, platform: str, channel: str, message_id: str) -> str:
        """String: JSON `{key, record, field, thread}` of the translation Parley posted as this
        platform message (workers/corrections.py). TTL `dedupe_ttl`."""
        return f"{self.namespace}:posted-translation:{platform}:{channel}:{message_id}"

    def correction_once(self, digest: str) -> str:
        """String: this correction of this translation was applied (SET NX). TTL `dedupe_ttl`."""
        return f"{self.namespace}:correction:{digest}"

    def review_stream(self) -> str:
        """Stream of review decisions (field `data`, JSON, personal data redacted); capped at
        about 100 000 entries (XADD MAXLEN ~)."""
        return f"{self.namespace}:stream:review-decisions"

    def translation_corrections_stream(self) -> str:
        """Stream of translation corrections (field `data`, JSON, personal data redacted) that
        the learning loop trains the translator on (docs/learning.md); capped (MAXLEN ~)."""
        return f"{self.namespace}:stream:translation-corrections"

    def learning_group(self) -> str:
        """Consumer group the learning loop reads both training-data streams with."""
        return f"{self.namespace}:learning"

    def learning_lock(self, kind: str) -> str:
        """String: one training run of `kind` at a time (SET NX EX the task time limit)."""
        return f"{self.namespace}:learning:lock:{kind}"

    def thread_log(self, platform: str, channel: str) -> str:
        """Sorted set of one channel's recent message ids by time (summaries); TTL
        `thread_log_ttl`, at most `thread_log_max` entries."""
        return f"{self.namespace}:log:{platform}:{channel}"

    def thread_log_messages(self, platform: str, channel: str) -> str:
        """Hash of message id -> JSON {author, text, at, is_bot, thread} for `thread_log`."""
        return f"{self.namespace}:logmsg:{platform}:{channel}"

    def sentiment(self, platform: str, channel: str) -> str:
        """Hash `hour:sentiment` -> count for one channel (the sentiment trend); TTL
        `sentiment_window_hours` + 24 h."""
        return f"{self.namespace}:sentiment:{platform}:{channel}"

    def sentiment_alert(self, platform: str, channel: str, hour: int) -> str:
        """String: a negative-spike alert was sent for this channel and hour; TTL 2 h."""
        return f"{self.namespace}:sentiment-alert:{platform}:{channel}:{hour}"

    def worker(self, hostname: str, pid: int) -> str:
        """String (JSON): heartbeat of one worker process and the models it loaded; TTL 90 s."""
        return f"{self.namespace}:worker:{hostname}:{pid}"

    def workers_pattern(self) -> str:
        """SCAN pattern matching every worker heartbeat key."""
        return f"{self.namespace}:worker:*"


def event_key(platform: str, event_id: str) -> str:
    """Platform-qualified event id: ids are only unique within one platform."""
    return f"{platform}:{event_id}"
