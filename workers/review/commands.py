"""`agent_command`: pending / take / history for support agents, as plain text (no markup)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from bot.types import ThreadRef
from workers.app import REVIEW_CARD, send
from workers.review.agents import is_agent
from workers.review.card import card_metadata, card_text
from workers.review.decide import already, review_store
from workers.review.store import Review
from workers.review.types import Agent, AgentCommand

if TYPE_CHECKING:
    from workers.runtime import Runtime

NOT_AGENT = "Only support agents can use the review commands."
USAGE = "Use: review pending | review take ID | review history ID"
FIRST_WORDS = 60


def _age(since: float) -> str:
    minutes = max(0, int((time.time() - since) // 60))
    return f"{minutes} min" if minutes < 120 else f"{minutes // 60} h"


def _line(review: Review) -> str:
    data = review.data
    customer = data["customer"]
    who = customer.get("user_name") or customer["user"]
    words = " ".join(str(data.get("customer_text") or "").split())
    if len(words) > FIRST_WORDS:
        words = words[:FIRST_WORDS].rsplit(" ", 1)[0] + "..."
    extra = ""
    if review.get("taken_by"):
        extra += f", taken by {review.get('taken_name') or review.get('taken_by')}"
    flags = (data.get("triage") or {}).get("urgency") or ()
    if flags:
        extra += f", URGENT: {', '.join(flags)}"
    if review.get("card_error"):
        extra += f", card not posted: {review.get('card_error')}"
    return (
        f"{review.review_id}  {who} on {customer['where']}, {_age(float(data['created_at']))} "
        f'ago, confidence {float(data.get("confidence") or 0):.2f}{extra}: "{words}"'
    )


def _pending(runtime: Runtime) -> str:
    reviews = review_store(runtime).pending()
    if not reviews:
        return "No drafts are waiting for review."
    count = len(reviews)
    head = (
        f"{count} draft{'s' if count != 1 else ''} waiting for review (urgent first, then oldest):"
    )
    return "\n".join([head, *(_line(r) for r in reviews)])


def _take(runtime: Runtime, agent: Agent, review_id: str) -> str:
    store = review_store(runtime)
    review = store.get(review_id)
    if review is None:
        return f"There is no review {review_id or '(no id given)'}. {USAGE}"
    if review.status != "pending":
        return already(review.status, review.get("decided_name"), review.get("decided_at"))
    name = agent.name or agent.user
    previous = review.get("taken_by")
    store.update(review_id, taken_by=agent.ref, taken_name=name)
    if previous != agent.ref:
        version = f"taken:{agent.ref}:{int(time.time())}"
        send(
            runtime.app, REVIEW_CARD, {"review_id": review_id, "version": version}, runtime.settings
        )
    taken = store.get(review_id) or review
    before = ""
    if previous not in ("", agent.ref):
        before = f" (it was taken by {review.get('taken_name')})"
    return f"You took review {review_id}{before}.\n\n{card_text(card_metadata(taken))}"


def _history(runtime: Runtime, review_id: str) -> str:
    review = review_store(runtime).get(review_id)
    if review is None:
        return f"There is no review {review_id or '(no id given)'}. {USAGE}"
    data = review.data
    customer = data["customer"]
    thread = ThreadRef(customer["platform"], customer["channel"], data.get("thread", ""))
    turns = runtime.conversations.load_history(thread)
    who = customer.get("user_name") or customer["user"]
    lines = [f"Recent conversation with {who} on {customer['where']}:"]
    if not turns:
        lines.append("(nothing stored: the conversation expired or was reset)")
    for turn in turns:
        speaker = "Customer" if turn.role == "user" else "Parley"
        when = time.strftime("%Y-%m-%d %H:%M", time.gmtime(turn.at))
        lines.append(f"[{when}] {speaker}: {turn.text}")
    store = review_store(runtime)
    others = store.for_customer(customer["platform"], customer["channel"])
    earlier = [i for i in others if i != review_id]
    if earlier:
        lines.append("Earlier reviews here: " + ", ".join(earlier[:5]))
    return "\n".join(lines)


def agent_command(runtime: Runtime, agent: Agent, command: AgentCommand, arg: str = "") -> str:
    """Run one agent command; plain text (no markup) for the agent."""
    if not is_agent(runtime.settings, runtime.redis, agent):
        return NOT_AGENT
    review_id = arg.strip().lower()
    if command == "pending":
        return _pending(runtime)
    if command == "take":
        return _take(runtime, agent, review_id)
    if command == "history":
        return _history(runtime, review_id)
    return USAGE
