"""The local adapter: the terminal (`parley ask`, `parley chat`) as a platform."""

from bot.local.adapter import LocalChannel, Reply

__all__ = ["LocalChannel", "Reply"]
