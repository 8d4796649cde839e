"""The offline default translator (packaged Qwen2.5-Coder-0.5B-Instruct) on a real chat message."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bot.settings import Settings
from nlp.langid import Py3LangidDetector
from nlp.translation import build_translator

pytestmark = [pytest.mark.slow, pytest.mark.integration]


def test_instruct_model_translates_en_to_es_keeping_chat_markup(
    make_settings: Callable[..., Settings],
) -> None:
    from platformdirs import user_cache_path

    settings = make_settings(cache_dir=user_cache_path("parley"))
    translator = build_translator(settings)
    text = (
        "Hi <@U123>, please check https://example.com/docs/setup and run `make test` before Friday."
    )
    result = translator.translate_messages([text], target="es")[0]
    assert result.source == "en" and result.translated
    for span in ("<@U123>", "https://example.com/docs/setup", "`make test`"):
        assert result.text.count(span) == 1, result.text
    guess = Py3LangidDetector().detect(result.text)
    assert guess is not None and guess.code == "es", result.text
