"""CTranslate2 backend: the model folder converted once into a cached CT2 model, then greedy
batched generation with float32 or int8 (CPU) or float16/bfloat16 (CUDA) weights.

Conversion writes into a temporary folder next to the cache entry and renames it into place
after a marker file is written, under a file lock: an interrupted conversion leaves only a
`.<name>-*` temp folder, which is never loaded and is removed by the next conversion.
CT2's generator has no prefix (KV) cache that persists across calls except `static_prompt`,
which needs one identical prefix per batch; Parley's prompts differ from the first token on
(the reply language sits in the system prompt), so it is not used.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from nlp.builtin_models import _file_lock
from nlp.inference.hf import model_context, stop_token_ids
from nlp.inference.streaming import text_streams
from nlp.inference.types import (
    BackendUnavailableError,
    GenerationOutput,
    GenerationRequest,
    first_stop,
)

logger = logging.getLogger(__name__)

MARKER = "parley-ct2.json"
_FORMAT_VERSION = 1
# Weight types stored on disk per compute type (CT2 converts the rest at load time).
_STORED = {"int8_float32": "int8", "int8_float16": "int8", "int8_bfloat16": "int8"}


def ctranslate2_module() -> Any:
    """The ctranslate2 package, or BackendUnavailableError saying how to install it."""
    try:
        import ctranslate2
    except ImportError as exc:
        raise BackendUnavailableError(
            "the ctranslate2 backend needs the 'ctranslate2' package (pip install ctranslate2)"
        ) from exc
    return ctranslate2


def supports(config_class: str) -> bool:
    """Whether ctranslate2's converter knows this transformers config class (True if unsure)."""
    try:
        from ctranslate2.converters.transformers import _MODEL_LOADERS
    except ImportError:
        return True  # let the conversion say
    return config_class in _MODEL_LOADERS


def _fingerprint(source: Path, quantization: str, version: str) -> dict[str, Any]:
    weights = sorted(source.glob("*.safetensors")) + sorted(source.glob("*.bin"))
    stats = [[p.name, p.stat().st_size, int(p.stat().st_mtime)] for p in weights]
    return {"format": _FORMAT_VERSION, "source": str(source), "weights": stats,
            "quantization": quantization, "ctranslate2": version}  # fmt: skip


def cache_path(source: Path, quantization: str, cache_dir: Path) -> Path:
    """Where the CT2 copy of `source` lives: cache_dir/models/ct2/<name>-<hash>-<quant>."""
    digest = hashlib.sha256(str(source.resolve()).encode()).hexdigest()[:8]
    return Path(cache_dir) / "models" / "ct2" / f"{source.name}-{digest}-{quantization}"


def is_converted(target: Path, fingerprint: dict[str, Any]) -> bool:
    try:
        return bool(json.loads((target / MARKER).read_text()) == fingerprint)
    except (OSError, ValueError):
        return False


def _default_convert(source: Path, output: Path, quantization: str) -> None:
    from ctranslate2.converters import TransformersConverter

    converter = TransformersConverter(str(source), low_cpu_mem_usage=True)
    converter.convert(str(output), quantization=quantization, force=True)


def convert_once(
    source: Path,
    quantization: str,
    cache_dir: Path,
    *,
    convert: Callable[[Path, Path, str], None] = _default_convert,
    version: str = "",
) -> Path:
    """The cached CT2 conversion of `source`, converting it (atomically) when missing or stale."""
    if not version:
        version = str(ctranslate2_module().__version__)
    target = cache_path(source, quantization, cache_dir)
    target.parent.mkdir(parents=True, exist_ok=True)
    fingerprint = _fingerprint(source, quantization, version)
    with _file_lock(target.parent / f"{target.name}.lock"):
        if is_converted(target, fingerprint):
            return target
        for leftover in target.parent.glob(f".{target.name}-*"):  # interrupted conversions
            shutil.rmtree(leftover, ignore_errors=True)
        started = time.monotonic()
        logger.info("Converting %s to CTranslate2 %s (once)...", source, quantization)
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
        try:
            convert(source, tmp, quantization)
            (tmp / MARKER).write_text(json.dumps(fingerprint))
            if target.exists():
                shutil.rmtree(target)
            tmp.chmod(0o755)
            tmp.rename(target)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        logger.info("Converted in %.1f s -> %s", time.monotonic() - started, target)
    return target


def length_groups(requests: Sequence[GenerationRequest]) -> list[list[int]]:
    """Indices of `requests` split into groups whose prompt lengths differ by at most half the
    new-token budget.

    CT2 forwards a batch's prompts at once only up to the shortest one; the rest of each longer
    prompt goes through the decoding loop one token per step, like generated tokens. A group
    spanning more prompt tokens than it generates costs more than running it in two batches.
    """
    order = sorted(range(len(requests)), key=lambda i: len(requests[i].prompt_ids))
    groups: list[list[int]] = []
    for i in order:
        length = len(requests[i].prompt_ids)
        if groups:
            group = groups[-1]
            shortest = len(requests[group[0]].prompt_ids)
            budget = max(requests[j].max_new_tokens for j in [*group, i])
            if length - shortest <= max(8, budget // 2):
                group.append(i)
                continue
        groups.append([i])
    return groups


class CTranslate2Backend:
    """Greedy batched generation with a `ctranslate2.Generator`."""

    def __init__(
        self,
        source: Path,
        tokenizer: Any,
        config: Any,
        *,
        device: str,
        compute_type: str,
        cache_dir: Path,
        threads: int = 0,
    ) -> None:
        ct2 = ctranslate2_module()
        if device == "cuda" and ct2.get_cuda_device_count() == 0:
            raise BackendUnavailableError("ctranslate2 sees no CUDA device")
        supported = ct2.get_supported_compute_types(device)
        if compute_type not in supported:
            raise BackendUnavailableError(
                f"ctranslate2 on {device} supports {sorted(supported)}, not {compute_type}"
            )
        family = type(config).__name__
        if not supports(family):
            raise BackendUnavailableError(f"ctranslate2 cannot convert {family} models")
        quantization = _STORED.get(compute_type, compute_type)
        try:
            folder = convert_once(Path(source), quantization, cache_dir, version=ct2.__version__)
        except (ValueError, NotImplementedError, KeyError) as exc:  # unsupported architecture
            raise BackendUnavailableError(f"ctranslate2 cannot convert {source}: {exc}") from exc
        intra = threads or len(os.sched_getaffinity(0))
        self.generator = ct2.Generator(
            str(folder), device=device, compute_type=compute_type,
            inter_threads=1, intra_threads=intra if device == "cpu" else 0,
        )  # fmt: skip
        self.tokenizer = tokenizer
        self.device = device
        self.name = f"ctranslate2 {compute_type} ({device})"
        self.max_context = model_context(config, tokenizer)
        self._stop_ids = stop_token_ids(tokenizer)

    def generate(self, requests: Sequence[GenerationRequest]) -> list[GenerationOutput]:
        """Generate for `requests` in sub-batches of similar prompt length (`length_groups`)."""
        outputs: dict[int, GenerationOutput] = {}
        for group in length_groups(requests):
            for i, out in zip(group, self._generate([requests[i] for i in group]), strict=True):
                outputs[i] = out
        return [outputs[i] for i in range(len(requests))]

    def _generate(self, requests: Sequence[GenerationRequest]) -> list[GenerationOutput]:
        if not requests:
            return []
        tokens = [self.tokenizer.convert_ids_to_tokens(list(r.prompt_ids)) for r in requests]
        logprobs: list[list[float]] = [[] for _ in requests]
        streams = text_streams(requests, self.tokenizer, self._stop_ids)

        def record(step: Any) -> bool:
            logprobs[step.batch_id].append(float(step.log_prob))
            stream = streams[step.batch_id]
            if stream is not None:
                stream.add(int(step.token_id))
            return False

        started = time.monotonic()
        results = self.generator.generate_batch(
            tokens,
            max_length=max(r.max_new_tokens for r in requests),  # new tokens only, see below
            min_length=max(r.min_new_tokens for r in requests),
            include_prompt_in_result=False,
            end_token=self._stop_ids,
            return_end_token=True,
            sampling_topk=1,
            beam_size=1,
            return_scores=True,  # per-step log_prob in the callback
            callback=record,
        )
        seconds = time.monotonic() - started
        outputs = []
        for request, result, chosen in zip(requests, results, logprobs, strict=True):
            ids = [int(t) for t in result.sequences_ids[0]][: request.max_new_tokens]
            end = first_stop(ids, self._stop_ids)
            answer = tuple(ids[:end])
            text = str(self.tokenizer.decode(list(answer), skip_special_tokens=True))
            outputs.append(
                GenerationOutput(
                    text, answer, tuple(chosen[: len(answer)]), len(request.prompt_ids),
                    min(end + 1, len(ids)), seconds,
                )
            )  # fmt: skip
        return outputs
