from __future__ import annotations

import pytest

from nlp.langid import LanguageDetector, LinguaDetector


@pytest.fixture(scope="module")
def detector() -> LanguageDetector:
    return LinguaDetector()


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("How much does the premium plan cost per month?", "en"),
        ("¿Cuánto cuesta el plan premium al mes?", "es"),
        ("Hur mycket kostar premiumplanen per månad?", "sv"),
        ("Wie viel kostet der Premium-Tarif im Monat?", "de"),
        ("高级套餐每个月多少钱", "zh"),
    ],
)
def test_common_languages_are_detected(detector: LanguageDetector, text: str, code: str) -> None:
    guess = detector.detect(text)
    assert guess is not None and guess.code == code
    assert 0.0 < guess.confidence <= 1.0


@pytest.mark.parametrize("text", ["", "ok", "?!", "12345 :)"])
def test_short_or_letterless_text_is_unsure(detector: LanguageDetector, text: str) -> None:
    assert detector.detect(text) is None


def test_detection_can_be_restricted() -> None:
    guess = LinguaDetector(["en", "sv"]).detect("Hur mycket kostar det?")
    assert guess is not None and guess.code == "sv"


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("How much does the premium plan cost per month?", "en"),
        ("¿Cuánto cuesta el plan premium al mes?", "es"),
        ("Hur mycket kostar premiumplanen per månad?", "sv"),
        ("高级套餐每个月多少钱", "zh"),
        ("What is a bygglov (building permit)?", "en"),
    ],
)
def test_py3langid_detects_common_languages(text: str, code: str) -> None:
    from nlp.langid import Py3LangidDetector

    guess = Py3LangidDetector().detect(text)
    assert guess is not None and guess.code == code and 0.5 <= guess.confidence <= 1.0


@pytest.mark.parametrize("text", ["", "ok", "?!", "12345 :)", "👍👍"])
def test_py3langid_short_or_letterless_text_is_unsure(text: str) -> None:
    from nlp.langid import Py3LangidDetector

    assert Py3LangidDetector().detect(text) is None


def test_mixed_messages_report_each_language_share() -> None:
    from nlp.langid import mixed_languages

    parts = mixed_languages(
        "Thanks for the quick answer, the deploy is fixed now. "
        "Muchas gracias por la respuesta tan rápida, ya funciona todo."
    )
    assert {code for code, _ in parts} == {"en", "es"}
    assert abs(sum(share for _, share in parts) - 1.0) < 0.01
    assert [c for c, _ in mixed_languages("How much does the premium plan cost?")] == ["en"]
