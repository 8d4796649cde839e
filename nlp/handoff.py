"""The note a customer sees when Parley escalates instead of answering.

An escalation must never reach the customer as an empty message: they get a short note, in their
language, that a person has their question; the model's draft (if any) stays on the `Draft` for
the reviewing agent. Fixed translations, not model output: a 0.5B model cannot be trusted to
translate its own refusal, and this text must be right every time.
"""

from __future__ import annotations

HANDOFF_NOTES: dict[str, str] = {
    "en": "I'm not sure about this one, so I've passed your question to a person on our "
    "support team.",
    "es": "No estoy seguro de la respuesta, así que he pasado tu pregunta a una persona de "
    "nuestro equipo de soporte.",
    "de": "Da bin ich mir nicht sicher, deshalb habe ich Ihre Frage an eine Person aus unserem "
    "Support-Team weitergegeben.",
    "sv": "Det här är jag inte säker på, så jag har skickat din fråga vidare till en person i "
    "vårt supportteam.",
    "fr": "Je ne suis pas sûr de la réponse, j'ai donc transmis votre question à une personne "
    "de notre équipe d'assistance.",
    "pt": "Não tenho certeza sobre isso, por isso encaminhei sua pergunta para uma pessoa da "
    "nossa equipe de suporte.",
    "it": "Non ne sono sicuro, quindi ho inoltrato la tua domanda a una persona del nostro team "
    "di assistenza.",
    "nl": "Hier ben ik niet zeker van, dus ik heb je vraag doorgestuurd naar een medewerker van "
    "ons supportteam.",
    "da": "Det er jeg ikke sikker på, så jeg har sendt dit spørgsmål videre til en person i "
    "vores supportteam.",
    "nb": "Dette er jeg ikke sikker på, så jeg har sendt spørsmålet ditt videre til en person i "
    "supportteamet vårt.",
    "fi": "En ole varma tästä, joten välitin kysymyksesi tukitiimimme henkilölle.",
    "pl": "Nie jestem tego pewien, więc przekazałem Twoje pytanie osobie z naszego zespołu "
    "wsparcia.",
    "zh": "这个问题我不太确定，所以已将您的问题转交给我们支持团队的工作人员。",  # noqa: RUF001 (Chinese punctuation)
    "ja": "この件については確信が持てないため、ご質問をサポートチームの担当者に引き継ぎました。",
}


def handoff_note(language: str | None) -> str:
    """The escalation note in `language` (an ISO 639-1 code, region ignored); English otherwise."""
    code = (language or "en").lower().replace("_", "-").split("-")[0]
    if code == "no":  # Norwegian without a written standard: Bokmål is what most people read
        code = "nb"
    return HANDOFF_NOTES.get(code, HANDOFF_NOTES["en"])
