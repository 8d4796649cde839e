"""Parley's exception hierarchy: one root, a few meaningful subclasses.

Catch these only at adapter, CLI and task boundaries; never swallow them silently.
"""

from __future__ import annotations


class ParleyError(Exception):
    """Root of every error Parley raises on purpose. The message tells the user what to do."""


class ConfigurationError(ParleyError):
    """Settings are invalid or incomplete (names the variable to fix)."""


class InvalidInputError(ParleyError):
    """A message, file or payload cannot be processed as given."""


class ModelUnavailableError(ParleyError):
    """A model could not be found or loaded (names the setting and how to fix it)."""


class IndexUnavailableError(ParleyError):
    """The knowledge-base index is missing, corrupt or built with another model."""


class TransientError(ParleyError):
    """A temporary failure worth retrying (Redis away, a platform's rate limit)."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after
