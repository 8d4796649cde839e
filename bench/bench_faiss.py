"""FAISS index types on synthetic 384-dim unit vectors: Flat vs IVF vs HNSW.

Single-query latency p50/p99, recall@10 against exact (Flat) search, build time and index size,
on random vectors (uniform on the sphere: the hardest case for ANN) and on a Gaussian mixture
(clustered, closer to real embeddings). The baseline is Flat (exact) search.

    python bench/bench_faiss.py                   # 1M vectors, both data sets
    python bench/bench_faiss.py --n 100000 --data clustered --hnsw-n 100000
"""

from __future__ import annotations

import argparse
import resource
import time
from typing import Any

import faiss
import numpy as np


def unit(x: np.ndarray) -> np.ndarray:
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x


def make_data(kind: str, n: int, nq: int, dim: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    if kind == "uniform":
        return (
            unit(rng.standard_normal((n, dim), dtype=np.float32)),
            unit(rng.standard_normal((nq, dim), dtype=np.float32)),
        )
    centers = rng.standard_normal((max(100, n // 1000), dim), dtype=np.float32)

    def draw(m: int) -> np.ndarray:
        out = np.empty((m, dim), dtype=np.float32)
        for start in range(0, m, 100_000):
            size = min(100_000, m - start)
            pick = rng.integers(0, len(centers), size)
            out[start : start + size] = centers[pick] + 0.6 * rng.standard_normal(
                (size, dim), dtype=np.float32
            )
        return unit(out)

    return draw(n), draw(nq)


def latencies(index: Any, queries: np.ndarray, k: int = 10) -> tuple[float, float, np.ndarray]:
    ids = np.empty((len(queries), k), dtype=np.int64)
    times = []
    for i in range(len(queries)):
        start = time.perf_counter()
        _, found = index.search(queries[i : i + 1], k)
        times.append(time.perf_counter() - start)
        ids[i] = found[0]
    ms = np.asarray(times) * 1000
    return float(np.percentile(ms, 50)), float(np.percentile(ms, 99)), ids


def recall(found: np.ndarray, truth: np.ndarray) -> float:
    return float(
        np.mean([len(set(f) & set(t)) / len(t) for f, t in zip(found, truth, strict=True)])
    )


def size_mb(index: Any) -> float:
    return len(faiss.serialize_index(index)) / 2**20


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def row(
    name: str, param: str, build: float, mb: float, p50: float, p99: float, r: float, base: float
) -> None:
    print(
        f"{name:16} {param:12} build {build:7.1f} s  size {mb:7.0f} MB  p50 {p50:7.3f} ms  "
        f"p99 {p99:7.3f} ms  recall@10 {r:.3f}  speedup vs Flat p50 {base / p50:6.1f}x",
        flush=True,
    )


def bench(kind: str, args: argparse.Namespace) -> None:
    start = time.perf_counter()
    xb, xq = make_data(kind, args.n, args.queries, args.dim)
    print(
        f"\n== {kind}: {args.n} x {args.dim} vectors, {args.queries} single queries "
        f"(data {time.perf_counter() - start:.1f} s, max RSS {rss_mb():.0f} MB)",
        flush=True,
    )
    start = time.perf_counter()
    flat = faiss.IndexFlatIP(args.dim)
    flat.add(xb)
    build = time.perf_counter() - start
    _, truth = flat.search(xq, 10)  # batched exact search: ground truth
    fq = xq[: args.flat_queries]
    p50, p99, _ = latencies(flat, fq)
    base = p50
    row(
        "Flat",
        "exact",
        build,
        size_mb(flat) if args.n <= 200_000 else xb.nbytes / 2**20,
        p50,
        p99,
        1.0,
        base,
    )
    del flat

    if "ivf" in args.methods:
        bench_ivf(args, xb, xq, truth, base)
    if "hnsw" in args.methods:
        bench_hnsw(args, xb, xq, fq, truth, base)
    print(f"max RSS so far {rss_mb():.0f} MB")


def bench_ivf(
    args: argparse.Namespace, xb: np.ndarray, xq: np.ndarray, truth: np.ndarray, base: float
) -> None:
    nlist = args.nlist or int(4 * np.sqrt(args.n))
    start = time.perf_counter()
    quantizer = faiss.IndexFlatIP(args.dim)
    ivf = faiss.IndexIVFFlat(quantizer, args.dim, nlist, faiss.METRIC_INNER_PRODUCT)
    ivf.cp.niter = 10  # k-means iterations: 10 is plenty for IVF and keeps training short
    sample = xb[np.random.default_rng(1).choice(args.n, min(args.n, 40 * nlist), replace=False)]
    ivf.train(sample)
    ivf.add(xb)
    build = time.perf_counter() - start
    mb = xb.nbytes / 2**20 + nlist * args.dim * 4 / 2**20 + args.n * 8 / 2**20
    for nprobe in [int(p) for p in args.nprobes.split(",")]:
        ivf.nprobe = nprobe
        p50, p99, found = latencies(ivf, xq)
        row(f"IVF{nlist},Flat", f"nprobe={nprobe}", build, mb, p50, p99, recall(found, truth), base)
    del ivf, quantizer


def bench_hnsw(
    args: argparse.Namespace,
    xb: np.ndarray,
    xq: np.ndarray,
    fq: np.ndarray,
    truth: np.ndarray,
    base: float,
) -> None:
    hn = min(args.hnsw_n, args.n)
    if hn < args.n:
        print(f"-- HNSW on the first {hn} vectors (--hnsw-n); recall against Flat on the same {hn}")
        sub = faiss.IndexFlatIP(args.dim)
        sub.add(xb[:hn])
        _, htruth = sub.search(xq, 10)
        p50_sub, _, _ = latencies(sub, fq)
        del sub
    else:
        htruth, p50_sub = truth, base
    start = time.perf_counter()
    hnsw = faiss.IndexHNSWFlat(args.dim, args.m, faiss.METRIC_INNER_PRODUCT)
    hnsw.hnsw.efConstruction = args.ef_construction
    hnsw.add(xb[:hn])
    build = time.perf_counter() - start
    mb = size_mb(hnsw) if hn <= 200_000 else (hn * (args.dim * 4 + args.m * 2 * 4 * 1.1)) / 2**20
    for ef in [int(e) for e in args.ef_search.split(",")]:
        hnsw.hnsw.efSearch = ef
        p50, p99, found = latencies(hnsw, xq)
        row(f"HNSW{args.m}", f"ef={ef}", build, mb, p50, p99, recall(found, htruth), p50_sub)
    del hnsw


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--flat-queries", type=int, default=50)
    parser.add_argument("--data", default="clustered,uniform")
    parser.add_argument("--nlist", type=int, default=0, help="IVF lists (default 4*sqrt(n)).")
    parser.add_argument("--nprobes", default="1,4,16,32,64,128,256")
    parser.add_argument("--m", type=int, default=32, help="HNSW M.")
    parser.add_argument("--ef-construction", type=int, default=40)
    parser.add_argument("--ef-search", default="16,32,64,128,256")
    parser.add_argument("--hnsw-n", type=int, default=200_000, help="Cap HNSW build size.")
    parser.add_argument("--methods", default="ivf,hnsw", help="Besides Flat: ivf, hnsw.")
    parser.add_argument("--threads", type=int, default=0, help="FAISS threads (0: all cores).")
    args = parser.parse_args()
    if args.threads:
        faiss.omp_set_num_threads(args.threads)
    print(f"faiss {faiss.__version__}, {faiss.omp_get_max_threads()} threads")
    for kind in args.data.split(","):
        bench(kind, args)


if __name__ == "__main__":
    main()
