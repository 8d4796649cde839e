"""Fine-tuning: LoRA (peft) on causal instruct models, full or LoRA on seq2seq models.

A plain PyTorch loop (AdamW, linear warm-up and decay, gradient clipping), validation loss after
every epoch with early stopping, the best weights kept. Runs on CUDA when present, else CPU.
The caller saves the result into a temporary folder and renames it on success (see
`nlp.learning.pipeline`), so a killed run never leaves a promotable model.
"""

from __future__ import annotations

import copy
import logging
import math
import random
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from nlp.learning.errors import TrainingError

log = logging.getLogger(__name__)

Method = Literal["lora", "full"]
# One training sample: the chat messages that ask (causal) or the source text (seq2seq), and
# the answer the model should give.
Prompt = list[dict[str, str]] | str


@dataclass(frozen=True, slots=True)
class Sample:
    prompt: Prompt
    target: str


@dataclass(frozen=True, slots=True)
class TrainConfig:
    """Defaults that worked for a 0.5B instruct model on a few hundred pairs (docs/learning.md)."""

    method: Method = "lora"
    learning_rate: float = 2e-4
    epochs: int = 2
    batch_size: int = 8
    max_length: int = 256
    lora_r: int = 16
    lora_alpha: int = 32
    lora_dropout: float = 0.05
    lora_layers: int | None = None  # adapt only the top N layers (cheaper backward pass)
    warmup_ratio: float = 0.1
    weight_decay: float = 0.0
    patience: int = 1  # epochs without a better validation loss before stopping
    seed: int = 13
    progress: bool = True


@dataclass(slots=True)
class TrainResult:
    model: Any
    tokenizer: Any
    train_loss: list[float] = field(default_factory=list)  # one value per logged step
    val_loss: list[float] = field(default_factory=list)  # one value per epoch
    best_epoch: int = 0
    steps: int = 0
    seconds: float = 0.0
    stopped_early: bool = False


def seed_everything(seed: int) -> None:
    import torch

    random.seed(seed)
    torch.manual_seed(seed)


def encode_causal(tokenizer: Any, sample: Sample, max_length: int) -> tuple[list[int], list[int]]:
    """Token ids and labels for one chat sample; only the answer (and its end token) is learnt."""
    assert not isinstance(sample.prompt, str)
    prompt = tokenizer.apply_chat_template(
        sample.prompt, add_generation_prompt=True, tokenize=False
    )
    full = tokenizer.apply_chat_template(
        [*sample.prompt, {"role": "assistant", "content": sample.target}], tokenize=False
    )
    prompt_ids = tokenizer(str(prompt), add_special_tokens=False)["input_ids"]
    full_ids = tokenizer(str(full).rstrip("\n"), add_special_tokens=False)["input_ids"]
    if full_ids[: len(prompt_ids)] != prompt_ids:  # template re-tokenised differently: fall back
        answer = tokenizer(sample.target, add_special_tokens=False)["input_ids"]
        full_ids = prompt_ids + answer + [tokenizer.eos_token_id]
    labels = [-100] * len(prompt_ids) + full_ids[len(prompt_ids) :]
    return full_ids[:max_length], labels[:max_length]


def _collate_causal(rows: list[tuple[list[int], list[int]]], pad_id: int) -> dict[str, Any]:
    import torch

    width = max(len(ids) for ids, _ in rows)
    ids = [r[0] + [pad_id] * (width - len(r[0])) for r in rows]
    labels = [r[1] + [-100] * (width - len(r[1])) for r in rows]
    mask = [[1] * len(r[0]) + [0] * (width - len(r[0])) for r in rows]
    return {
        "input_ids": torch.tensor(ids),
        "attention_mask": torch.tensor(mask),
        "labels": torch.tensor(labels),
    }


def _collate_seq2seq(tokenizer: Any, batch: Sequence[Sample], max_length: int) -> dict[str, Any]:
    enc = tokenizer(
        [str(s.prompt) for s in batch],
        text_target=[s.target for s in batch],
        max_length=max_length,
        truncation=True,
        padding=True,
        return_tensors="pt",
    )
    enc["labels"][enc["labels"] == tokenizer.pad_token_id] = -100
    return dict(enc)


def _lora_targets(model: Any) -> list[str]:
    names = {n.rsplit(".", 1)[-1] for n, _ in model.named_modules()}
    preferred = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
    found = [n for n in preferred if n in names]
    if found:
        return found
    return [n for n in ("q", "k", "v", "o", "fc1", "fc2", "out_proj") if n in names]


def wrap_lora(model: Any, config: TrainConfig, *, seq2seq: bool) -> Any:
    from peft import LoraConfig, TaskType, get_peft_model

    layers: list[int] | None = None
    n_layers = getattr(model.config, "num_hidden_layers", None)
    if config.lora_layers and n_layers and not seq2seq:
        layers = list(range(max(0, n_layers - config.lora_layers), n_layers))
    lora = LoraConfig(
        r=config.lora_r,
        lora_alpha=config.lora_alpha,
        lora_dropout=config.lora_dropout,
        target_modules=_lora_targets(model),
        layers_to_transform=layers,
        task_type=TaskType.SEQ_2_SEQ_LM if seq2seq else TaskType.CAUSAL_LM,
    )
    with warnings.catch_warnings():
        # peft calls transformers' deprecated is_gradient_checkpointing (their upgrade, not ours)
        warnings.simplefilter("ignore", FutureWarning)
        return get_peft_model(model, lora)


def _is_oom(exc: BaseException) -> bool:
    import torch

    return isinstance(exc, torch.OutOfMemoryError) or "out of memory" in str(exc).lower()


class Trainer:
    """Trains one model on samples; `batches_for` turns samples into model inputs."""

    def __init__(
        self, model: Any, tokenizer: Any, config: TrainConfig, device: str, *, seq2seq: bool
    ) -> None:
        self.model, self.tokenizer, self.config = model, tokenizer, config
        self.device, self.seq2seq = device, seq2seq

    def _batches(self, samples: Sequence[Sample], shuffle: bool) -> list[dict[str, Any]]:
        order = list(range(len(samples)))
        if shuffle:
            random.shuffle(order)
        size, out = self.config.batch_size, []
        for start in range(0, len(order), size):
            chunk = [samples[i] for i in order[start : start + size]]
            if self.seq2seq:
                out.append(_collate_seq2seq(self.tokenizer, chunk, self.config.max_length))
            else:
                pad = self.tokenizer.pad_token_id
                pad = pad if pad is not None else self.tokenizer.eos_token_id
                rows = [encode_causal(self.tokenizer, s, self.config.max_length) for s in chunk]
                out.append(_collate_causal(rows, pad))
        return out

    def _step(self, batch: dict[str, Any]) -> Any:
        moved = {k: v.to(self.device) for k, v in batch.items()}
        return self.model(**moved).loss

    def validation_loss(self, samples: Sequence[Sample]) -> float:
        import torch

        if not samples:
            return math.nan
        self.model.eval()
        total, count = 0.0, 0
        with torch.inference_mode():
            for batch in self._batches(samples, shuffle=False):
                n = int((batch["labels"] != -100).sum())
                total += float(self._step(batch)) * n
                count += n
        return total / max(count, 1)

    def fit(
        self,
        train: Sequence[Sample],
        validation: Sequence[Sample],
        on_step: Callable[[int, float], None] | None = None,
    ) -> TrainResult:
        try:
            return self._fit(train, validation, on_step)
        except (RuntimeError, MemoryError) as exc:
            if _is_oom(exc) or isinstance(exc, MemoryError):
                raise TrainingError(
                    f"Out of memory while training with batch size {self.config.batch_size} "
                    f"and max length {self.config.max_length} on {self.device}; retry with a "
                    f"smaller batch (--batch-size {max(1, self.config.batch_size // 2)}) or "
                    "fewer examples (--max-examples)"
                ) from exc
            raise

    def _fit(
        self,
        train: Sequence[Sample],
        validation: Sequence[Sample],
        on_step: Callable[[int, float], None] | None,
    ) -> TrainResult:
        import torch
        from tqdm.auto import tqdm

        cfg, started = self.config, time.monotonic()
        seed_everything(cfg.seed)
        result = TrainResult(self.model, self.tokenizer)
        params = [p for p in self.model.parameters() if p.requires_grad]
        optim = torch.optim.AdamW(params, lr=cfg.learning_rate, weight_decay=cfg.weight_decay)
        per_epoch = math.ceil(len(train) / cfg.batch_size)
        total = per_epoch * cfg.epochs
        warmup = max(1, int(total * cfg.warmup_ratio))
        sched = torch.optim.lr_scheduler.LambdaLR(
            optim, lambda s: min((s + 1) / warmup, max(0.0, (total - s) / max(1, total - warmup)))
        )
        best, best_state, bad_epochs = math.inf, None, 0
        bar = tqdm(total=total, desc="training", unit="step", disable=not cfg.progress)
        for epoch in range(cfg.epochs):
            self.model.train()
            for batch in self._batches(train, shuffle=True):
                loss = self._step(batch)
                loss.backward()
                torch.nn.utils.clip_grad_norm_(params, 1.0)
                optim.step()
                sched.step()
                optim.zero_grad(set_to_none=True)
                result.steps += 1
                value = float(loss.detach())
                result.train_loss.append(value)
                bar.update(1)
                bar.set_postfix(loss=f"{value:.3f}", epoch=epoch + 1)
                if on_step is not None:
                    on_step(result.steps, value)
            val = self.validation_loss(validation)
            result.val_loss.append(val)
            log.info("epoch %d: validation loss %.4f", epoch + 1, val)
            if math.isnan(val) or val < best - 1e-4:
                best, bad_epochs, result.best_epoch = val, 0, epoch + 1
                best_state = self._trainable_state()
            else:
                bad_epochs += 1
                if bad_epochs >= cfg.patience and epoch + 1 < cfg.epochs:
                    result.stopped_early = True
                    break
        bar.close()
        if best_state is not None and result.best_epoch != len(result.val_loss):
            self.model.load_state_dict(best_state, strict=False)
        self.model.eval()
        result.seconds = time.monotonic() - started
        return result

    def _trainable_state(self) -> dict[str, Any]:
        names = {n for n, p in self.model.named_parameters() if p.requires_grad}
        return {
            k: copy.deepcopy(v.detach()) for k, v in self.model.state_dict().items() if k in names
        }
