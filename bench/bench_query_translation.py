"""Cross-lingual retrieval: multilingual embeddings alone vs translating the query, and both.

zaragoza-construction-faq: the index holds all 503 English entries (answer text only, and
`Q: question / A: answer` FAQ chunks, as bench/bench_retrieval.py builds them); the queries are
the first `--limit` Swedish questions. Methods, same queries and indexes in one run:
- dense: the Swedish question, multilingual e5 (Parley's default);
- translated: only the English translation by the packaged instruct model (`LLMQueryTranslator`);
- both: the knowledge base's `query_translator` hook, original and translation fused.
Prints recall@1, recall@5, MRR@10 and per-query latency (translation dominates it).

Run: python bench/bench_query_translation.py [--limit 60]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from bench_retrieval import CachedEmbedder, build_kb, load_faq, metrics

from bot.settings import Settings
from nlp.loading import load_causal_lm
from nlp.query_translation import LLMQueryTranslator
from retrieval.embedders import load_embedder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--limit", type=int, default=60, help="Swedish questions to query.")
    parser.add_argument("--show", type=int, default=5, help="Print this many translations.")
    args = parser.parse_args()
    settings = Settings()
    en, sv = load_faq("en"), load_faq("sv")
    sv_by_id = {r["id"]: r["q"] for r in sv}
    queries = [(r["id"], sv_by_id[r["id"]]) for r in en[: args.limit]]
    gold = [qid for qid, _ in queries]

    loaded = load_causal_lm(settings.dialogue_model, cache_dir=settings.cache_dir, device="cpu")
    translate = LLMQueryTranslator(loaded)
    translations: dict[str, str] = {}
    seconds: list[float] = []
    for _, text in queries:
        started = time.monotonic()
        translations[text] = translate(text)
        seconds.append(time.monotonic() - started)
    for _, text in queries[: args.show]:
        print(f"  {text!r} -> {translations[text]!r}")
    print(
        f"translation: {len(queries)} queries, mean {statistics.mean(seconds):.2f} s, "
        f"median {statistics.median(seconds):.2f} s per query (batch 1, CPU)"
    )

    embedder = CachedEmbedder(load_embedder(settings.embedding_model))
    print(f"\nzaragoza FAQ: {len(en)} English entries indexed; {len(queries)} Swedish queries")
    print(f"{'passages':8} {'method':10} {'R@1':>6} {'R@5':>6} {'MRR':>6} {'search ms/q':>11}")
    for variant in ("answer", "qa"):
        with tempfile.TemporaryDirectory() as tmp:
            kb = build_kb(Path(tmp), embedder, en, variant)
            texts = [text for _, text in queries]
            runs = {
                "dense": (texts, None, None),
                "translated": ([translations[t] or t for t in texts], None, None),
                "both": (texts, lambda q: translations[q], "sv"),
            }
            for method, (qs, translator, language) in runs.items():
                kb.query_translator = translator
                started = time.monotonic()
                ranked = [[h.doc_id for h in kb.search(q, k=10, language=language)] for q in qs]
                ms = 1000 * (time.monotonic() - started) / len(qs)
                m = metrics(ranked, gold)
                print(
                    f"{variant:8} {method:10} {m['R@1']:6.3f} {m['R@5']:6.3f} "
                    f"{m['MRR']:6.3f} {ms:11.1f}"
                )
    print("(search ms/q excludes translation: add the translation time above for a query)")


if __name__ == "__main__":
    main()
