"""Telegram adapter (python-telegram-bot): long polling or webhook in, delivery out.

Telegram SDK imports live only in this package. `bot.telegram.delivery` registers the `telegram`
deliverer when imported (the workers import it by path); `bot.telegram.run.run_adapter` runs the
adapter process (`parley telegram`).
"""
