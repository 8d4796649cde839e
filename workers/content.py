"""Summaries and content drafting for the adapters' commands, as plain functions.

Arguments arrive in `IncomingMessage.text` (intent `summarize` or `write`), the same on every
platform:
- summarize: `[N]` (the last N messages, default 50) or `[DURATION]` such as `30m`, `2h`, `1d`;
  in a thread (Slack thread, Telegram reply) the thread, else the channel;
- write: `[--tone formal|friendly|concise] [--to en,es,...] [--review] BRIEF`; languages default
  to the channel's languages, else the asker's language; `--review` (or a channel in review mode)
  sends the drafts to the agents' review before they are posted in the channel.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

from bot.errors import InvalidInputError
from bot.settings import Settings
from bot.types import IncomingMessage
from nlp.content import ChatModel, Summarizer, ThreadMessage, Writer, check_languages
from nlp.content.write import Retrieve
from nlp.translation.chat import ChatTranslator
from workers.preferences import ChannelSettings, UserSettings
from workers.thread_log import ThreadLog

SUMMARY_USAGE = "Usage: summarize [N messages, e.g. 100] or [time, e.g. 2h]"
WRITE_USAGE = "Usage: write [--tone formal|friendly|concise] [--to en,es] [--review] what to write"
MAX_SUMMARY_MESSAGES = 500
_DURATION = re.compile(r"^(\d{1,4})\s*([mhd])$")
_UNITS = {"m": 60, "h": 3600, "d": 86400}


_SUMMARIZE_WORDS = {"summarize", "summarise", "summary", "tldr", "tl;dr"}


def summarize_words(text: str) -> str | None:
    """The arguments when a mention asks for a summary ("summarize 2h"), else None."""
    words = text.strip().split(maxsplit=1)
    if not words or words[0].lower().rstrip(":,.!") not in _SUMMARIZE_WORDS:
        return None
    return words[1] if len(words) > 1 else ""


@dataclass(frozen=True, slots=True)
class SummaryRequest:
    limit: int = 50
    since: float | None = None


def parse_summarize(text: str, *, now: float | None = None) -> SummaryRequest:
    """`""`, `"120"` or `"2h"` -> what to summarise; InvalidInputError with the usage otherwise."""
    arg = text.strip().lower()
    if not arg:
        return SummaryRequest()
    if arg.isdigit():
        if not 1 <= int(arg) <= MAX_SUMMARY_MESSAGES:
            raise InvalidInputError(f"Summaries read 1 to {MAX_SUMMARY_MESSAGES} messages")
        return SummaryRequest(limit=int(arg))
    match = _DURATION.match(arg)
    if match is None:
        raise InvalidInputError(SUMMARY_USAGE)
    seconds = int(match.group(1)) * _UNITS[match.group(2)]
    return SummaryRequest(limit=MAX_SUMMARY_MESSAGES, since=(now or time.time()) - seconds)


@dataclass(frozen=True, slots=True)
class WriteRequest:
    brief: str
    tone: str = "friendly"
    languages: tuple[str, ...] = ()
    review: bool = False


def parse_write(text: str) -> WriteRequest:
    """`--tone T --to a,b --review BRIEF` -> a WriteRequest (options in any order, before the
    brief)."""
    words = text.split()
    tone = "friendly"
    languages: tuple[str, ...] = ()
    review = False
    options = ("--tone", "--to")
    while words and (words[0] == "--review" or (len(words) >= 2 and words[0] in options)):
        if words[0] == "--review":
            review, words = True, words[1:]
            continue
        option, value, words = words[0], words[1], words[2:]
        if option == "--tone":
            tone = value.lower()
        else:
            languages = tuple(check_languages(value.split(",")))
    if words and words[0].startswith("--"):
        raise InvalidInputError(WRITE_USAGE)
    return WriteRequest(" ".join(words), tone, languages, review)


def asker_language(
    message: IncomingMessage, user: UserSettings, translator: ChatTranslator | None, default: str
) -> str:
    """The asker's language: their preference, else what they wrote in, else the default."""
    if user.language:
        return user.language
    if message.language:
        return message.language
    if translator is not None and message.text.strip():
        return translator.detect(message.text) or default
    return default


def summarize_for(
    message: IncomingMessage,
    *,
    log: ThreadLog,
    model: ChatModel,
    translator: ChatTranslator,
    language: str,
) -> str:
    """The rendered summary the asker of `message` gets."""
    request = parse_summarize(message.text)
    thread = "" if message.thread.startswith("command:") else message.thread
    rows = log.recent(
        message.platform, message.channel, thread=thread, limit=request.limit, since=request.since
    )
    messages = [ThreadMessage.from_dict(r) for r in rows]

    def translate(texts: list[str], target: str) -> list[str]:
        return translator.translate(texts, target=target)  # quotes keep their own language

    summary = Summarizer(model, translate=translate).summarize(messages, language=language)
    header = f"Summary of {summary.messages} messages ({', '.join(summary.participants)})"
    return f"{header}\n\n{summary.render()}"


def write_for(
    message: IncomingMessage,
    *,
    model: ChatModel,
    translator: ChatTranslator,
    channel: ChannelSettings,
    language: str,
    settings: Settings,
    retrieve: Retrieve | None = None,
) -> str:
    """The drafts (one block per language) the asker of `message` gets."""
    request = parse_write(message.text)
    languages = request.languages or channel.languages or (language or settings.default_language,)
    writer = Writer(model, translate=lambda t, target: translator.translate(t, target=target),
                    retrieve=retrieve)  # fmt: skip
    drafts = writer.write(request.brief, languages=languages, tone=request.tone)
    return "\n\n".join(f"[{d.language}]\n{d.text}" for d in drafts)
