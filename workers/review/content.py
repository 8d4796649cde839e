"""Content drafts (`write`) through the agents' review before they are posted.

A drafted announcement or reply becomes a review of kind `content`: the card shows the brief and
the drafts in every language; on approval (or an agent's edit) the text is posted in the channel
where it was asked for, publicly and once, under the same `review:<id>:answer` key as answers.
"""

from __future__ import annotations

import logging

from bot.types import IncomingMessage, OutgoingMessage
from workers.app import REVIEW_OPEN, send
from workers.keys import event_key
from workers.preferences import ChannelSettings
from workers.review.card import parse_destination
from workers.review.opening import review_data
from workers.review.store import ReviewStore, review_id_for
from workers.runtime import Runtime

log = logging.getLogger(__name__)

CONTENT_REASON = "content draft: posted in the channel once approved"
SENT_FOR_REVIEW = (
    "Sent to review ({review_id}) in {destination}: it is posted here once an agent approves it."
)
NO_DESTINATION = (
    "Not sent to review: this channel has no review destination. An admin can set one with "
    "`/parley channel review slack:C…` (Slack) or `/settings review …` (Telegram), or "
    "`PARLEY_REVIEW_DESTINATION` for all chats."
)


def review_destination(runtime: Runtime, channel: ChannelSettings) -> str:
    """Where content from this channel is reviewed; "" when nowhere (or malformed)."""
    destination = channel.review_destination or runtime.settings.review_destination
    return destination if parse_destination(destination or "") else ""


def wants_review(requested: bool, channel: ChannelSettings) -> bool:
    """Asked for with `--review`, or the channel reviews everything it sends."""
    return requested or channel.policy == "review"


def open_content_review(
    runtime: Runtime, message: IncomingMessage, text: str, destination: str
) -> str:
    """Store the drafts as a pending review and queue its card; returns the review id (the same
    on a re-run of the same request)."""
    settings = runtime.settings
    review_id = review_id_for(settings.namespace, event_key(message.platform, message.event_id))
    draft = {"draft_text": text, "language": "", "confidence": 1.0, "reason": CONTENT_REASON}
    carrier = OutgoingMessage(
        platform=message.platform,
        channel=message.channel,
        text=text,
        idempotency_key=f"review:{review_id}:carrier",
        metadata={"draft": draft},
    )
    data = review_data(runtime, message, carrier, destination)
    data.update(
        kind="content",
        # posted publicly in the channel (not in a slash command's private reply), not in a thread
        # that only exists for commands; the drafts are already in the channel's languages
        private=False,
        thread="" if message.thread.startswith("command:") else message.thread,
        message_id="",
        event_id=f"review:{review_id}",
        customer_language="",
        translated=True,
    )
    store = ReviewStore(runtime.redis, settings.namespace, decided_ttl=settings.dedupe_ttl)
    created = store.create(review_id, data)
    send(runtime.app, REVIEW_OPEN, {"review_id": review_id}, settings)
    state = "opened" if created else "exists"
    log.info("content review %s %s -> %s", review_id, state, destination)
    return review_id
