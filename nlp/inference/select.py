"""Settings -> the backend that runs a model, behind a shared micro-batcher.

`auto` picks, per device, the fastest backend that kept quality on bench/bench_inference.py and
bench/bench_answers.py (docs/models.md): on a CPU with native bf16 (AVX-512 BF16 or AMX)
transformers with bf16 matrix products and float32 elsewhere (`bfloat16_float32`), on other
CPUs CTranslate2 float32, on CUDA transformers in bf16/fp16. Plain bf16 on a CPU
(`PARLEY_INFERENCE_COMPUTE_TYPE=bfloat16`) is an option: it changed answers.
A backend that is not installed or cannot run the model falls back to plain transformers, with
a log line naming the reason and the fallback. One batcher per model and options per process,
so drafting and translation on the same model share batches.
"""

from __future__ import annotations

import copy
import logging
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

import platformdirs

from nlp.inference.batcher import MicroBatcher
from nlp.inference.cpu_features import cpu_has_native_bf16
from nlp.inference.hf import TransformersBackend, quantized_int8
from nlp.inference.types import BackendUnavailableError, GenerationBackend, InferenceOptions

if TYPE_CHECKING:
    from nlp.loading import LoadedModel

logger = logging.getLogger(__name__)

SETTING = "PARLEY_INFERENCE_BACKEND"
AUTO_CPU_BACKEND = "ctranslate2"
# Measured (docs/models.md "Inference backends"): CT2 float32 gives fp32's answers 1.7x faster;
# CT2 int8 was faster still but changed answers (chrF 57 vs fp32, an escalation decision flipped).
AUTO_CPU_COMPUTE_TYPE = "float32"
MIXED = "bfloat16_float32"  # bf16 matrix products, float32 elsewhere (nlp/inference/mixed.py)
# With native bf16: as fast as CT2 float32 at batch 1, 2x sooner first token, far more under
# load, and within the answer-quality tolerance (plain bf16 was not).
AUTO_BF16_CPU = ("transformers", MIXED)
TRANSFORMERS_DTYPES = ("float32", "bfloat16", "float16", MIXED)

_state: dict[str, Any] = {"options": InferenceOptions(backend="transformers")}
_shared: dict[tuple[Any, ...], tuple[LoadedModel, MicroBatcher]] = {}
_lock = threading.Lock()


def configure_inference(options: InferenceOptions) -> None:
    """Set this process's inference options (the runtime calls it with the settings')."""
    _state["options"] = options


def current_options() -> InferenceOptions:
    """The configured options; plain transformers until `configure_inference` is called."""
    options: InferenceOptions = _state["options"]
    return options


def resolve(options: InferenceOptions, device: str) -> tuple[str, str]:
    """(backend, compute type) that `options` mean on `device` ("cpu" or "cuda")."""
    backend: str = options.backend
    compute = options.compute_type
    if backend == compute == "auto" and device == "cpu" and cpu_has_native_bf16():
        return AUTO_BF16_CPU
    if backend == "auto":
        # CTranslate2 has no bf16 on CPU: bf16 asked for there means transformers.
        cpu_ct2 = device == "cpu" and compute not in ("bfloat16", MIXED)
        backend = AUTO_CPU_BACKEND if cpu_ct2 else "transformers"
        if device == "cpu" and compute == "auto":
            compute = AUTO_CPU_COMPUTE_TYPE
    if compute == "auto":
        if backend == "ctranslate2":
            compute = AUTO_CPU_COMPUTE_TYPE if device == "cpu" else "bfloat16"
        elif backend == "int8":
            compute = "int8"
        else:
            compute = "float32" if device == "cpu" else "bfloat16"
    if backend == "transformers" and compute not in TRANSFORMERS_DTYPES:
        compute = "float32" if device == "cpu" else "bfloat16"
    return backend, compute


def transformers_dtype(options: InferenceOptions, device: str) -> str:
    """The dtype to load a causal LM in: what its transformers backend runs, else float32
    (CTranslate2 converts from the folder; int8 quantizes fp32 weights)."""
    backend, compute = resolve(options, device)
    if backend != "transformers" or compute == MIXED:
        return "float32"
    if device == "cuda" and compute == "bfloat16":
        import torch

        return "bfloat16" if torch.cuda.is_bf16_supported() else "float16"
    return compute


def _model_folder(loaded: LoadedModel) -> Path:
    source = loaded.source or str(getattr(loaded.model.config, "_name_or_path", ""))
    if Path(source).is_dir():
        return Path(source)
    try:  # a hub id: its snapshot in the local cache (never downloaded here)
        from transformers.utils.hub import cached_file

        config = cached_file(source, "config.json", local_files_only=True)
        if config is None:
            raise FileNotFoundError(f"{source}/config.json is not in the local cache")
        return Path(config).parent
    except Exception as exc:
        raise BackendUnavailableError(f"no local model folder for {loaded.name!r}") from exc


def _ct2_compute(compute: str, device: str) -> str:
    if device == "cuda" and compute == "bfloat16":
        import torch

        return "bfloat16" if torch.cuda.is_bf16_supported() else "float16"
    return compute


def build_backend(
    loaded: LoadedModel, options: InferenceOptions, *, cache_dir: Path
) -> GenerationBackend:
    """The backend `options` ask for on `loaded`'s device, else transformers (logged)."""
    device = loaded.device
    backend, compute = resolve(options, device)
    if backend == "transformers":
        if compute in ("bfloat16", MIXED) and device == "cpu" and not cpu_has_native_bf16():
            logger.warning(
                "bfloat16 on a CPU without AVX-512 BF16 or AMX is emulated: prompts run about "
                "7x slower than float32; unset PARLEY_INFERENCE_COMPUTE_TYPE for the default"
            )
        model = _model_in(loaded, transformers_dtype(options, device))
        if compute == MIXED:
            from nlp.inference.mixed import bfloat16_matmuls

            model = bfloat16_matmuls(model)
        static = options.static_cache and device == "cuda"
        if options.static_cache and not static:
            logger.info("PARLEY_INFERENCE_STATIC_CACHE applies on CUDA only; %s is not", device)
        dtype = MIXED if compute == MIXED else _dtype(model)
        label = f"transformers {dtype}{', static cache' if static else ''} ({device})"
        return TransformersBackend(
            model, loaded.tokenizer, device, label=label, static_cache=static,
            prompt_lookup=options.prompt_lookup,
        )  # fmt: skip
    plain = TransformersBackend(
        loaded.model,
        loaded.tokenizer,
        device,
        label=f"transformers {_dtype(loaded.model)} ({device})",
        prompt_lookup=options.prompt_lookup,
    )
    try:
        if backend == "ctranslate2":
            from nlp.inference.ct2 import CTranslate2Backend

            return CTranslate2Backend(
                _model_folder(loaded), loaded.tokenizer, loaded.model.config,
                device=device, compute_type=_ct2_compute(compute, device),
                cache_dir=cache_dir, threads=options.threads,
            )  # fmt: skip
        if backend == "int8":
            model = quantized_int8(_model_in(loaded, "float32"))
            return TransformersBackend(
                model, loaded.tokenizer, device, label=f"transformers int8 dynamic ({device})"
            )
    except BackendUnavailableError as exc:
        log = logger.info if options.backend == "auto" else logger.warning
        log(
            "%s=%s (%s) is not available for %s: %s; falling back to %s",
            SETTING, options.backend, backend, loaded.name, exc, plain.name,
        )  # fmt: skip
        return plain
    return plain


def _dtype(model: Any) -> str:
    dtype = getattr(model, "dtype", None)
    return str(dtype).removeprefix("torch.") if dtype is not None else "model"


def _model_in(loaded: LoadedModel, dtype_name: str) -> Any:
    """`loaded.model` in `dtype_name`: itself when loaded so (the loader reads the options),
    else a cast copy (the options changed after loading)."""
    import torch

    dtype = getattr(torch, dtype_name)
    if getattr(loaded.model, "dtype", dtype) == dtype:
        return loaded.model
    logger.info(
        "Using a %s copy of %s (loaded as %s)", dtype_name, loaded.name, _dtype(loaded.model)
    )
    return copy.deepcopy(loaded.model).to(dtype)


def backend_for(
    loaded: LoadedModel, options: InferenceOptions | None = None, *, cache_dir: Path | None = None
) -> MicroBatcher:
    """The shared batched backend for `loaded` (built on first use, then reused)."""
    options = options or current_options()
    cache = cache_dir or loaded.cache_dir or platformdirs.user_cache_path("parley")
    key = (id(loaded.model), loaded.name, options, cache)
    with _lock:
        if key not in _shared:
            backend = build_backend(loaded, options, cache_dir=cache)
            logger.info("Inference for %s: %s", loaded.name, backend.name)
            batcher = MicroBatcher(
                backend, max_batch=options.max_batch, max_wait=options.batch_wait_ms / 1000
            )
            _shared[key] = (loaded, batcher)  # the model stays alive while its key is used
        return _shared[key][1]
