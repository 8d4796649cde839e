"""A model folder with a real model's config and tokenizer and seeded random weights.

For speed benchmarks on machines the weights cannot reach (a GPU machine with no hub access and
a small upload limit): generation time depends on the architecture, the prompt and the number
of tokens, not on the weights' values, so the twin runs exactly as fast as the real model when
every answer has a fixed length (`min_new_tokens`). Its answers are noise: never use it for
quality figures.

    python bench/shape_twin.py --source ~/.cache/parley/models/qwen2.5-coder-0.5b-instruct \\
        --out /tmp/twin                    # on CPU: copy config and tokenizer only
    python bench/shape_twin.py --source .gpu/model --out /tmp/twin     # where the weights go
"""

from __future__ import annotations

import argparse
import shutil
import time
from pathlib import Path

WEIGHT_FILES = (".safetensors", ".bin", ".gguf", ".index.json")


def make_twin(source: Path, out: Path, *, seed: int = 0, layers: int | None = None) -> Path:
    """Copy `source`'s config and tokenizer files into `out` and save random weights there."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    out.mkdir(parents=True, exist_ok=True)
    for item in source.iterdir():
        if item.is_file() and not item.name.endswith(WEIGHT_FILES):
            shutil.copy2(item, out / item.name)
    config = AutoConfig.from_pretrained(source)
    if layers is not None:  # a smaller twin, for smoke-testing the benchmark itself
        config.num_hidden_layers = layers
        if getattr(config, "layer_types", None):
            config.layer_types = config.layer_types[:layers]
    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)  # type: ignore[no-untyped-call]
    model.save_pretrained(out)
    (out / "parley-source.json").unlink(missing_ok=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, required=True, help="folder with config.json")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--layers", type=int, help="override the layer count (smoke tests)")
    args = parser.parse_args()
    started = time.perf_counter()
    make_twin(args.source, args.out, seed=args.seed, layers=args.layers)
    print(f"shape twin of {args.source} in {args.out} ({time.perf_counter() - started:.1f} s)")


if __name__ == "__main__":
    main()
