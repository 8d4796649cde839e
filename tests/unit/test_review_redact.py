"""Personal data is redacted before a review decision reaches the audit stream."""

from __future__ import annotations

import pytest

from workers.review.redact import redact


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("write to ana.lopez+shop@example.co.uk now", "write to [email] now"),
        ("call +34 612 345 678 or (415) 555-2671", "call [phone] or [phone]"),
        ("Ruf mich an: 030 1234567", "Ruf mich an: [phone]"),
        ("card 4111 1111 1111 1111 declined", "card [card] declined"),
        ("card 4111-1111-1111-1111", "card [card]"),
        ("IBAN DE89 3704 0044 0532 0130 00, thanks", "IBAN [iban], thanks"),
        ("to GB82WEST12345698765432", "to [iban]"),
        ("I live at 221B Baker Street, London", "I live at [address], London"),
        ("Lieferung an Hauptstraße 5, 10115 Berlin", "Lieferung an [address], 10115 Berlin"),
        ("envíalo a Calle Mayor 12, Madrid", "envíalo a [address], Madrid"),
        ("au 12 rue de la Paix", "au [address] de la Paix"),
        ("Via Roma 1, Milano", "[address], Milano"),
        ("Lange Straße 5", "[address]"),
        ("Storgatan 3, Stockholm", "[address], Stockholm"),
    ],
)
def test_personal_data_is_replaced(text: str, expected: str) -> None:
    assert redact(text, language="en") == expected


@pytest.mark.parametrize(
    "text",
    [
        "Premium costs 49 euros per month and includes priority support.",
        "Order 1234567890123 arrived on 12.03.2024",  # fails Luhn: not a card
        "Error code 4111 1111 1111 1112 in the log",  # fails Luhn too
        "Version 2.14.1 of the app, build 20240301",
        "DE12 is not an IBAN",
        "I waited 2 days on the way",
        "I sent it 3 times via email within 2 days",
        "Step 3 place the SIM in the tray",
        "",
    ],
)
def test_ordinary_text_stays(text: str) -> None:
    assert redact(text, language="de") == text
