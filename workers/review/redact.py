"""Redacting personal data before a review decision is written to the audit stream.

- phone numbers: `phonenumbers.PhoneNumberMatcher` (Google's libphonenumber metadata), tried
  with the customer's region hints and with international `+` numbers;
- card numbers: 13-19 digit runs (spaces or dashes allowed) that pass the Luhn check
  (`stdnum.luhn`), so order numbers and dates stay;
- IBANs: country code, check digits and up to 30 characters that `stdnum.iban` validates;
- e-mail addresses and street addresses (a number next to a capitalised street word, several
  languages): regular expressions, the best that can be done without a postal database.
Each kind is replaced by a tag (`[email]`, `[phone]`, `[card]`, `[iban]`, `[address]`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import phonenumbers
from stdnum import iban, luhn

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
IBAN_CANDIDATE = re.compile(r"\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]{1,4}){3,8}\b")
CARD_CANDIDATE = re.compile(r"(?<![\d-])\d(?:[ -]?\d){12,18}(?![\d-])")
_CAP = r"[A-ZÀ-ÖØ-Þ][\w'.-]*"
_NUMBER = r"\d{1,5}[A-Za-z]?"
# Capitalised street words keep ordinary text ("2 days on the way", "via email") unredacted.
_AFTER = r"Street|St\.|Road|Rd\.|Avenue|Ave\.|Boulevard|Blvd\.|Lane|Drive|Way|Court|Place|Square"
_FRENCH = r"rue|avenue|boulevard|chemin|impasse|allée"
_BEFORE = (
    r"Calle|C/|Avenida|Avda\.|Plaza|Paseo|Carrer|Via|Viale|Piazza|Corso|Rua|Travessa|Largo|"
    r"Rue|Ulica|ul\."
)
_COMPOUND = (
    r"stra(?:ss|ß)e|str\.|weg|gasse|platz|allee|ring|damm|straat|laan|gracht|plein|gatan|vägen|"
    r"gata|vej|gade|katu|tie"
)
# "221B Baker Street", "12 rue de la Paix", "Calle Mayor 12", "Via Roma 1", "Hauptstraße 5",
# "Lange Straße 5"
ADDRESS = re.compile(
    rf"\b{_NUMBER},?\s+(?:{_CAP}\s+){{0,3}}(?:{_AFTER})(?!\w)"
    rf"|\b{_NUMBER},?\s+(?:{_FRENCH})\b"
    rf"|(?<!\w)(?:{_BEFORE})\s+(?:(?:de|del|la|di|da|do)\s+)?(?:{_CAP}\s+){{0,3}}{_NUMBER}\b"
    rf"|\b{_CAP}(?:{_COMPOUND})\s+{_NUMBER}\b"
    rf"|\b{_CAP}\s+(?:Stra(?:ss|ß)e|Weg|Gasse|Platz|Allee)\s+{_NUMBER}\b",
    re.UNICODE,
)
DEFAULT_REGIONS = ("US", "GB", "DE", "ES", "FR")


def _sub_valid(pattern: re.Pattern[str], text: str, tag: str, valid: object) -> str:
    def replace(match: re.Match[str]) -> str:
        return tag if valid(match.group(0)) else match.group(0)  # type: ignore[operator]

    return pattern.sub(replace, text)


def _is_card(candidate: str) -> bool:
    digits = re.sub(r"[ -]", "", candidate)
    return 13 <= len(digits) <= 19 and luhn.is_valid(digits)


def _phones(text: str, regions: Iterable[str]) -> str:
    spans: list[tuple[int, int]] = []
    for region in dict.fromkeys(regions):
        for match in phonenumbers.PhoneNumberMatcher(text, region, leniency=1):
            if not phonenumbers.is_possible_number(match.number):
                continue
            spans.append((match.start, match.end))
    if not spans:
        return text
    out, last = [], 0
    for start, end in sorted(spans):
        if start < last:
            continue
        out.append(text[last:start])
        out.append("[phone]")
        last = end
    out.append(text[last:])
    return "".join(out)


def region_for(language: str | None) -> str | None:
    """A likely phone region for a customer's language (a hint only; `+` numbers need none)."""
    code = (language or "").split("-")[0].lower()
    return {
        "en": "US",
        "de": "DE",
        "es": "ES",
        "fr": "FR",
        "it": "IT",
        "pt": "PT",
        "nl": "NL",
        "sv": "SE",
        "da": "DK",
        "nb": "NO",
        "fi": "FI",
        "pl": "PL",
        "ja": "JP",
        "zh": "CN",
    }.get(code)


def redact(text: str, *, language: str | None = None) -> str:
    """`text` with e-mails, IBANs, card numbers, phone numbers and street addresses replaced."""
    if not text:
        return text
    text = EMAIL.sub("[email]", text)
    text = _sub_valid(IBAN_CANDIDATE, text, "[iban]", lambda s: iban.is_valid(s))
    text = _sub_valid(CARD_CANDIDATE, text, "[card]", _is_card)
    hint = region_for(language)
    text = _phones(text, ([hint] if hint else []) + list(DEFAULT_REGIONS))
    return ADDRESS.sub("[address]", text)
