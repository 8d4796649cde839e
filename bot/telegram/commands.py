# ruff: noqa: RUF001  (Cyrillic menu texts)
"""The bot's commands: names, localized menu descriptions (setMyCommands) and their replies."""

from __future__ import annotations

import re
from typing import Any, Literal

from telegram import BotCommand

from workers.preferences import POLICIES, ChannelSettings

# Command names must be lower-case (Telegram refuses upper case).
COMMANDS = ("start", "help", "ask", "translate", "fix", "lang", "settings", "summarize", "write")
CONTENT_DESCRIPTIONS = {
    "summarize": "Summarise the group: /summarize [N|2h], or reply to a message",
    "write": "Draft content: /write [--tone formal] [--to en,es] [--review] <brief>",
}

DESCRIPTIONS: dict[str, dict[str, str]] = {
    "en": {
        "start": "Start talking to the support bot",
        "help": "How to use this bot",
        "ask": "Ask a question: /ask <question>",
        "translate": "Translate: /translate <lang> <text>, or reply to a message",
        "fix": "Fix a translation: reply to it with /fix <corrected text>",
        "lang": "Set your language: /lang <code>",
        "settings": "Group settings (admins): languages and mode",
    },
    "de": {
        "start": "Mit dem Support-Bot sprechen",
        "help": "So benutzt du diesen Bot",
        "ask": "Eine Frage stellen: /ask <Frage>",
        "translate": "Übersetzen: /translate <Sprache> <Text> oder als Antwort",
        "fix": "Übersetzung korrigieren: darauf antworten mit /fix <Text>",
        "lang": "Deine Sprache festlegen: /lang <Code>",
        "settings": "Gruppeneinstellungen (Admins): Sprachen und Modus",
    },
    "es": {
        "start": "Empezar a hablar con el bot de soporte",
        "help": "Cómo usar este bot",
        "ask": "Hacer una pregunta: /ask <pregunta>",
        "translate": "Traducir: /translate <idioma> <texto> o respondiendo",
        "fix": "Corregir una traducción: respóndela con /fix <texto>",
        "lang": "Elegir tu idioma: /lang <código>",
        "settings": "Ajustes del grupo (admins): idiomas y modo",
    },
    "fr": {
        "start": "Commencer avec le bot d'assistance",
        "help": "Comment utiliser ce bot",
        "ask": "Poser une question : /ask <question>",
        "translate": "Traduire : /translate <langue> <texte> ou en réponse",
        "fix": "Corriger une traduction : répondez-y avec /fix <texte>",
        "lang": "Choisir votre langue : /lang <code>",
        "settings": "Réglages du groupe (admins) : langues et mode",
    },
    "it": {
        "start": "Inizia a parlare con il bot di assistenza",
        "help": "Come usare questo bot",
        "ask": "Fai una domanda: /ask <domanda>",
        "translate": "Traduci: /translate <lingua> <testo> o in risposta",
        "fix": "Correggi una traduzione: rispondi con /fix <testo>",
        "lang": "Imposta la tua lingua: /lang <codice>",
        "settings": "Impostazioni del gruppo (admin): lingue e modalità",
    },
    "pt": {
        "start": "Começar a falar com o bot de suporte",
        "help": "Como usar este bot",
        "ask": "Fazer uma pergunta: /ask <pergunta>",
        "translate": "Traduzir: /translate <idioma> <texto> ou em resposta",
        "fix": "Corrigir uma tradução: responda a ela com /fix <texto>",
        "lang": "Definir o seu idioma: /lang <código>",
        "settings": "Configurações do grupo (admins): idiomas e modo",
    },
    "ru": {
        "start": "Начать разговор с ботом поддержки",
        "help": "Как пользоваться ботом",
        "ask": "Задать вопрос: /ask <вопрос>",
        "translate": "Перевести: /translate <язык> <текст> или ответом",
        "fix": "Исправить перевод: ответьте на него /fix <текст>",
        "lang": "Выбрать язык: /lang <код>",
        "settings": "Настройки группы (админы): языки и режим",
    },
    "uk": {
        "start": "Почати розмову з ботом підтримки",
        "help": "Як користуватися ботом",
        "ask": "Поставити питання: /ask <питання>",
        "translate": "Перекласти: /translate <мова> <текст> або відповіддю",
        "fix": "Виправити переклад: дайте на нього відповідь /fix <текст>",
        "lang": "Обрати мову: /lang <код>",
        "settings": "Налаштування групи (адміни): мови та режим",
    },
}

LANGUAGE_CODE = re.compile(r"^[a-z]{2,3}(-[a-z0-9]{2,8})?$")
REVIEW_DESTINATION = re.compile(r"^(telegram:-?[0-9]{1,20}|slack:[A-Z0-9]{2,30})$")
MODES = ("answer", "review", "translate", "off")

HELP_TEXT = (
    "I answer support questions from our knowledge base, in your language.\n\n"
    "In a private chat, just write your question. In a group, mention me, reply to one of my "
    "messages, or use /ask.\n\n"
    "/ask <question>: ask a question\n"
    "/translate <lang> <text>: translate a text (or reply to a message with /translate <lang>)\n"
    "/fix <corrected text>: reply to one of my translations with it to correct that translation "
    "(I learn from corrections)\n"
    "/lang <code>: the language I answer you in (e.g. /lang de; /lang auto to detect it)\n"
    "/summarize [N|2h]: summarise the last N messages or hours of this group (or reply to a "
    "message: from there on)\n"
    "/write [--tone formal|friendly|concise] [--to en,es] [--review] <brief>: draft content in "
    "several languages (--review: agents approve it before it is posted)\n"
    "/settings: group settings, for group admins:\n"
    "  /settings mode answer|review|translate|off\n"
    "  /settings languages de,fr (auto-translate the group into them; 'none' to stop)\n"
    "  /settings translate on|off\n"
    "  /settings review telegram:<group id>|slack:<channel id> (where drafts are reviewed)\n"
    "  /settings threshold 0.6 (answer mode: below it, drafts go to review)\n\n"
    "Support agents: /pending, /take <id>, /history <id>, and the buttons on review cards."
)
SETTINGS_USAGE = (
    "Usage: /settings mode answer|review|translate|off, /settings languages de,fr (or none), "
    "/settings translate on|off, /settings review telegram:-100123|slack:C0123 (or none), "
    "/settings threshold 0.6 (or default)"
)
START_TEXT = "Hello! Ask me anything about our product and I will look it up.\n\n" + HELP_TEXT


def menu(language: str) -> list[BotCommand]:
    """The command menu in one language (English where no translation exists)."""
    texts = {**CONTENT_DESCRIPTIONS, **DESCRIPTIONS.get(language, DESCRIPTIONS["en"])}
    return [BotCommand(name, texts[name]) for name in COMMANDS]


def menu_languages(configured: tuple[str, ...]) -> list[str]:
    """The configured languages the menu has translations for."""
    return [code for code in configured if code in DESCRIPTIONS]


def parse_languages(text: str) -> tuple[str, ...] | None:
    """`de,fr` or `de fr` -> ('de', 'fr'); `none` -> (); None when a code is invalid."""
    words = [w for w in re.split(r"[\s,]+", text.strip().lower()) if w]
    if words in (["none"], ["off"], ["-"]):
        return ()
    if not words or not all(LANGUAGE_CODE.match(w) for w in words):
        return None
    return tuple(dict.fromkeys(words))


def parse_review_destination(text: str) -> str | None:
    """`telegram:-100123` or `slack:C0123` as given; `none` -> '' (the default); None if bad."""
    value = text.strip()
    if value.lower() in ("none", "off", "default", "-"):
        return ""
    platform, _, channel = value.partition(":")
    value = f"{platform.lower()}:{channel.upper() if platform.lower() == 'slack' else channel}"
    return value if REVIEW_DESTINATION.match(value) else None


def parse_threshold(text: str) -> float | Literal[False] | None:
    """A confidence threshold in [0, 1]; `default` -> None; False when it is not one."""
    value = text.strip().lower()
    if value in ("default", "none"):
        return None
    try:
        number = float(value)
    except ValueError:
        return False
    return number if 0.0 <= number <= 1.0 else False


def settings_change(name: str, value: str) -> dict[str, Any] | None:
    """The ChannelSettings fields a /settings command changes ({}: show; None: bad usage)."""
    if name == "review":
        destination = parse_review_destination(value)
        return None if destination is None else {"review_destination": destination}
    if name == "threshold":
        threshold = parse_threshold(value)
        return None if threshold is False else {"confidence_threshold": threshold}
    value = value.lower()
    if not name:
        return {}
    if name == "mode" and value in POLICIES:
        return {"policy": value}
    if name in ("translate", "autotranslate") and value in ("on", "off"):
        return {"auto_translate": value == "on"}
    if name in ("languages", "language", "langs"):
        languages = parse_languages(value)
        if languages is None:
            return None
        # Target languages are what a group auto-translates into: setting them turns it on.
        return {"languages": languages, "auto_translate": bool(languages)}
    return None


def describe(channel: ChannelSettings) -> str:
    languages = ", ".join(channel.languages) or "none"
    translating = "on" if channel.translates else "off"
    review = channel.review_destination or "the default"
    threshold = "default" if channel.confidence_threshold is None else channel.confidence_threshold
    return (
        f"Mode: {channel.policy}. Languages: {languages}. Auto-translation: {translating}. "
        f"Drafts reviewed in: {review}. Confidence threshold: {threshold}."
    )
