"""The instruct translator's inference options: CTranslate2 int8 on CPU unless told otherwise."""

from __future__ import annotations

from bot.settings import Settings
from nlp.translation.factory import translation_options


def settings(**values: object) -> Settings:
    return Settings(_env_file=None, device="cpu", **values)  # type: ignore[call-arg, arg-type]


def test_auto_on_cpu_translates_with_ctranslate2_int8() -> None:
    options = translation_options(settings())
    assert (options.backend, options.compute_type) == ("ctranslate2", "int8")


def test_explicit_inference_settings_are_kept() -> None:
    options = translation_options(settings(inference_backend="transformers"))
    assert (options.backend, options.compute_type) == ("transformers", "auto")
    options = translation_options(settings(inference_compute_type="float32"))
    assert options.compute_type == "float32"


def test_same_and_explicit_translation_compute_types() -> None:
    assert translation_options(settings(translation_compute_type="same")).compute_type == "auto"
    options = translation_options(settings(translation_compute_type="float32"))
    assert (options.backend, options.compute_type) == ("ctranslate2", "float32")
    options = translation_options(settings(inference_max_batch=4))
    assert options.max_batch == 4
