"""Intake: what every adapter does with a normalised message (dedupe, route, enqueue).

Routing (`workers.translation_policy.route_message`): intent `answer` and, with intent `auto`,
DMs, mentions and commands go to `parley.answer_message`; intent `translate` and, with intent
`auto`, channel messages, edits and deletes in auto-translating channels go to
`parley.translate_message`; everything else is ignored (logged).
"""

from __future__ import annotations

import logging

from bot.types import IncomingMessage, MessageKind
from workers.app import ANSWER_MESSAGE, SUMMARIZE_THREAD, TRANSLATE_MESSAGE, WRITE_CONTENT, send
from workers.keys import event_key
from workers.preferences import ChannelSettings
from workers.runtime import Runtime
from workers.translation_policy import route_message

log = logging.getLogger(__name__)

_TRANSLATION_KINDS = {MessageKind.CHANNEL, MessageKind.EDIT, MessageKind.DELETE}
_TASKS = {
    "answer": ANSWER_MESSAGE,
    "translate": TRANSLATE_MESSAGE,
    "summarize": SUMMARIZE_THREAD,
    "write": WRITE_CONTENT,
}


def _channel_settings(message: IncomingMessage, runtime: Runtime) -> ChannelSettings:
    # Only auto-routed channel traffic needs the channel's settings (one HGETALL).
    if message.intent == "auto" and message.kind in _TRANSLATION_KINDS:
        return runtime.preferences.channel(message.platform, message.channel)
    return ChannelSettings()


def accept_message(message: IncomingMessage, runtime: Runtime) -> bool:
    """Deduplicate by platform event id and enqueue the task the message is routed to.

    Returns False for a repeat or an ignored message. Platforms retry deliveries (Slack up to
    three times, Telegram until confirmed), so the same event may arrive again: only the first
    is enqueued.
    """
    ids = (message.platform, message.channel, message.event_id)
    key = event_key(message.platform, message.event_id)
    if message.intent == "auto":  # what was said, for summaries (idempotent per message id)
        runtime.thread_log.record(message)
    route, reason = route_message(message, _channel_settings(message, runtime))
    if route == "ignore":
        log.info("event ignored platform=%s channel=%s event=%s: %s", *ids, reason)
        return False
    if not runtime.conversations.accept_event(key):
        log.info("duplicate event skipped platform=%s channel=%s event=%s", *ids)
        return False
    task = _TASKS[route]
    try:
        send(runtime.app, task, {"message": message.to_dict()}, runtime.settings)
    except BaseException:
        # Not enqueued: drop the mark so the platform's redelivery is not taken for a repeat.
        runtime.conversations.release_event(key)
        raise
    log.info("event accepted platform=%s channel=%s event=%s task=%s", *ids, task)
    return True
