"""Errors of the learning loop: each message says what to do."""

from __future__ import annotations

from bot.errors import InvalidInputError, ParleyError


class TrainingError(ParleyError):
    """A training run could not finish (out of memory, a broken model); nothing was promoted."""


class NotEnoughDataError(InvalidInputError):
    """The dataset is too small to train and evaluate on."""


class RegistryError(ParleyError):
    """A model version is missing or cannot be promoted."""
