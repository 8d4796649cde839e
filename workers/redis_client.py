"""Redis connections with a retry policy, and a start-up check that fails with a clear message."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

import redis
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from redis.retry import Retry

from bot.errors import ParleyError

# Short outages (a restart, a failover) are ridden out inside one call: about 30 s in all.
_RETRY = Retry(ExponentialBackoff(cap=2.0, base=0.1), retries=20)


def redact(url: str) -> str:
    """The URL without its password, for messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username or ''}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def connect(url: str, *, retry: bool = True) -> redis.Redis:
    """A client decoding replies to str; with `retry`, connection errors are retried."""
    if retry:
        return redis.Redis.from_url(
            url,
            decode_responses=True,
            retry=_RETRY,
            retry_on_error=[RedisConnectionError, RedisTimeoutError],
            socket_connect_timeout=2,
            health_check_interval=30,
        )
    return redis.Redis.from_url(url, decode_responses=True, socket_connect_timeout=2)


def check_reachable(url: str, *, variable: str = "PARLEY_REDIS_URL") -> None:
    """Ping once, without retries; raise ParleyError naming the variable when Redis is away."""
    client = connect(url, retry=False)
    try:
        client.ping()
    except (RedisConnectionError, RedisTimeoutError, OSError) as exc:
        raise ParleyError(
            f"Cannot reach Redis at {redact(url)} ({exc}). Start Redis or fix {variable}; "
            "unset PARLEY_REDIS_URL to use the embedded Redis."
        ) from exc
    finally:
        client.close()
