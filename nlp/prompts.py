"""The retrieval-augmented chat prompt, and reading citations and refusals back out of a draft.

Pure functions over plain data (no model), so every rule here is unit-tested.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

from bot.types import Turn
from retrieval.types import Hit

NO_ANSWER = "NO_ANSWER"
MIN_PASSAGE_CHARS = 200

LANGUAGE_NAMES: dict[str, str] = {
    "ar": "Arabic",
    "da": "Danish",
    "de": "German",
    "en": "English",
    "es": "Spanish",
    "fi": "Finnish",
    "fr": "French",
    "hi": "Hindi",
    "it": "Italian",
    "ja": "Japanese",
    "ko": "Korean",
    "nb": "Norwegian",
    "nl": "Dutch",
    "pl": "Polish",
    "pt": "Portuguese",
    "ru": "Russian",
    "sv": "Swedish",
    "tr": "Turkish",
    "uk": "Ukrainian",
    "zh": "Chinese",
}

# Written for a 0.5B model, measured with bench/bench_answers.py: short imperative rules, the
# language named in the rules and again right before the answer (small models drift to English
# otherwise), and one worked example (it taught the model to quote the fact and cite it, which the
# rules alone did not). The rules and the example are the same for every draft in one reply
# language, so they form a fixed prefix whose model state backends compute once per language.
# (Naming the language only in the last message, one prefix for all, measured worse:
# bench_answers non-English all-right 4 of 13 instead of 5.)
SYSTEM_PROMPT = """You are a customer support assistant. Answer the customer's question using only \
the numbered sources.
- Give the exact facts from the sources (prices, numbers, menu paths).
- After each fact, cite its source number in square brackets, like [1].
- Write one to three short sentences in {language}.
- If the sources do not answer the question, reply only: {no_answer}"""

EXAMPLE_SOURCES = """[1] Shipping
Orders ship within 2 business days. Express delivery costs 9 EUR and arrives the next day.

[2] Returns
You can return items within 30 days of delivery."""
EXAMPLE_QUESTION = "How much is express delivery?"
EXAMPLE_ANSWER = "Express delivery costs 9 EUR and arrives the next day [1]."

_CITATION = re.compile(r"\[(\d{1,2}(?:\s*,\s*\d{1,2})*)\]")
# Refusal phrasings small models use instead of the marker, in the languages they answer best in.
_REFUSALS = re.compile(
    r"\bNO[_ ]ANSWER\b|i (?:do not|don't|cannot|can't) (?:know|answer|find)"
    r"|(?:passages?|context) (?:do(?:es)? not|don't|doesn't) (?:contain|mention|provide|say)"
    r"|no (?:information|answer) (?:is )?(?:available|provided|given)"
    r"|no (?:lo )?sé\b|no (?:tengo|hay) información|ich weiß (?:es )?nicht"
    r"|je ne sais pas|jag vet inte|我不知道|没有(?:相关)?信息",
    re.IGNORECASE,
)
# Zero-width characters, bidi controls and other format characters (Unicode category Cf) are
# invisible to a reader but not to the model: strip them so hidden instructions cannot ride along.
_KEEP_FORMAT = {"\u200d"}  # the zero-width joiner builds emoji sequences


def strip_invisible(text: str) -> str:
    """Remove invisible format characters (zero-width, bidi controls) and stray control codes."""
    return "".join(
        ch
        for ch in text
        if ch in _KEEP_FORMAT
        or ch in "\n\t"
        or unicodedata.category(ch) not in {"Cf", "Cc", "Co", "Cs"}
    )


def language_name(code: str | None) -> str:
    """The English name of an ISO 639-1 code, for the prompt ("the language of the question")."""
    if code is None:
        return "the same language as the question"
    return LANGUAGE_NAMES.get(code, code)


def passage_text(hit: Hit) -> str:
    """The passage as the model should read it: without a first line that repeats its title.

    Chunks of Markdown files start with their `# Title` heading and FAQ chunks with
    `Q: <title>`; shown under the title line, the repetition only costs prompt tokens.
    """
    text = hit.text.strip()
    first, _, rest = text.partition("\n")
    if rest and hit.title and first.lstrip("#").strip() == hit.title.strip():
        return rest.strip()
    return text


def format_passages(hits: Sequence[Hit], *, max_chars: int) -> str:
    """Number the passages [1]..[n], best first, within `max_chars` of passage text.

    The best passages are kept whole where they fit: a price table cut in half answers nothing.
    A passage that no longer fits is cut (if at least MIN_PASSAGE_CHARS remain) or left out.
    """
    blocks: list[str] = []
    remaining = max_chars
    for number, hit in enumerate(hits, start=1):
        if remaining < MIN_PASSAGE_CHARS and blocks:
            break
        text = passage_text(hit)
        if len(text) > remaining:
            text = text[:remaining].rsplit(" ", 1)[0] + " ..."
        remaining -= len(text)
        title = f" {hit.title}" if hit.title else ""
        blocks.append(f"[{number}]{title}\n{text}")
    return "\n\n".join(blocks)


def user_prompt(sources: str, question: str, language: str | None) -> str:
    """The last user message: sources, question, and the reply language named once more."""
    return (
        f"Sources:\n{sources}\n\nQuestion: {question}\n"
        f"Answer in {language_name(language)} and cite the source numbers."
    )


FIXED_MESSAGES = 3  # the rules and the worked example open every draft prompt


def fixed_messages(language: str | None) -> list[dict[str, str]]:
    """The messages every draft prompt in `language` starts with: the rules and the example."""
    system = SYSTEM_PROMPT.format(language=language_name(language), no_answer=NO_ANSWER)
    return [
        {"role": "system", "content": system},
        {"role": "user", "content": user_prompt(EXAMPLE_SOURCES, EXAMPLE_QUESTION, "en")},
        {"role": "assistant", "content": EXAMPLE_ANSWER},
    ]


def build_messages(
    question: str,
    hits: Sequence[Hit],
    *,
    history: Sequence[Turn] = (),
    language: str | None = None,
    max_context_chars: int = 2400,
) -> list[dict[str, str]]:
    """The chat messages for one draft: rules, a worked example, the conversation, the question.

    The passages travel with the last user message (small models follow nearby context best);
    earlier turns are plain text so the model can resolve "it" and "that" in the question. The
    worked example is in English whatever the reply language: the instruction at the end names
    the language, and a translated example leaked its own facts ("9 EUR") into Swedish answers.
    """
    messages = fixed_messages(language)
    messages.extend({"role": turn.role, "content": turn.text} for turn in history)
    passages = format_passages(hits, max_chars=max_context_chars)
    messages.append({"role": "user", "content": user_prompt(passages, question, language)})
    return messages


def parse_citations(text: str, n_passages: int) -> tuple[int, ...]:
    """1-based passage numbers cited as [n] or [n, m], in order of first use; others dropped."""
    seen: list[int] = []
    for match in _CITATION.finditer(text):
        for part in match.group(1).split(","):
            number = int(part)
            if 1 <= number <= n_passages and number not in seen:
                seen.append(number)
    return tuple(seen)


def is_refusal(text: str) -> bool:
    """True when the draft says the passages do not answer the question."""
    return not text.strip() or bool(_REFUSALS.search(text))


def clean_answer(text: str, titles: Sequence[str] = ()) -> str:
    """Trim the generated text: whitespace, an "Answer:" label, echoed passage headers.

    Small models sometimes copy a passage with its "[n] Title" header line; the header becomes a
    citation at the end of that passage's text instead.
    """
    cleaned = text.strip()
    for number, title in enumerate(titles, start=1):
        header = re.compile(
            rf"^\[{number}\][ \t]*{re.escape(title)}[ \t]*:?[ \t]*\n(.+?)(?=\n\n|\Z)", re.M | re.S
        )
        cleaned = header.sub(rf"\1 [{number}]", cleaned)
    cleaned = re.sub(r"^(?:answer|respuesta|antwort|svar)\s*:\s*", "", cleaned, flags=re.I)
    return cleaned.strip()


_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")


def ungrounded_numbers(answer: str, passages: Sequence[str]) -> list[str]:
    """Numbers in the answer that appear in no passage (a stated price the sources lack).

    Citation markers are ignored; "1,200" and "1200" count as the same number.
    """
    body = _CITATION.sub(" ", answer)
    known = {n.replace(",", "").replace(".", "") for p in passages for n in _NUMBER.findall(p)}
    return [n for n in _NUMBER.findall(body) if n.replace(",", "").replace(".", "") not in known]


_WORD = re.compile(r"\w+", re.UNICODE)


def key_terms(text: str) -> set[str]:
    """The words that carry an answer's facts: numbers and words of four or more letters."""
    body = _CITATION.sub(" ", text).casefold()
    return {w for w in _WORD.findall(body) if w.isdigit() or len(w) >= 4}


def _trigrams(text: str) -> set[str]:
    words = _WORD.findall(_CITATION.sub(" ", text).casefold())
    return {" ".join(words[i : i + 3]) for i in range(len(words) - 2)}


_EXAMPLE_TRIGRAMS = _trigrams(f"{EXAMPLE_SOURCES}\n{EXAMPLE_ANSWER}")


def example_echoes(answer: str, passages: Sequence[str]) -> list[str]:
    """Three-word runs of the worked example (shipping, "9 EUR", "days of delivery") in the
    answer that no passage has: the model copied the example, not the sources."""
    shown = set().union(*(_trigrams(p) for p in passages)) if passages else set()
    return sorted((_trigrams(answer) & _EXAMPLE_TRIGRAMS) - shown)


def passage_support(answer: str, passages: Sequence[str]) -> list[float]:
    """For each passage, the share of the answer's key terms it contains (0..1).

    Numbers count double: a price or a limit is the fact a wrong citation misattributes.
    """
    terms = key_terms(answer)
    if not terms:
        return [0.0 for _ in passages]
    weight = {t: 2.0 if t.isdigit() else 1.0 for t in terms}
    total = sum(weight.values())
    support = []
    for passage in passages:
        words = set(_WORD.findall(passage.casefold()))
        support.append(sum(w for t, w in weight.items() if t in words) / total)
    return support


def attribute_citations(
    answer: str, passages: Sequence[str], cited: Sequence[int]
) -> tuple[int, ...]:
    """The passages to cite: the model's own citations unless another passage supports more.

    A 0.5B model cites [1] out of habit (the worked example does) whatever passage it copied
    from; the passage sharing the most key terms with the answer is the better source then.
    Without any overlap (nothing to go on) the model's citations stand.
    """
    support = passage_support(answer, passages)
    if not support or max(support) == 0.0:
        return tuple(cited)
    best = max(support)
    if cited and max(support[n - 1] for n in cited) >= best:
        return tuple(cited)
    return tuple(n for n, s in enumerate(support, start=1) if s == best)[:1]
