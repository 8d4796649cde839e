"""Language codes per seq2seq model family (Parley speaks ISO 639-1 everywhere else)."""

from __future__ import annotations

from typing import Any, Literal

from nlp.translation.base import UnsupportedPairError

Family = Literal["marian", "m2m100", "nllb", "t5", "generic"]

# FLORES-200 codes used by NLLB.
NLLB_CODES: dict[str, str] = {
    "ar": "arb_Arab", "da": "dan_Latn", "de": "deu_Latn", "en": "eng_Latn", "es": "spa_Latn",
    "fi": "fin_Latn", "fr": "fra_Latn", "hi": "hin_Deva", "it": "ita_Latn", "ja": "jpn_Jpan",
    "ko": "kor_Hang", "nb": "nob_Latn", "nl": "nld_Latn", "pl": "pol_Latn", "pt": "por_Latn",
    "ru": "rus_Cyrl", "sv": "swe_Latn", "tr": "tur_Latn", "uk": "ukr_Cyrl", "zh": "zho_Hans",
}  # fmt: skip

# ISO 639-3 codes that multi-target OPUS-MT models use in `>>xxx<<` tokens.
ISO3_CODES: dict[str, tuple[str, ...]] = {
    "ar": ("ara", "arb"), "da": ("dan",), "de": ("deu",), "en": ("eng",), "es": ("spa",),
    "fi": ("fin",), "fr": ("fra",), "hi": ("hin",), "it": ("ita",), "ja": ("jpn",),
    "ko": ("kor",), "nb": ("nob", "nor"), "nl": ("nld",), "pl": ("pol",), "pt": ("por",),
    "ru": ("rus",), "sv": ("swe",), "tr": ("tur",), "uk": ("ukr",), "zh": ("cmn_Hans", "zho"),
}  # fmt: skip

M2M100_ALIASES = {"nb": "no"}

T5_NAMES = {"en": "English", "de": "German", "fr": "French", "ro": "Romanian"}


def model_family(model: Any, tokenizer: Any) -> Family:
    """Which language-code convention a seq2seq model follows."""
    name = type(tokenizer).__name__.lower()
    model_type = str(getattr(getattr(model, "config", None), "model_type", ""))
    if "nllb" in name:
        return "nllb"
    if "m2m100" in name:
        return "m2m100"
    if "marian" in name or model_type == "marian":
        return "marian"
    if model_type in {"t5", "mt5"}:
        return "t5"
    return "generic"


def nllb_code(lang: str) -> str:
    """FLORES-200 code of an ISO 639-1 language (codes already in FLORES form pass through)."""
    if "_" in lang:
        return lang
    try:
        return NLLB_CODES[lang]
    except KeyError:
        raise UnsupportedPairError(
            f"NLLB: no code for language {lang!r}; supported: {', '.join(sorted(NLLB_CODES))}"
        ) from None


def m2m100_code(lang: str) -> str:
    return M2M100_ALIASES.get(lang, lang)


def marian_target_token(tokenizer: Any, target: str) -> str | None:
    """The `>>xx<<` token selecting `target` in a multi-target Marian model, None for a
    single-target (per-pair) model; UnsupportedPairError when the model lacks `target`."""
    vocab = tokenizer.get_vocab()
    tokens = [t for t in vocab if t.startswith(">>") and t.endswith("<<")]
    if not tokens:
        return None
    for code in (target, *ISO3_CODES.get(target, ())):
        if f">>{code}<<" in vocab:
            return f">>{code}<<"
    known = ", ".join(sorted(t[2:-2] for t in tokens)[:40])
    raise UnsupportedPairError(f"This Marian model has no target {target!r}; it knows: {known}")


def t5_prefix(source: str | None, target: str) -> str:
    if source not in T5_NAMES or target not in T5_NAMES:
        raise UnsupportedPairError(
            f"T5 translates only between {', '.join(sorted(T5_NAMES))} "
            f"(asked {source or 'unknown'} -> {target})"
        )
    return f"translate {T5_NAMES[source]} to {T5_NAMES[target]}: "
