"""`parley data`, `parley models` and `parley train` through Typer's CliRunner (real Redis)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
import redis
from typer.testing import CliRunner

from bot.cli import app
from bot.settings import Settings
from nlp.learning.registry import commit_version, staging_dir
from workers.keys import Keys

pytestmark = pytest.mark.integration


@pytest.fixture
def env(tmp_path: Path, redis_server: object) -> dict[str, str]:
    return {
        "PARLEY_DATA_DIR": str(tmp_path / "data"),
        "PARLEY_REDIS_URL": redis_server.url,  # type: ignore[attr-defined]
        "PARLEY_LEARNING_MIN_EXAMPLES": "50",
    }


def run(env: dict[str, str], *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args), env=env)
    return result.exit_code, result.output


def test_import_stats_export_and_forget(
    tmp_path: Path,
    env: dict[str, str],
    redis_client: redis.Redis,
    make_settings: Callable[..., Settings],
) -> None:
    pairs = tmp_path / "pairs.tsv"
    pairs.write_text("Hej\tHello\nTack\tThanks\nno tab here\n")
    code, out = run(env, "data", "import", str(pairs), "--from", "sv", "--to", "en")
    assert code == 0 and "2 pairs read, 2 new, 1 bad lines" in out
    entry = {"customer": "telegram:5", "customer_text": "Hi?", "final_text": "Hello!",
             "decision": "approve", "customer_language": "en", "passages": []}  # fmt: skip
    stream = Keys("parley").review_stream()
    redis_client.xadd(stream, {"data": json.dumps(entry)})
    code, out = run(env, "data", "stats", "--json")
    stats = json.loads(out[out.index("{") :])
    assert code == 0
    assert sum(stats["translation"][s] for s in ("train", "validation", "test")) == 2
    assert sum(stats["dialogue"][s] for s in ("train", "validation", "test")) == 1
    code, out = run(env, "data", "export", "--out", str(tmp_path / "export"), "--no-collect")
    assert code == 0 and list((tmp_path / "export" / "translation").glob("*.jsonl"))
    code, out = run(env, "data", "forget", "telegram:5", "--yes")
    assert code == 0 and "1 examples removed" in out
    code, out = run(env, "data", "forget", "nobody")
    assert code == 1 and "platform:user_id" in out


def test_train_refuses_too_little_data_with_the_minimum(env: dict[str, str]) -> None:
    code, out = run(env, "train", "translation")
    assert code == 1 and "at least 50 training examples" in out


def test_models_list_promote_rollback(env: dict[str, str], tmp_path: Path) -> None:
    settings = Settings(_env_file=None, data_dir=tmp_path / "data")  # type: ignore[call-arg]
    for name in ("v1", "v2"):
        staging = staging_dir(settings, "translation")
        info = {"version": name, "metrics": {"before": {"chrf": 30}, "after": {"chrf": 35}},
                "passed": True, "base_model": "builtin:x", "data": {"version": "abc"}}  # fmt: skip
        commit_version(settings, "translation", staging, info)
    assert run(env, "models", "promote", "v1")[0] == 0
    assert run(env, "models", "promote", "v2")[0] == 0
    code, out = run(env, "models", "list", "--json")
    rows = json.loads(out)
    assert [r["version"] for r in rows if r["current"]] == ["v2"]
    code, out = run(env, "models", "rollback")
    assert code == 0 and "now v1" in out
    code, out = run(env, "models", "promote", "v7")
    assert code == 1 and "No translation model version 'v7'" in out
