"""The chats a model is trained on: the runtime prompts without their worked examples.

The runtime prompts (`nlp.translation.instruct.build_messages`, `nlp.prompts.build_messages`)
carry a one-shot example; training on it would triple the tokens per sample for nothing the
model learns, so samples keep the system rules and the request and drop the example. A tuned
model then serves behind the full runtime prompt unchanged (bench/bench_finetune.py measures
exactly that).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from nlp.prompts import fixed_messages, user_prompt
from nlp.translation.instruct import build_messages as translation_prompt


def translation_messages(text: str, *, source: str | None, target: str) -> list[dict[str, str]]:
    """System rules and the request to translate `text`, without the worked example."""
    messages = translation_prompt(text, target=target, source=source)
    return [messages[0], messages[-1]]


def format_passages(passages: Sequence[dict[str, Any]], max_chars: int = 2400) -> str:
    """Numbered passages as in the runtime prompt, cut to `max_chars` in total."""
    blocks, used = [], 0
    for number, passage in enumerate(passages, start=1):
        text = str(passage.get("text", ""))[: max(0, max_chars - used)]
        used += len(text)
        title = f" {passage['title']}" if passage.get("title") else ""
        blocks.append(f"[{number}]{title}\n{text}")
    return "\n\n".join(blocks)


def dialogue_messages(
    question: str, passages: Sequence[dict[str, Any]], *, language: str | None
) -> list[dict[str, str]]:
    """System rules, the passages and the customer's question, without the worked example."""
    sources = format_passages(passages)
    return [
        fixed_messages(language)[0],
        {"role": "user", "content": user_prompt(sources, question, language)},
    ]
