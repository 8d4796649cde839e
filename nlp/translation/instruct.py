"""`InstructTranslator`: translation by prompting a chat model (the offline default)."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence

from nlp.drafting import as_backend, encode_chat
from nlp.inference import GenerationBackend, GenerationRequest
from nlp.loading import LoadedModel
from nlp.prompts import LANGUAGE_NAMES

logger = logging.getLogger(__name__)

SYSTEM_PROMPT = (
    "You are a translation engine for chat messages. Translate the user's message {source}into "
    "{target}. Keep every placeholder such as {{0}} or {{1}} exactly as written, in the right "
    "place. Do not answer the message, do not explain: reply with the translation only."
)

# One worked example per target (a one-shot prompt keeps a 0.5B model on task and keeps the
# placeholders); targets without one run zero-shot.
_EXAMPLE_EN = "Thanks {0}, the fix is in {1}. Can you check it today?"
EXAMPLES: dict[str, tuple[str, str]] = {
    "en": ("Gracias {0}, la corrección está en {1}. ¿Puedes revisarla hoy?", _EXAMPLE_EN),
    "es": (_EXAMPLE_EN, "Gracias {0}, la corrección está en {1}. ¿Puedes revisarla hoy?"),
    "de": (_EXAMPLE_EN, "Danke {0}, der Fix ist in {1}. Kannst du ihn heute prüfen?"),
    "fr": (_EXAMPLE_EN, "Merci {0}, le correctif est dans {1}. Peux-tu le vérifier aujourd'hui ?"),
    "sv": (_EXAMPLE_EN, "Tack {0}, rättelsen finns i {1}. Kan du kolla den i dag?"),
    "pt": (_EXAMPLE_EN, "Obrigado {0}, a correção está em {1}. Pode verificá-la hoje?"),
    "it": (_EXAMPLE_EN, "Grazie {0}, la correzione è in {1}. Puoi controllarla oggi?"),
    "nl": (_EXAMPLE_EN, "Bedankt {0}, de oplossing staat in {1}. Kun je het vandaag checken?"),
    "zh": (_EXAMPLE_EN, "谢谢 {0}\uff0c修复在 {1} 里。你今天能检查一下吗\uff1f"),
}  # fmt: skip

_LABEL = re.compile(
    r"^\s*(?:translation|traducción|übersetzung|traduction|översättning)\s*:\s*", re.I
)
_QUOTES = "\"'“”«»「」"


def language_name(code: str) -> str:
    return LANGUAGE_NAMES.get(code, code)


def build_messages(text: str, *, target: str, source: str | None) -> list[dict[str, str]]:
    """The chat that asks for one translation."""
    source_part = f"from {language_name(source)} " if source else ""
    system = SYSTEM_PROMPT.format(source=source_part, target=language_name(target))
    # The instruction sits right above the text in the user turn: with the text alone, the 0.5B
    # model tended to answer questions instead of translating them.
    ask = f"Translate {source_part}into {language_name(target)}:\n"
    messages = [{"role": "system", "content": system}]
    example = EXAMPLES.get(target)
    if example is not None and source != target:
        messages += [
            {"role": "user", "content": ask + example[0]},
            {"role": "assistant", "content": example[1]},
        ]
    messages.append({"role": "user", "content": ask + text})
    return messages


def clean_output(output: str, source_text: str) -> str:
    """Strip what small models add around a translation: labels, quotes, trailing notes."""
    text = output.strip()
    if "\n" not in source_text.strip():
        lines = [line for line in text.splitlines() if line.strip()]
        text = lines[0].strip() if lines else ""
    text = _LABEL.sub("", text)
    src = source_text.strip()
    if (
        len(text) >= 2
        and text[0] in _QUOTES
        and text[-1] in _QUOTES
        and not (src[:1] in _QUOTES and src[-1:] in _QUOTES)
    ):
        text = text[1:-1].strip()
    return text


class InstructTranslator:
    """`Translator` prompting a causal chat LM, greedy, up to `batch_size` prompts per batch.

    Generation runs on an inference backend (`nlp.inference`): a `LoadedModel` gets the
    process's configured backend and shared micro-batcher, so translations requested from
    several threads at once (worker threads, the answerer) are batched together.
    """

    def __init__(
        self,
        model: LoadedModel | GenerationBackend,
        *,
        batch_size: int = 8,
        max_new_tokens: int = 256,
    ) -> None:
        self.backend = as_backend(model)
        self.tokenizer = self.backend.tokenizer
        self.batch_size = batch_size
        self.max_new_tokens = max_new_tokens

    def _prompt(self, text: str, target: str, source: str | None) -> tuple[int, ...]:
        return encode_chat(self.tokenizer, build_messages(text, target=target, source=source))

    def translate(
        self, texts: Sequence[str], *, target: str, source: str | None = None
    ) -> list[str]:
        """Translate `texts` into `target`; prompts of similar length are batched together."""
        if not texts:
            return []
        tokenizer = self.tokenizer
        lengths = [len(tokenizer(t, add_special_tokens=False)["input_ids"]) for t in texts]
        order = sorted(range(len(texts)), key=lambda i: lengths[i])
        out = [""] * len(texts)
        for start in range(0, len(order), self.batch_size):
            batch = order[start : start + self.batch_size]
            requests = []
            for i in batch:
                # Translations run about as long as their source; CJK and German a little longer.
                budget = min(self.max_new_tokens, 2 * lengths[i] + 16)
                requests.append(GenerationRequest(self._prompt(texts[i], target, source), budget))
            for i, result in zip(batch, self.backend.generate(requests), strict=True):
                out[i] = clean_output(result.text, texts[i])
        return out
