"""Agents review drafts: a platform-neutral state machine, card, decision and audit stream.

See docs/review.md. Adapters use only what this module exports.
"""

from workers.review.commands import agent_command
from workers.review.decide import check, decide
from workers.review.types import REVIEW_ACTION_PREFIX, Agent, DecisionResult

__all__ = ["REVIEW_ACTION_PREFIX", "Agent", "DecisionResult", "agent_command", "check", "decide"]
