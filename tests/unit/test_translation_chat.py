"""ChatTranslator around fake backends: batching, segmentation, fallbacks, unchanged cases."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from bot.errors import InvalidInputError
from nlp.glossary import Glossary, GlossaryEntry
from nlp.langid import Py3LangidDetector
from nlp.translation import ChatTranslator, RoutedTranslator, UnsupportedPairError, model_for_pair
from nlp.translation.chat import split_long
from tests.fakes_translation import TaggingBackend


class DroppingBackend(TaggingBackend):
    """Loses every placeholder on the first call (as small models sometimes do)."""

    def translate(
        self, texts: Sequence[str], *, target: str, source: str | None = None
    ) -> list[str]:
        out = super().translate(texts, target=target, source=source)
        if len(self.calls) == 1:
            return [o.replace("{0}", "").replace("{1}", "{1}{1}") for o in out]
        return out


def test_every_segment_of_every_message_goes_in_one_batched_call() -> None:
    backend = TaggingBackend()
    chat = ChatTranslator(backend)
    texts = ["first line\nsecond line", "- item one\n- item two", "third"]
    out = chat.translate(texts, target="es", source="en")
    assert len(backend.calls) == 1
    assert backend.calls[0][0] == ("first line", "second line", "item one", "item two", "third")
    assert out[1] == "- [es] ITEM ONE\n- [es] ITEM TWO"


def test_markup_mentions_and_layout_come_back_exactly() -> None:
    chat = ChatTranslator(TaggingBackend())
    text = "<@U1> please check <https://x.io|docs>\n\n> *quoted* text :tada:\n```\ncode\n```"
    out = chat.translate([text], target="de", source="en")[0]
    assert (
        out == "<@U1> [de] PLEASE CHECK <https://x.io|docs>\n\n"
        "> *[de] QUOTED* TEXT :tada:\n```\ncode\n```"
    )


def test_mangled_placeholders_fall_back_to_fragments() -> None:
    backend = DroppingBackend()
    chat = ChatTranslator(backend)
    result = chat.translate_messages(["hi <@U1> see `x` now"], target="es", source="en")[0]
    assert result.text == "[es] HI <@U1> [es] SEE `x` [es] NOW"
    assert backend.calls[1][0] == ("hi", "see", "now")


@pytest.mark.parametrize("text", ["`only code`", "👍🎉", "<@U1> <#C2|x>", "```\nx = 1\n```", "   "])
def test_nothing_translatable_is_returned_unchanged(text: str) -> None:
    backend = TaggingBackend()
    result = ChatTranslator(backend).translate_messages([text], target="es", source="en")[0]
    assert result.text == text and not result.translated
    assert backend.calls == [] or backend.calls[0][0] == ()


def test_already_in_target_language_is_unchanged() -> None:
    backend = TaggingBackend()
    chat = ChatTranslator(backend, detector=Py3LangidDetector())
    result = chat.translate_messages(["¿Dónde está la factura de este mes?"], target="es")[0]
    assert not result.translated and result.source == "es"
    assert backend.calls == [] or backend.calls[0][0] == ()


def test_sources_are_detected_and_grouped() -> None:
    backend = TaggingBackend()
    chat = ChatTranslator(backend, detector=Py3LangidDetector())
    chat.translate(["Hur mycket kostar det här?", "How much does this cost?"], target="de")
    assert sorted(c[2] or "" for c in backend.calls) == ["en", "sv"]


def test_long_text_is_split_on_sentences_and_never_truncated() -> None:
    backend = TaggingBackend()
    text = " ".join(f"Sentence number {i} is here." for i in range(40))
    out = ChatTranslator(backend, max_segment_chars=100).translate([text], target="es", source="en")
    assert all(len(t) <= 100 for t in backend.calls[0][0])
    assert out[0].count("SENTENCE NUMBER") == 40


def test_split_long_keeps_everything() -> None:
    text = "a" * 250 + " b. " + "word " * 60
    pieces = split_long(text, 80)
    assert "".join(pieces) == text and all(len(p) <= 80 for p in pieces)


def test_glossary_terms_are_kept_or_fixed() -> None:
    glossary = Glossary((GlossaryEntry("Parley"), GlossaryEntry("invoice", {"es": "factura"})))
    chat = ChatTranslator(TaggingBackend(), glossary=glossary)
    assert chat.translate(["Parley sent the invoice"], target="es", source="en") == [
        "Parley [es] SENT THE factura"
    ]


def test_pairs_route_to_models_and_unknown_pairs_list_what_is_supported() -> None:
    models = {"en-de": "opus-en-de", "*-sv": "nllb", "*": "qwen"}
    assert model_for_pair(models, "en", "de") == "opus-en-de"
    assert model_for_pair(models, "fr", "sv") == "nllb"
    assert model_for_pair(models, "fr", "de") == "qwen"
    with pytest.raises(UnsupportedPairError, match="configured pairs: en-de"):
        model_for_pair({"en-de": "x"}, "fr", "es")
    assert issubclass(UnsupportedPairError, InvalidInputError)


def test_routed_translator_loads_each_model_once() -> None:
    loaded: list[str] = []

    def load(ref: str) -> TaggingBackend:
        loaded.append(ref)
        return TaggingBackend()

    routed = RoutedTranslator({"en-de": "a", "*": "b"}, load)
    for _ in range(3):
        routed.translate(["x"], target="de", source="en")
        routed.translate(["x"], target="es", source="en")
    assert loaded == ["a", "b"]
