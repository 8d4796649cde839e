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

    def worker(self, hostname: str, pid: int) -> str:
        """String (JSON): heartbeat of one worker process and the models it loaded; TTL 90 s."""
        return f"{self.namespace}:worker:{hostname}:{pid}"

    def workers_pattern(self) -> str:
        """SCAN pattern matching every worker heartbeat key."""
        return f"{self.namespace}:worker:*"


def event_key(platform: str, event_id: str) -> str:
    """Platform-qualified event id: ids are only unique within one platform."""
    return f"{platform}:{event_id}"
