"""The CLI end to end: `parley ask`, `parley chat`, `parley status`, and start-up errors."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import PARLEY, REPO_ROOT, WorkerProcess, worker_env
from workers.embedded import EmbeddedRedis, free_port

pytestmark = pytest.mark.integration


def _parley(
    *args: str, env: dict[str, str], stdin: str | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PARLEY, *args],
        env=env,
        cwd=REPO_ROOT,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _embedded_env(tmp_path: Path) -> dict[str, str]:
    env = worker_env("unused", tmp_path)
    del env["PARLEY_REDIS_URL"]
    return env


def test_ask_json_through_running_workers(
    tmp_path: Path, redis_server: EmbeddedRedis, start_worker: Callable[..., WorkerProcess]
) -> None:
    start_worker()
    result = _parley(
        "ask",
        "--json",
        "Wie setze ich mein Passwort zurück?",
        env=worker_env(redis_server.url, tmp_path),
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert set(data) == {"answer", "language", "action", "confidence", "citations", "suggestions"}
    assert data["answer"] == "echo: Wie setze ich mein Passwort zurück?"
    assert data["action"] in {"answer", "escalate"}
    assert data["citations"] == [{"doc_id": "faq-1", "source": "faq.md", "title": "FAQ"}]


def test_status_reports_queues_workers_models_and_redis(
    tmp_path: Path, redis_server: EmbeddedRedis, start_worker: Callable[..., WorkerProcess]
) -> None:
    start_worker("statusw")
    result = _parley(
        "status", "--json", "--timeout", "5", env=worker_env(redis_server.url, tmp_path)
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["queues"] == {"models": 0, "io": 0}
    assert "statusw@test" in data["workers"]
    assert data["models"] and data["models"][0]["models"]["loaded"] is True
    assert data["redis"]["ping"] and data["redis"]["maxmemory_policy"] == "noeviction"


def test_embedded_default_ask_and_chat(tmp_path: Path) -> None:
    env = _embedded_env(tmp_path)
    result = _parley("ask", "--json", "hello", env=env)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["answer"] == "echo: hello"
    assert (tmp_path / "data" / "redis" / "appendonly.aof").exists()  # state kept on disk
    chat = _parley("chat", env=env, stdin="first question\nsecond\n/reset\nthird\n/quit\n")
    assert chat.returncode == 0, chat.stderr
    assert "echo: first question" in chat.stdout and "echo: third" in chat.stdout
    assert "Conversation forgotten" in chat.stdout


def test_empty_question_is_refused_clearly(tmp_path: Path) -> None:
    result = _parley("ask", "   ", env=_embedded_env(tmp_path))
    assert result.returncode == 1
    assert "empty" in result.stderr


@pytest.mark.parametrize("command", [["ask", "hi"], ["worker"], ["status"]])
def test_unreachable_redis_is_a_clear_error(tmp_path: Path, command: list[str]) -> None:
    env = worker_env(f"redis://127.0.0.1:{free_port()}/0", tmp_path)
    result = _parley(*command, env=env, timeout=30)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Cannot reach Redis" in result.stderr and "PARLEY_REDIS_URL" in result.stderr


@pytest.mark.parametrize("command", [["config"], ["worker"], ["ask", "hi"]])
def test_invalid_settings_name_the_variable(tmp_path: Path, command: list[str]) -> None:
    env = _embedded_env(tmp_path) | {"PARLEY_TASK_TIME_LIMIT": "abc"}
    result = _parley(*command, env=env, timeout=30)
    assert result.returncode == 2
    assert "PARLEY_TASK_TIME_LIMIT" in result.stderr
