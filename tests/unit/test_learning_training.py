"""The training loop's failure messages (no model download: a stand-in module)."""

from __future__ import annotations

from typing import Any

import pytest

from nlp.learning.errors import TrainingError
from nlp.learning.training import Sample, TrainConfig, Trainer

torch = pytest.importorskip("torch")


class OutOfMemoryModel(torch.nn.Module):  # type: ignore[misc]
    def __init__(self) -> None:
        super().__init__()
        self.weight = torch.nn.Parameter(torch.zeros(1))

    def forward(self, **_: Any) -> Any:
        raise RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB")


class CharTokenizer:
    pad_token_id = 0

    def __call__(self, texts: list[str], text_target: list[str], **_: Any) -> dict[str, Any]:
        width = max(len(t) for t in texts + text_target)
        return {
            "input_ids": torch.ones(len(texts), width, dtype=torch.long),
            "labels": torch.ones(len(texts), width, dtype=torch.long),
        }


def test_out_of_memory_suggests_a_smaller_batch() -> None:
    config = TrainConfig(batch_size=16, progress=False)
    trainer = Trainer(OutOfMemoryModel(), CharTokenizer(), config, "cpu", seq2seq=True)
    with pytest.raises(TrainingError, match=r"batch size 16.*--batch-size 8"):
        trainer.fit([Sample("hej", "hello")] * 4, [])
