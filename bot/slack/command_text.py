"""Pure parsing of `/parley` text: the subcommand and its rest, and language codes."""

from __future__ import annotations

import re

LANGUAGE = re.compile(r"^[a-z]{2,3}(-[a-z]{2,4})?$")


def parse_command(text: str) -> tuple[str, str]:
    """`"channel translate de,fr"` -> `("channel", "translate de,fr")`; empty -> `("help", "")`."""
    words = text.strip().split(maxsplit=1)
    if not words:
        return "help", ""
    return words[0].lower(), words[1].strip() if len(words) > 1 else ""


def parse_languages(text: str) -> tuple[str, ...] | None:
    """`"de, fr es"` -> `("de", "fr", "es")`; None when any code is not a language code."""
    codes = tuple(dict.fromkeys(c.lower() for c in re.split(r"[,\s]+", text) if c))
    if not codes or not all(LANGUAGE.match(c) for c in codes):
        return None
    return codes
