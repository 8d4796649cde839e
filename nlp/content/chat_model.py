"""The `ChatModel` over the dialogue model, through the shared inference backend.

Completions go through `nlp.inference.backend_for`: the backend chosen in settings
(docs/models.md "Inference backends") behind the process's micro-batcher, so summaries and
drafts batch with the drafting and translation requests on the same model.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from bot.settings import Settings
from nlp.inference import GenerationRequest, MicroBatcher, backend_for
from nlp.loading import LoadedModel, load_causal_lm


class LoadedChatModel:
    """Completes chats greedily with a loaded causal LM."""

    def __init__(self, loaded: LoadedModel, backend: MicroBatcher | None = None) -> None:
        self.loaded = loaded
        self._backend = backend or backend_for(loaded)

    def count_tokens(self, text: str) -> int:
        return len(self.loaded.tokenizer(text, add_special_tokens=False)["input_ids"])

    def complete(
        self, chats: Sequence[Sequence[Mapping[str, str]]], *, max_new_tokens: int
    ) -> list[str]:
        tokenizer = self.loaded.tokenizer
        requests = []
        for chat in chats:
            prompt = tokenizer.apply_chat_template(
                [dict(m) for m in chat], add_generation_prompt=True, tokenize=False
            )
            ids = tokenizer(str(prompt), add_special_tokens=False)["input_ids"]
            requests.append(GenerationRequest(tuple(ids), max_new_tokens))
        return [out.text.strip() for out in self._backend.generate(requests)]


def load_chat_model(settings: Settings) -> LoadedChatModel:
    """The dialogue model (`PARLEY_DIALOGUE_MODEL`) as a `ChatModel`."""
    loaded = load_causal_lm(
        settings.dialogue_model, cache_dir=settings.cache_dir, device=settings.device
    )
    return LoadedChatModel(loaded)
