"""Fixed customer notes of the review workflow (translations, not model output; see
nlp/handoff.py for the escalation note of low-confidence drafts)."""

from __future__ import annotations

REVIEW_NOTES: dict[str, str] = {
    "en": "Thanks for your message! A member of our support team will reply shortly.",
    "es": "¡Gracias por tu mensaje! Una persona de nuestro equipo de soporte te responderá en "
    "breve.",
    "de": "Danke für Ihre Nachricht! Eine Person aus unserem Support-Team antwortet Ihnen in "
    "Kürze.",
    "sv": "Tack för ditt meddelande! En person i vårt supportteam svarar dig inom kort.",
    "fr": "Merci pour votre message ! Une personne de notre équipe d'assistance vous répondra "
    "sous peu.",
    "pt": "Obrigado pela sua mensagem! Uma pessoa da nossa equipe de suporte responderá em breve.",
    "it": "Grazie per il tuo messaggio! Una persona del nostro team di assistenza ti risponderà "
    "a breve.",
    "nl": "Bedankt voor je bericht! Een medewerker van ons supportteam antwoordt je zo snel "
    "mogelijk.",
    "da": "Tak for din besked! En person fra vores supportteam svarer dig snarest.",
    "nb": "Takk for meldingen din! En person i supportteamet vårt svarer deg snart.",
    "fi": "Kiitos viestistäsi! Tukitiimimme henkilö vastaa sinulle pian.",
    "pl": "Dziękujemy za wiadomość! Osoba z naszego zespołu wsparcia wkrótce odpowie.",
    "zh": "感谢您的留言！我们支持团队的工作人员会尽快回复您。",  # noqa: RUF001 (Chinese punctuation)
    "ja": "メッセージありがとうございます。サポートチームの担当者がまもなくお返事します。",
}


def review_note(language: str | None) -> str:
    """The "an agent will reply" note in `language` (ISO 639-1, region ignored); English
    otherwise."""
    code = (language or "en").lower().replace("_", "-").split("-")[0]
    if code == "no":
        code = "nb"
    return REVIEW_NOTES.get(code, REVIEW_NOTES["en"])
