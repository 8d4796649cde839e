"""Intake: what every adapter does with a normalised message (dedupe, then enqueue)."""

from __future__ import annotations

import logging

from bot.types import IncomingMessage
from workers.app import ANSWER_MESSAGE, send
from workers.keys import event_key
from workers.runtime import Runtime

log = logging.getLogger(__name__)


def accept_message(message: IncomingMessage, runtime: Runtime) -> bool:
    """Deduplicate by platform event id and enqueue `answer_message`; False for a repeat.

    Platforms retry deliveries (Slack up to three times, Telegram until confirmed), so the same
    event may arrive again: only the first is enqueued.
    """
    ids = (message.platform, message.channel, message.event_id)
    key = event_key(message.platform, message.event_id)
    if not runtime.conversations.accept_event(key):
        log.info("duplicate event skipped platform=%s channel=%s event=%s", *ids)
        return False
    send(runtime.app, ANSWER_MESSAGE, {"message": message.to_dict()}, runtime.settings)
    log.info("event accepted platform=%s channel=%s event=%s", *ids)
    return True
