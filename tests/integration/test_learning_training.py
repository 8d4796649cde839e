"""Fine-tuning end to end on tiny real models: a randomly initialised Llama with SmolLM2's
tokenizer (causal, LoRA) and a tiny Marian built from a config (seq2seq, full)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import platformdirs
import pytest

from bot.settings import Settings
from nlp.learning.datasets import add_examples
from nlp.learning.errors import NotEnoughDataError
from nlp.learning.examples import Example
from nlp.learning.pipeline import RunOptions, run_training
from nlp.learning.registry import current_model, list_versions, read_json, registry_dir

pytestmark = [pytest.mark.slow, pytest.mark.integration]
torch = pytest.importorskip("torch")
REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def tiny_causal(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2-layer Llama with SmolLM2's tokenizer and chat template, saved as a model folder."""
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    from nlp.builtin_models import prepare_builtin

    source = prepare_builtin("smollm2-135m-instruct", platformdirs.user_cache_path("parley"))
    tokenizer = AutoTokenizer.from_pretrained(str(source))
    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64,
                         num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                         max_position_embeddings=512, eos_token_id=tokenizer.eos_token_id,
                         bos_token_id=tokenizer.bos_token_id)  # fmt: skip
    folder = tmp_path_factory.mktemp("tiny-llama")
    LlamaForCausalLM(config).save_pretrained(str(folder))
    tokenizer.save_pretrained(str(folder))
    return folder


def settings(tmp_path: Path, base: Path | str, **extra: Any) -> Settings:
    values: dict[str, Any] = {
        "data_dir": tmp_path / "data", "device": "cpu", "learning_min_examples": 8,
        "learning_epochs": 4, "learning_rate": 1e-2, "learning_batch_size": 8,
        "learning_max_length": 128, "translation_models": {"*": str(base)},
    }  # fmt: skip
    values.update(extra)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def pairs(n: int) -> list[Example]:
    """Pairs with a learnable pattern: every answer starts with the same words."""
    return [Example(kind="translation", input=f"Fråga nummer {i} om bygglov",
                    output=f"Thank you for your question {i}", source_language="sv",
                    target_language="en", user=f"telegram:{i % 3}") for i in range(n)]  # fmt: skip


def test_too_little_data_names_the_minimum(tmp_path: Path, tiny_causal: Path) -> None:
    s = settings(tmp_path, tiny_causal)
    add_examples(s, "translation", pairs(4))
    with pytest.raises(NotEnoughDataError, match="at least 8 training examples"):
        run_training(s, RunOptions(kind="translation", progress=False))
    assert list_versions(s, "translation") == []


def test_lora_run_is_evaluated_saved_and_promoted_only_when_better(
    tmp_path: Path, tiny_causal: Path
) -> None:
    s = settings(tmp_path, tiny_causal)
    add_examples(s, "translation", pairs(60))
    report = run_training(s, RunOptions(kind="translation", progress=False))
    assert report.after["chrf"] > report.before["chrf"] + s.learning_margin, report.reason
    assert report.promoted and current_model("translation", s) == report.path
    info = read_json(report.path / "report.json")
    assert (
        info is not None and info["data"]["train"] > 30 and info["base_model"] == str(tiny_causal)
    )
    assert (report.path / "report.png").stat().st_size > 1000
    assert (report.path / "config.json").is_file()
    # The same data again cannot beat the promoted model by the margin: kept, not promoted.
    strict = s.model_copy(update={"learning_margin": 1000.0})
    second = run_training(strict, RunOptions(kind="translation", epochs=1, progress=False))
    assert not second.promoted and "below the required margin" in second.reason
    assert current_model("translation", s) == report.path
    assert len(list_versions(s, "translation")) == 2
    assert second.path.is_dir()  # kept for inspection or a manual `parley models promote`


def test_a_killed_training_run_leaves_no_version(tmp_path: Path, tiny_causal: Path) -> None:
    s = settings(tmp_path, tiny_causal)
    add_examples(s, "translation", pairs(40))
    script = (
        "from bot.settings import Settings\n"
        "from nlp.learning.pipeline import RunOptions, run_training\n"
        f"s = Settings(_env_file=None, data_dir={str(tmp_path / 'data')!r}, device='cpu',"
        f" learning_min_examples=8, learning_epochs=100, learning_batch_size=1,"
        f" translation_models={{'*': {str(tiny_causal)!r}}})\n"
        "run_training(s, RunOptions(kind='translation', progress=False))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "HF_HUB_OFFLINE": "1"}
    proc = subprocess.Popen([sys.executable, "-c", script], env=env, cwd=REPO_ROOT)
    root = registry_dir(s, "translation")
    deadline = time.monotonic() + 400  # loading and scoring the current model come first
    while not list(root.glob(".tmp-*")) and time.monotonic() < deadline:
        assert proc.poll() is None, "the training run ended before it could be killed"
        time.sleep(0.2)
    assert list(root.glob(".tmp-*")), "training never started"
    time.sleep(1.0)  # mid-training
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    assert list(root.glob(".tmp-*")), "the killed run's staging folder should remain"
    assert list_versions(s, "translation") == []
    assert current_model("translation", s) is None


def test_seq2seq_full_fine_tuning_runs_and_registers(tmp_path: Path) -> None:
    from tests.unit.test_translation_seq2seq import marian

    translator = marian(tmp_path, ("en",))
    folder = tmp_path / "tiny-marian"
    translator.loaded.model.save_pretrained(str(folder))
    translator.loaded.tokenizer.save_pretrained(str(folder))
    s = settings(tmp_path, folder, learning_epochs=1, learning_rate=1e-3)
    add_examples(s, "translation", pairs(40))
    report = run_training(s, RunOptions(kind="translation", progress=False, promote=False))
    info = read_json(report.path / "report.json")
    assert info is not None and info["config"]["method"] == "full"
    assert not report.promoted and (report.path / "config.json").is_file()


def test_the_celery_task_collects_trains_and_promotes(
    tmp_path: Path, tiny_causal: Path, redis_client: Any, make_settings: Any, start_worker: Any
) -> None:
    from nlp.learning.streams import record_translation_correction
    from workers.app import create_celery_app
    from workers.tasks.training import enqueue_training

    base = settings(tmp_path, tiny_causal)
    s = make_settings(**{k: getattr(base, k) for k in (
        "device", "learning_min_examples", "learning_epochs", "learning_rate",
        "learning_batch_size", "learning_max_length", "translation_models")})  # fmt: skip
    for e in pairs(60):
        record_translation_correction(
            redis_client, s, source_text=e.input, source_language="sv", target_language="en",
            machine_translation="?", corrected_translation=e.output, user=e.user,
            platform="telegram", channel="1",
        )  # fmt: skip
    start_worker(
        PARLEY_DEVICE="cpu", PARLEY_LEARNING_MIN_EXAMPLES="8", PARLEY_LEARNING_EPOCHS="4",
        PARLEY_LEARNING_RATE="0.01", PARLEY_LEARNING_MAX_LENGTH="128", HF_HUB_OFFLINE="1",
        PARLEY_TRANSLATION_MODELS=json.dumps({"*": str(tiny_causal)}),
    )  # fmt: skip
    enqueue_training(create_celery_app(s), s, kind="translation")
    deadline = time.monotonic() + 400
    while not list_versions(s, "translation") and time.monotonic() < deadline:
        time.sleep(1.0)
    [version] = list_versions(s, "translation")
    assert version.info["data"]["train"] > 30
    assert current_model("translation", s) == version.path
    lock = f"{s.namespace}:learning:lock:translation"
    while redis_client.exists(lock) and time.monotonic() < deadline:
        time.sleep(0.2)  # the version appears just before the task releases its lock
    assert not redis_client.exists(lock)
    time.sleep(2.0)  # a redelivered copy of the task (visibility timeout) finds nothing new
    assert len(list_versions(s, "translation")) == 1


def test_dialogue_run_reports_rouge_and_escalations(tmp_path: Path, tiny_causal: Path) -> None:
    s = settings(tmp_path, tiny_causal, dialogue_model=str(tiny_causal), learning_epochs=1)
    examples = [
        Example(kind="dialogue", input=f"Where is my order {i}?", output=f"Order {i} ships today.",
                source_language="en", target_language="en", user="slack:U1", decision="edit",
                passages=({"title": "Orders", "text": "Orders ship within a day."},))
        for i in range(40)
    ]  # fmt: skip
    add_examples(s, "dialogue", examples)
    report = run_training(s, RunOptions(kind="dialogue", progress=False, promote=False))
    assert {"chrf", "rouge_l", "escalation_rate"} <= set(report.after)
    assert not report.promoted and current_model("dialogue", s) is None
