"""Retrieval quality on the zaragoza-construction-faq package.

Index: the 503 English answers (as `answer` passages, or as `Q: question / A: answer` FAQ
chunks). Queries: the English questions, and the Swedish questions against the English index.
Prints recall@1, recall@5 and MRR@10 for dense, BM25 and hybrid search per embedder; the
baseline is BM25-only (and dense-only for hybrid). Run: python bench/bench_retrieval.py [--limit N]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections.abc import Sequence
from importlib import resources
from pathlib import Path

import numpy as np

from retrieval.embedders import Embedder, Vectors, load_embedder
from retrieval.knowledge_base import KnowledgeBase
from retrieval.lexical import LexicalIndex


class CachedEmbedder:
    """Memoises query vectors so several fusion settings reuse one embedding pass."""

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner
        self.cache: dict[str, np.ndarray] = {}

    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def dim(self) -> int:
        return self.inner.dim

    def embed_queries(self, texts: Sequence[str]) -> Vectors:
        missing = [t for t in dict.fromkeys(texts) if t not in self.cache]
        if missing:
            self.cache.update(zip(missing, self.inner.embed_queries(missing), strict=True))
        return np.stack([self.cache[t] for t in texts]).astype(np.float32)

    def embed_passages(self, texts: Sequence[str]) -> Vectors:
        return self.inner.embed_passages(texts)


def load_faq(lang: str) -> list[dict[str, str]]:
    name = "data/faq-en.jsonl" if lang == "en" else "data/faq.jsonl"
    text = resources.files("zaragoza_construction_faq").joinpath(name).read_text("utf-8")
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def metrics(ranked: list[list[str]], gold: list[str]) -> dict[str, float]:
    r1 = r5 = rr = 0.0
    for ids, want in zip(ranked, gold, strict=True):
        if want in ids[:1]:
            r1 += 1
        if want in ids[:5]:
            r5 += 1
        if want in ids[:10]:
            rr += 1.0 / (ids.index(want) + 1)
    n = len(gold)
    return {"R@1": r1 / n, "R@5": r5 / n, "MRR": rr / n}


def build_kb(
    folder: Path, embedder: Embedder, rows: list[dict[str, str]], variant: str
) -> KnowledgeBase:
    data = folder / "faq.jsonl"
    with data.open("w", encoding="utf-8") as fh:
        for r in rows:
            row = (
                {"id": r["id"], "text": r["a"]}
                if variant == "answer"
                else {"id": r["id"], "question": r["q"], "answer": r["a"]}
            )
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    kb = KnowledgeBase(
        folder / "kb", embedding_model=embedder.name, embedder_loader=lambda: embedder
    )
    kb.ingest([data], progress=False)
    return kb


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--limit", type=int, default=0, help="Use only the first N FAQ entries.")
    parser.add_argument(
        "--embedders", default="builtin:multilingual-e5-small,builtin:all-minilm-l6-v2"
    )
    parser.add_argument("--variants", default="answer,qa", help="Passage forms: answer, qa.")
    parser.add_argument("--weights", default="0.1,0.2,0.3,0.5", help="BM25 weights, score fusion.")
    parser.add_argument("--rrf-weights", default="0.25,1.0", help="BM25 weights, rank fusion.")
    args = parser.parse_args()
    en, sv = load_faq("en"), load_faq("sv")
    sv_by_id = {r["id"]: r["q"] for r in sv}
    rows = en[: args.limit] if args.limit else en
    gold = [r["id"] for r in rows]
    queries = {"EN": [r["q"] for r in rows], "SV->EN": [sv_by_id[r["id"]] for r in rows]}
    configs: list[tuple[str, bool, str, float, bool]] = [("dense", False, "score", 0.0, False)]
    for gate in (False, True):
        tag = "+ids" if gate else ""
        rrf = [w for w in args.rrf_weights.split(",") if w]
        configs += [(f"rrf{tag} w={w}", True, "rrf", float(w), gate) for w in rrf]
        score = [w for w in args.weights.split(",") if w]
        configs += [(f"score{tag} w={w}", True, "score", float(w), gate) for w in score]
    print(f"zaragoza-construction-faq: {len(rows)} English passages; k=10")
    print(
        f"{'embedder':32} {'passages':8} {'method':14} {'queries':7} "
        f"{'R@1':>6} {'R@5':>6} {'MRR':>6}"
    )
    for model in args.embedders.split(","):
        embedder = CachedEmbedder(load_embedder(model))
        bench_codes(embedder, configs)
        for variant in args.variants.split(","):
            with tempfile.TemporaryDirectory() as tmp:
                start = time.perf_counter()
                kb = build_kb(Path(tmp), embedder, rows, variant)
                took = time.perf_counter() - start
                print(f"# {model} / {variant}: indexed {len(rows)} passages in {took:.1f} s")
                lexical = LexicalIndex(
                    list(kb._catalog.chunks), [c.text for c in kb._catalog.chunks.values()]
                )
                id_of = {i: c.doc_id for i, c in kb._catalog.chunks.items()}
                for qname, qs in queries.items():
                    ranked = [[id_of[i] for i, _ in lexical.search(q, 10)] for q in qs]
                    _row(model, variant, "bm25", qname, metrics(ranked, gold))
                    for label, hybrid, fusion, weight, gate in configs:
                        kb.hybrid, kb.lexical_weight, kb.identifiers_only = hybrid, weight, gate
                        kb.fusion = "rrf" if fusion == "rrf" else "score"
                        hits = kb.search_batch(qs, k=10)
                        _row(
                            model,
                            variant,
                            label,
                            qname,
                            metrics([[h.doc_id for h in hs] for hs in hits], gold),
                        )


AREAS = ["billing", "login", "upload", "export", "API", "SSO", "search", "calendar"]
PROBLEMS = ["timed out", "was rejected", "is not allowed on this plan", "hit a limit", "failed"]


def bench_codes(embedder: Embedder, configs: list[tuple[str, bool, str, float, bool]]) -> None:
    """Synthetic error-code lookup: 40 codes whose texts differ mostly by the code itself."""
    rows = []
    for i in range(40):
        area, problem = AREAS[i % len(AREAS)], PROBLEMS[i % len(PROBLEMS)]
        code = f"E{1000 + 37 * i}"
        rows.append(
            {
                "id": code,
                "text": f"Error {code}: the {area} request {problem}. "
                f"Retry later or contact support with the code {code}.",
            }
        )
    queries = [f"I keep getting {r['id']}, what does it mean?" for r in rows]
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "codes.jsonl"
        data.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
        kb = KnowledgeBase(
            Path(tmp) / "kb", embedding_model=embedder.name, embedder_loader=lambda: embedder
        )
        kb.ingest([data], progress=False)
        for label, hybrid, fusion, weight, gate in configs:
            kb.hybrid, kb.lexical_weight, kb.identifiers_only = hybrid, weight, gate
            kb.fusion = "rrf" if fusion == "rrf" else "score"
            hits = kb.search_batch(queries, k=10)
            ranked = [[h.doc_id for h in hs] for hs in hits]
            _row(embedder.name, "codes", label, "EN", metrics(ranked, [r["id"] for r in rows]))


def _row(model: str, variant: str, method: str, queries: str, m: dict[str, float]) -> None:
    print(
        f"{model:32} {variant:8} {method:14} {queries:7} "
        f"{m['R@1']:6.3f} {m['R@5']:6.3f} {m['MRR']:6.3f}",
        flush=True,
    )


if __name__ == "__main__":
    main()
