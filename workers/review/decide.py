"""`decide`: an agent's click or submission moves a pending review exactly once.

Synchronous and fast (Redis plus one enqueue): adapters call it from their click handlers. It
never raises for user mistakes; the `DecisionResult` carries one sentence for the agent.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

from workers.app import REVIEW_DECIDED, REVIEW_EXPIRE, send
from workers.review.agents import is_agent
from workers.review.card import clock
from workers.review.store import Review, ReviewStore, queue_score
from workers.review.types import Agent, Decision, DecisionResult

if TYPE_CHECKING:
    from workers.runtime import Runtime

log = logging.getLogger(__name__)

NOT_AGENT = "Only support agents can review drafts."
UNKNOWN = "This review is unknown or was decided too long ago."
EXPIRED = "This draft expired."
EMPTY_EDIT = "The edited text is empty."
TOO_LONG = "The {what} is too long ({length} characters; at most {limit})."
NO_DRAFT = "There is no draft to approve: use Edit to write the answer."
NOT_QUEUED = "Sorry, the answer could not be queued right now; please try again."
REASON_LIMIT = 1000
STATUSES = {"approve": "approved", "edit": "edited", "reject": "rejected"}
DONE = {
    "approve": "Approved: the answer is being sent.",
    "edit": "Edited: your answer is being sent.",
    "reject_text": "Rejected: your answer is being sent instead.",
    "reject": "Rejected: nothing will be sent to the customer.",
}


def review_store(runtime: Runtime) -> ReviewStore:
    """The review store of the runtime's namespace."""
    settings = runtime.settings
    return ReviewStore(runtime.redis, settings.namespace, decided_ttl=settings.dedupe_ttl)


def already(status: str, by: str, at: str) -> str:
    """`Already approved by Ana at 14:02.`, `This draft expired.` or the unknown sentence."""
    if status == "expired":
        return EXPIRED
    if status == "unknown":
        return UNKNOWN
    if status == "pending":
        return "This draft is still waiting for a decision."
    return f"Already {status} by {by or 'another agent'} at {clock(at)}."


def _invalid(review_id: str, message: str) -> DecisionResult:
    return DecisionResult(False, "pending", message, review_id, invalid="text")


def _validate(
    review: Review, decision: Decision, text: str, reason: str, limit: int
) -> DecisionResult | None:
    rid = review.review_id
    if decision == "approve" and not str(review.data.get("draft_text") or "").strip():
        return DecisionResult(False, "pending", NO_DRAFT, rid)
    if decision == "edit" and not text:
        return _invalid(rid, EMPTY_EDIT)
    if len(text) > limit:
        what = "edited text" if decision == "edit" else "answer"
        return _invalid(rid, TOO_LONG.format(what=what, length=len(text), limit=limit))
    if len(reason) > REASON_LIMIT:
        message = TOO_LONG.format(what="reason", length=len(reason), limit=REASON_LIMIT)
        return DecisionResult(False, "pending", message, rid, invalid="reason")
    return None


def check(runtime: Runtime, *, review_id: str, agent: Agent) -> DecisionResult:
    """Whether `agent` may decide this review now (before opening an edit dialog); ok=True
    with status `pending` when so. Changes nothing."""
    rid = review_id.strip().lower()
    store = review_store(runtime)
    review = store.get(rid)
    status = review.status if review is not None else "unknown"
    if not is_agent(runtime.settings, runtime.redis, agent):
        return DecisionResult(False, status, NOT_AGENT, rid)
    if review is None or status != "pending":
        by, at = (review.get("decided_name"), review.get("decided_at")) if review else ("", "")
        return DecisionResult(False, status, already(status, by, at), rid)
    if review.expires_at <= time.time():
        return DecisionResult(False, "expired", EXPIRED, rid)
    return DecisionResult(True, "pending", "", rid)


def decide(
    runtime: Runtime,
    *,
    review_id: str,
    decision: Decision,
    agent: Agent,
    text: str = "",
    reason: str = "",
) -> DecisionResult:
    """Check the agent, validate the text, move pending -> decided once, enqueue the send."""
    allowed = check(runtime, review_id=review_id, agent=agent)
    rid = allowed.review_id
    if not allowed.ok:
        if allowed.status == "expired":
            send(runtime.app, REVIEW_EXPIRE, {"review_id": rid}, runtime.settings)
        return allowed
    store = review_store(runtime)
    review = store.get(rid)
    if review is None or decision not in STATUSES:
        return DecisionResult(False, "unknown", UNKNOWN, rid)
    text, reason = text.strip(), reason.strip()
    problem = _validate(review, decision, text, reason, runtime.settings.max_input_chars)
    if problem is not None:
        return problem
    status = STATUSES[decision]
    name = agent.name or agent.user
    move = store.decide(rid, status, by=agent.ref, name=name, final_text=text, reject_reason=reason)
    if not move.won:
        log.info("review %s: %s by %s lost to %s", rid, decision, agent.ref, move.status)
        return DecisionResult(False, move.status, already(move.status, move.by, move.at), rid)
    if agent.language:
        store.update(rid, agent_language_hint=agent.language)
    try:
        send(runtime.app, REVIEW_DECIDED, {"review_id": rid}, runtime.settings)
    except Exception:
        log.exception("review %s: decision task not queued; back to pending", rid)
        store.undo(rid, status, agent.ref, queue_score(review.data))
        return DecisionResult(False, "pending", NOT_QUEUED, rid)
    log.info("review %s %s by %s", rid, status, agent.ref)
    key = "reject_text" if decision == "reject" and text else decision
    return DecisionResult(True, status, DONE[key], rid)
