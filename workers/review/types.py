"""The review contract's value types: who reviews, and what a decision returned."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bot.types import Platform

REVIEW_ACTION_PREFIX = "review:"
"""Button actions of a review card: `review:approve`, `review:edit`, `review:reject`."""

Decision = Literal["approve", "edit", "reject"]
Status = Literal["pending", "approved", "edited", "rejected", "expired", "unknown"]
AgentCommand = Literal["pending", "take", "history"]


@dataclass(frozen=True, slots=True)
class Agent:
    """A support agent acting on a review (from a click, a modal or a command)."""

    platform: Platform
    user: str
    name: str = ""
    language: str | None = None

    @property
    def ref(self) -> str:
        """`platform:user`, the form `review_agents` and the audit stream use."""
        return f"{self.platform}:{self.user}"


@dataclass(frozen=True, slots=True)
class DecisionResult:
    """What `decide` did, with one short English sentence for the clicking agent."""

    ok: bool
    status: str
    message: str
    review_id: str
    invalid: str = ""
    """Beyond the contract: the input that was refused (`text`, `reason`), so a dialog can show
    the message next to that field; empty otherwise."""
