"""Celery configuration and retry policy (no broker needed)."""

from __future__ import annotations

import pytest

from bot.errors import ConfigurationError, TransientError
from bot.settings import Settings
from workers.app import ANSWER_MESSAGE, DELIVER_REPLY, create_celery_app
from workers.retry import MAX_BACKOFF_SECONDS, backoff_seconds


def _settings(**values: object) -> Settings:
    base: dict[str, object] = {"redis_url": "redis://127.0.0.1:1/0"}
    base.update(values)
    return Settings(_env_file=None, **base)  # type: ignore[arg-type,call-arg]


def test_reliability_settings() -> None:
    app = create_celery_app(_settings())
    conf = app.conf
    assert conf.task_acks_late and conf.task_reject_on_worker_lost
    assert conf.worker_prefetch_multiplier == 1
    assert conf.task_serializer == "json" and conf.accept_content == ["json"]
    assert conf.broker_transport_options["visibility_timeout"] > conf.task_time_limit
    assert conf.result_backend_transport_options["visibility_timeout"] > conf.task_time_limit
    assert conf.task_soft_time_limit < conf.task_time_limit
    assert conf.task_routes[ANSWER_MESSAGE] == {"queue": "models"}
    assert conf.task_routes[DELIVER_REPLY] == {"queue": "io"}
    assert {q.name for q in conf.task_queues} == {"models", "io"}


def test_rabbitmq_broker_by_url_alone() -> None:
    app = create_celery_app(_settings(broker_url="amqp://guest:guest@127.0.0.1:5672//"))
    assert app.conf.broker_url.startswith("amqp://")
    assert app.conf.result_backend.startswith("redis://")


def test_no_redis_url_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="PARLEY_REDIS_URL"):
        create_celery_app(Settings(_env_file=None))  # type: ignore[call-arg]


def test_backoff_doubles_and_honours_retry_after() -> None:
    assert backoff_seconds(0, ConnectionError()) <= 1.0
    assert 4.0 <= backoff_seconds(3, ConnectionError()) <= 8.0
    assert backoff_seconds(30, ConnectionError()) <= MAX_BACKOFF_SECONDS
    assert backoff_seconds(0, TransientError("429", retry_after=7.5)) == 7.5
