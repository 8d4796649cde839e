"""RabbitMQ as the Celery broker, chosen by PARLEY_BROKER_URL alone (Redis keeps the state)."""

from __future__ import annotations

import contextlib
import socket
import uuid
from collections.abc import Callable

import pytest
from kombu import Connection
from kombu.exceptions import ChannelError

from bot.local import LocalChannel
from bot.settings import Settings
from tests.conftest import WorkerProcess
from workers.app import QUEUES
from workers.runtime import configure

pytestmark = pytest.mark.integration

BROKER = "amqp://guest:guest@127.0.0.1:5672//"


def _rabbitmq_reachable() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 5672), timeout=1):
            return True
    except OSError:
        return False


@pytest.mark.skipif(not _rabbitmq_reachable(), reason="no RabbitMQ on 127.0.0.1:5672")
def test_answers_flow_through_a_rabbitmq_broker(
    make_settings: Callable[..., Settings], start_worker: Callable[..., WorkerProcess]
) -> None:
    with Connection(BROKER) as conn:  # leftovers of an earlier run must not be answered here
        for name in QUEUES:
            with contextlib.suppress(ChannelError):  # the queue does not exist yet
                conn.channel().queue_purge(name)
    start_worker(PARLEY_BROKER_URL=BROKER)
    channel = LocalChannel(configure(make_settings(broker_url=BROKER)))
    question = f"rabbit {uuid.uuid4().hex[:8]}"
    reply = channel.ask(question, timeout=30)
    assert reply.text == f"echo: {question}"
