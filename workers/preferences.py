"""Channel and user settings kept in Redis hashes (no TTL: an operator sets them)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, cast, get_args

import redis

from bot.errors import InvalidInputError
from workers.keys import Keys

Policy = Literal["answer", "review", "translate", "off"]
POLICIES: tuple[str, ...] = get_args(Policy)


@dataclass(frozen=True, slots=True)
class ChannelSettings:
    """How Parley behaves in one channel."""

    policy: Policy = "answer"
    languages: tuple[str, ...] = ()
    review_destination: str = ""
    confidence_threshold: float | None = None
    auto_translate: bool = False

    @property
    def translates(self) -> bool:
        """True when channel messages are auto-translated (into `languages`)."""
        return bool(self.languages) and (self.auto_translate or self.policy == "translate")

    def to_hash(self) -> dict[str, str]:
        """Flat string mapping for HSET."""
        threshold = self.confidence_threshold
        return {
            "policy": self.policy,
            "languages": ",".join(self.languages),
            "review_destination": self.review_destination,
            "confidence_threshold": "" if threshold is None else repr(threshold),
            "auto_translate": "1" if self.auto_translate else "0",
        }

    @classmethod
    def from_hash(cls, data: dict[str, str]) -> ChannelSettings:
        """Parse a hash written by `to_hash`; missing fields take their defaults."""
        policy = data.get("policy") or "answer"
        if policy not in POLICIES:
            raise InvalidInputError(f"Unknown channel policy {policy!r}; use one of {POLICIES}")
        threshold = data.get("confidence_threshold") or ""
        languages = tuple(x for x in (data.get("languages") or "").split(",") if x)
        return cls(
            policy=cast(Policy, policy),
            languages=languages,
            review_destination=data.get("review_destination", ""),
            confidence_threshold=float(threshold) if threshold else None,
            auto_translate=(data.get("auto_translate") or "0").lower()
            in {"1", "true", "yes", "on"},
        )


@dataclass(frozen=True, slots=True)
class UserSettings:
    """One user's preferences."""

    language: str | None = None


class PreferenceStore:
    """Reads and writes channel and user settings."""

    def __init__(self, client: redis.Redis, namespace: str) -> None:
        self._redis = client
        self.keys = Keys(namespace)

    def channel(self, platform: str, channel: str) -> ChannelSettings:
        """Settings of one channel (defaults when none were set)."""
        data = cast(dict[str, str], self._redis.hgetall(self.keys.channel(platform, channel)))
        return ChannelSettings.from_hash(data)

    def set_channel(self, platform: str, channel: str, value: ChannelSettings) -> None:
        """Replace one channel's settings."""
        key = self.keys.channel(platform, channel)
        self._redis.hset(key, mapping=value.to_hash())  # type: ignore[arg-type]

    def user(self, platform: str, user: str) -> UserSettings:
        """Settings of one user (defaults when none were set)."""
        language = cast(str | None, self._redis.hget(self.keys.user(platform, user), "language"))
        return UserSettings(language=language or None)

    def set_user(self, platform: str, user: str, value: UserSettings) -> None:
        """Replace one user's settings."""
        key = self.keys.user(platform, user)
        if value.language:
            self._redis.hset(key, "language", value.language)
        else:
            self._redis.hdel(key, "language")
