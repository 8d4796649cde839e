"""Registry (versions, promote, rollback, killed runs), the gate, and the model watcher."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.settings import Settings
from nlp.learning.errors import RegistryError
from nlp.learning.evaluation import dialogue_scores, gate, rouge_l, save_chart
from nlp.learning.registry import (
    commit_version,
    current_model,
    list_versions,
    promote,
    rollback,
    staging_dir,
)
from nlp.learning.watcher import ModelWatcher
from workers.runtime import configure


def settings(tmp_path: Path, **extra: float) -> Settings:
    return Settings(_env_file=None, data_dir=tmp_path / "data", **extra)  # type: ignore[call-arg]


def make_version(s: Settings, name: str) -> Path:
    staging = staging_dir(s, "translation")
    (staging / "weights.bin").write_text(name)
    return commit_version(s, "translation", staging, {"version": name, "kind": "translation"})


def test_promote_and_rollback_move_the_current_pointer(tmp_path: Path) -> None:
    s = settings(tmp_path)
    assert current_model("translation", s) is None
    first, second = make_version(s, "v1"), make_version(s, "v2")
    promote(s, "translation", "v1")
    assert current_model("translation", s) == first
    promote(s, "translation", "v2")
    assert current_model("translation", s) == second
    assert [v.version for v in list_versions(s, "translation")] == ["v1", "v2"]
    assert rollback(s, "translation") is not None
    assert current_model("translation", s) == first
    assert rollback(s, "translation") is None  # back to the configured base model
    assert current_model("translation", s) is None
    with pytest.raises(RegistryError, match="nothing to roll back"):
        rollback(s, "translation")
    with pytest.raises(RegistryError, match="v1, v2"):
        promote(s, "translation", "v9")


def test_a_killed_run_leaves_nothing_promotable(tmp_path: Path) -> None:
    s = settings(tmp_path)
    staging = staging_dir(s, "translation")  # a run killed before commit_version
    (staging / "model.safetensors").write_text("half written")
    assert list_versions(s, "translation") == []
    with pytest.raises(RegistryError):
        promote(s, "translation", staging.name)
    assert current_model("translation", s) is None


def test_the_gate_needs_the_margin_and_no_more_escalations() -> None:
    assert not gate("translation", {"chrf": 40.0}, {"chrf": 40.3}, 0.5).promote
    assert not gate("translation", {"chrf": 40.0}, {"chrf": 31.0}, 0.5).promote
    assert gate("translation", {"chrf": 40.0}, {"chrf": 41.0}, 0.5).promote
    before = {"chrf": 30.0, "escalation_rate": 0.1}
    assert not gate("dialogue", before, {"chrf": 35.0, "escalation_rate": 0.4}, 0.5).promote
    assert gate("dialogue", before, {"chrf": 35.0, "escalation_rate": 0.1}, 0.5).promote


def test_dialogue_scores_and_rouge_l(tmp_path: Path) -> None:
    assert rouge_l("the cat sat", "the cat sat") == pytest.approx(100.0)
    assert rouge_l("a b c d", "a x c y") == pytest.approx(50.0)
    scores = dialogue_scores(["NO_ANSWER", "Reset it under Settings [1]."],
                             ["Go to Settings.", "Reset it under Settings."])  # fmt: skip
    assert scores["escalation_rate"] == 0.5 and scores["rouge_l"] > 30
    chart = tmp_path / "report.png"
    save_chart(chart, [3.0, 2.0, 1.5], [1.8], {"chrf": 30.0, "bleu": 10.0}, scores)
    assert chart.read_bytes()[:4] == b"\x89PNG"


def test_watcher_keeps_serving_the_old_model_until_the_new_one_loaded(tmp_path: Path) -> None:
    s = settings(tmp_path, learning_poll_seconds=0.01)
    make_version(s, "v1")
    release = threading.Event()

    def load(path: Path | None) -> str:
        if path is not None:
            release.wait(10)  # a slow load
        return "base" if path is None else path.name

    watcher = ModelWatcher("translation", s, load)
    assert watcher.value == "base"
    promote(s, "translation", "v1")
    assert watcher.poll(force=True)
    assert watcher.value == "base"  # still loading: the old model serves
    release.set()
    watcher.wait(10)
    assert watcher.value == "v1"
    rollback(s, "translation")
    watcher.poll(force=True)
    watcher.wait(10)
    assert watcher.value == "base"


def test_a_model_that_fails_to_load_is_not_swapped_in(tmp_path: Path) -> None:
    s = settings(tmp_path)
    make_version(s, "v1")

    def load(path: Path | None) -> str:
        if path is not None:
            raise OSError("broken weights")
        return "base"

    watcher = ModelWatcher("translation", s, load, background=False)
    promote(s, "translation", "v1")
    watcher.poll(force=True)
    assert watcher.value == "base"


def test_with_promoted_points_the_factory_settings_at_the_promoted_folder(tmp_path: Path) -> None:
    from nlp.learning.watcher import with_promoted

    s = settings(tmp_path)
    assert with_promoted("translation", s, None) is s
    moved = with_promoted("translation", s, tmp_path / "v1")
    assert moved.translation_models["*"] == str(tmp_path / "v1")
    assert with_promoted("dialogue", s, tmp_path / "v2").dialogue_model == str(tmp_path / "v2")


class NamedTranslator:
    """Stands in for a translator: remembers which model it was built with."""

    def __init__(self, settings: Settings) -> None:
        self.model = settings.translation_models["*"]


def test_the_runtime_serves_a_promoted_translator_without_restart(
    make_settings: Callable[..., Settings],
) -> None:
    s = make_settings(
        learning_poll_seconds=0.01,
        translator_factory="tests.unit.test_learning_registry:NamedTranslator",
    )
    runtime = configure(s)
    base = runtime.translator()
    assert isinstance(base, NamedTranslator) and base.model.startswith("builtin:")
    folder = make_version(s, "v1")
    promote(s, "translation", "v1")
    deadline = time.monotonic() + 10
    while runtime.translator().model != str(folder) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert runtime.translator().model == str(folder)
