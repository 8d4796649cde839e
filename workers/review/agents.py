"""Who is a support agent: PARLEY_REVIEW_AGENTS plus a Redis set managed at run time."""

from __future__ import annotations

import redis

from bot.settings import Settings
from workers.keys import Keys
from workers.review.types import Agent


def is_agent(settings: Settings, client: redis.Redis, agent: Agent) -> bool:
    """True when `agent` may review drafts."""
    return is_agent_ref(settings, client, agent.ref)


def is_agent_ref(settings: Settings, client: redis.Redis, ref: str) -> bool:
    """True when `platform:user` is a support agent (settings or run time)."""
    if ref in settings.review_agents:
        return True
    return bool(client.sismember(Keys(settings.namespace).review_agents(), ref))


def add_agent(settings: Settings, client: redis.Redis, ref: str) -> bool:
    """Add `platform:user` to the run-time agents; False when already there."""
    return bool(client.sadd(Keys(settings.namespace).review_agents(), ref))


def remove_agent(settings: Settings, client: redis.Redis, ref: str) -> bool:
    """Remove `platform:user` from the run-time agents (settings' agents stay)."""
    return bool(client.srem(Keys(settings.namespace).review_agents(), ref))
