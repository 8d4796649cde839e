"""docker-compose.yml is valid against the Compose specification and wires Parley as designed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import yaml

ROOT = Path(__file__).resolve().parents[2]


def _compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return data


def test_compose_file_matches_the_compose_specification() -> None:
    # Schema vendored from docker-compose 1.29.2 (compose/config/compose_spec.json, Apache-2.0):
    # no Docker engine runs here, so the file is validated against the spec instead.
    schema = json.loads((ROOT / "tests/data/compose-spec.json").read_text())
    jsonschema.validate(_compose(), schema)


def test_compose_has_the_services_a_deployment_needs() -> None:
    services = _compose()["services"]
    assert {"redis", "worker-models", "worker-io", "slack", "telegram", "flower"} <= set(services)
    redis_cmd = services["redis"]["command"]
    assert "--appendonly yes" in redis_cmd
    assert "noeviction" in redis_cmd
    gpu = services["worker-models"]["deploy"]["resources"]["reservations"]["devices"][0]
    assert gpu["capabilities"] == ["gpu"]
    assert services["worker-models"]["command"][:3] == ["worker", "--queues", "models"]
    assert services["worker-io"]["command"][:3] == ["worker", "--queues", "io"]


def test_the_gpu_worker_batches_with_threads_and_keeps_the_redis_urls() -> None:
    worker = _compose()["services"]["worker-models"]
    command = worker["command"]
    assert command[command.index("--pool") + 1] == "threads"
    concurrency = command[command.index("--concurrency") + 1]
    assert worker["environment"]["PARLEY_INFERENCE_MAX_BATCH"] == concurrency
    assert worker["environment"]["PARLEY_REDIS_URL"] == "redis://redis:6379/0"


def test_dockerfile_pins_torch_like_pyproject() -> None:
    assert "torch==2.13.0" in (ROOT / "Dockerfile").read_text()
    assert '"torch==2.13.0"' in (ROOT / "pyproject.toml").read_text()
