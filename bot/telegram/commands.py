# ruff: noqa: RUF001  (Cyrillic menu texts)
"""The bot's commands: names, localized menu descriptions (setMyCommands) and their replies."""

from __future__ import annotations

import re

from telegram import BotCommand

# Command names must be lower-case (Telegram refuses upper case).
COMMANDS = ("start", "help", "ask", "translate", "lang", "settings")

DESCRIPTIONS: dict[str, dict[str, str]] = {
    "en": {
        "start": "Start talking to the support bot",
        "help": "How to use this bot",
        "ask": "Ask a question: /ask <question>",
        "translate": "Translate: /translate <lang> <text>, or reply to a message",
        "lang": "Set your language: /lang <code>",
        "settings": "Group settings (admins): languages and mode",
    },
    "de": {
        "start": "Mit dem Support-Bot sprechen",
        "help": "So benutzt du diesen Bot",
        "ask": "Eine Frage stellen: /ask <Frage>",
        "translate": "Übersetzen: /translate <Sprache> <Text> oder als Antwort",
        "lang": "Deine Sprache festlegen: /lang <Code>",
        "settings": "Gruppeneinstellungen (Admins): Sprachen und Modus",
    },
    "es": {
        "start": "Empezar a hablar con el bot de soporte",
        "help": "Cómo usar este bot",
        "ask": "Hacer una pregunta: /ask <pregunta>",
        "translate": "Traducir: /translate <idioma> <texto> o respondiendo",
        "lang": "Elegir tu idioma: /lang <código>",
        "settings": "Ajustes del grupo (admins): idiomas y modo",
    },
    "fr": {
        "start": "Commencer avec le bot d'assistance",
        "help": "Comment utiliser ce bot",
        "ask": "Poser une question : /ask <question>",
        "translate": "Traduire : /translate <langue> <texte> ou en réponse",
        "lang": "Choisir votre langue : /lang <code>",
        "settings": "Réglages du groupe (admins) : langues et mode",
    },
    "it": {
        "start": "Inizia a parlare con il bot di assistenza",
        "help": "Come usare questo bot",
        "ask": "Fai una domanda: /ask <domanda>",
        "translate": "Traduci: /translate <lingua> <testo> o in risposta",
        "lang": "Imposta la tua lingua: /lang <codice>",
        "settings": "Impostazioni del gruppo (admin): lingue e modalità",
    },
    "pt": {
        "start": "Começar a falar com o bot de suporte",
        "help": "Como usar este bot",
        "ask": "Fazer uma pergunta: /ask <pergunta>",
        "translate": "Traduzir: /translate <idioma> <texto> ou em resposta",
        "lang": "Definir o seu idioma: /lang <código>",
        "settings": "Configurações do grupo (admins): idiomas e modo",
    },
    "ru": {
        "start": "Начать разговор с ботом поддержки",
        "help": "Как пользоваться ботом",
        "ask": "Задать вопрос: /ask <вопрос>",
        "translate": "Перевести: /translate <язык> <текст> или ответом",
        "lang": "Выбрать язык: /lang <код>",
        "settings": "Настройки группы (админы): языки и режим",
    },
    "uk": {
        "start": "Почати розмову з ботом підтримки",
        "help": "Як користуватися ботом",
        "ask": "Поставити питання: /ask <питання>",
        "translate": "Перекласти: /translate <мова> <текст> або відповіддю",
        "lang": "Обрати мову: /lang <код>",
        "settings": "Налаштування групи (адміни): мови та режим",
    },
}

LANGUAGE_CODE = re.compile(r"^[a-z]{2,3}(-[a-z0-9]{2,8})?$")
MODES = ("answer", "review", "translate", "off")

HELP_TEXT = (
    "I answer support questions from our knowledge base, in your language.\n\n"
    "In a private chat, just write your question. In a group, mention me, reply to one of my "
    "messages, or use /ask.\n\n"
    "/ask <question>: ask a question\n"
    "/translate <lang> <text>: translate a text (or reply to a message with /translate <lang>)\n"
    "/lang <code>: the language I answer you in (e.g. /lang de; /lang auto to detect it)\n"
    "/settings: group settings, for group admins:\n"
    "  /settings mode answer|review|translate|off\n"
    "  /settings languages de,fr (auto-translate the group into them; 'none' to stop)\n"
    "  /settings translate on|off"
)
SETTINGS_USAGE = (
    "Usage: /settings mode answer|review|translate|off, /settings languages de,fr (or none), "
    "/settings translate on|off"
)
START_TEXT = "Hello! Ask me anything about our product and I will look it up.\n\n" + HELP_TEXT


def menu(language: str) -> list[BotCommand]:
    """The command menu in one language (English where no translation exists)."""
    texts = DESCRIPTIONS.get(language, DESCRIPTIONS["en"])
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
