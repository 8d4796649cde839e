"""Inference backends (transformers, int8 dynamic, CTranslate2) behind a micro-batcher."""

from nlp.inference.batcher import MicroBatcher
from nlp.inference.select import backend_for, build_backend, configure_inference, resolve
from nlp.inference.types import (
    BackendUnavailableError,
    GenerationBackend,
    GenerationOutput,
    GenerationRequest,
    InferenceOptions,
)

__all__ = [
    "BackendUnavailableError",
    "GenerationBackend",
    "GenerationOutput",
    "GenerationRequest",
    "InferenceOptions",
    "MicroBatcher",
    "backend_for",
    "build_backend",
    "configure_inference",
    "resolve",
]
