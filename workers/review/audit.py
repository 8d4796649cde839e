"""The audit stream: one entry per decided review, personal data redacted (docs/review.md).

The entry is added in the same Lua step that marks the review `audited`, so a re-run of the
task never writes it twice.
"""

from __future__ import annotations

import json
from typing import Any

import redis

from workers.keys import Keys
from workers.review.redact import redact
from workers.review.store import Review

STREAM_MAXLEN = 100_000

_XADD_ONCE = """
if redis.call('HSETNX', KEYS[1], 'audited', '1') == 0 then return false end
return redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], '*', 'data', ARGV[1])
"""

DECISIONS = {"approved": "approve", "edited": "edit", "rejected": "reject", "expired": "expire"}


def audit_entry(review: Review) -> dict[str, Any]:
    """The stream record of a decided review (redacted)."""
    data, state = review.data, review.state
    customer = data["customer"]
    language = data.get("customer_language") or None

    def clean(text: str, lang: str | None = language) -> str:
        return redact(text or "", language=lang)

    return {
        "review_id": review.review_id,
        "platform": customer["platform"],
        "channel": customer["channel"],
        "customer": f"{customer['platform']}:{customer['user']}",
        "customer_language": data.get("customer_language", ""),
        "customer_text": clean(data.get("customer_text", "")),
        "passages": [
            {
                "doc_id": p.get("doc_id") or p.get("source") or "",
                "title": p.get("title") or "",
                "score": float(p.get("score") or 0.0),
                "text": clean(str(p.get("text") or "")),
            }
            for p in data.get("passages", [])
        ],
        "draft_text": clean(data.get("draft_text", "")),
        "final_text": clean(state.get("final_text_sent", "")),
        "final_language": state.get("final_language", ""),
        "agent_text": clean(state.get("final_text", ""), data.get("agent_language")),
        "agent_language": data.get("agent_language", ""),
        "decision": DECISIONS.get(review.status, review.status),
        "agent": state.get("decided_by", ""),
        "reject_reason": clean(state.get("reject_reason", ""), data.get("agent_language")),
        "confidence": float(data.get("confidence") or 0.0),
        "created_at": float(data.get("created_at") or 0.0),
        "decided_at": float(state.get("decided_at") or 0.0),
        "model": data.get("model", ""),
    }


def record_decision(client: redis.Redis, namespace: str, review: Review) -> str | None:
    """XADD the review's entry once; the entry id, or None when it was already recorded."""
    keys = Keys(namespace)
    script = client.register_script(_XADD_ONCE)
    payload = json.dumps(audit_entry(review), ensure_ascii=False)
    result = script(
        keys=[keys.review(review.review_id), keys.review_stream()], args=[payload, STREAM_MAXLEN]
    )
    return str(result) if result else None
