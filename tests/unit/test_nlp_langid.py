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
