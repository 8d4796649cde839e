"""Content and insight: thread summaries, multilingual drafting, suggested articles."""

from nlp.content.suggest import Suggestion, suggest_articles
from nlp.content.summarize import Summarizer
from nlp.content.types import TONES, ChatModel, ContentDraft, Summary, ThreadMessage, Tone
from nlp.content.write import Writer, check_languages

__all__ = [
    "TONES",
    "ChatModel",
    "ContentDraft",
    "Suggestion",
    "Summarizer",
    "Summary",
    "ThreadMessage",
    "Tone",
    "Writer",
    "check_languages",
    "suggest_articles",
]
