"""Triage accuracy: Parley's classifier against zero-shot baselines on a held-out set.

Data: bench/data/triage_eval.jsonl, 48 support messages in EN, ES, DE, SV and ZH with sentiment and
urgency labels, written by the Parley team for this benchmark (separately from the 56 training
messages in nlp/triage/train.jsonl; the urgency cue lexicon was written by the same team, so
its share of the score is optimistic).
Compared, same embedder (PARLEY_EMBEDDING_MODEL, the offline multilingual-e5-small by default):
- Parley: logistic-regression heads on the embeddings + the multilingual cue lexicon;
- zero-shot embedding: nearest label description, no training, no lexicon;
- with --llm: a plain zero-shot prompt of the offline instruct model (slow on CPU).
Run: HF_HUB_OFFLINE=1 python bench/bench_triage.py [--llm]
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from bot.settings import Settings, load_settings
from nlp.triage import URGENCY_FLAGS, EmbeddingTriage, Triage, ZeroShotTriage, load_examples
from retrieval.factory import build_embedder

EVAL = Path(__file__).parent / "data" / "triage_eval.jsonl"


def macro_f1(gold: Sequence[str], pred: Sequence[str], labels: Sequence[str]) -> float:
    scores = []
    for label in labels:
        tp = sum(g == label == p for g, p in zip(gold, pred, strict=True))
        fp = sum(p == label != g for g, p in zip(gold, pred, strict=True))
        fn = sum(g == label != p for g, p in zip(gold, pred, strict=True))
        scores.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    return sum(scores) / len(scores)


def report(
    name: str, gold_s: list[str], gold_u: list[str], results: list[Triage], secs: float
) -> None:
    pred_s = [r.sentiment for r in results]
    pred_u = [r.urgency[0] if r.urgency else "none" for r in results]
    acc_s = sum(g == p for g, p in zip(gold_s, pred_s, strict=True)) / len(gold_s)
    acc_u = sum(g == p for g, p in zip(gold_u, pred_u, strict=True)) / len(gold_u)
    f1_s = macro_f1(gold_s, pred_s, ["negative", "neutral", "positive"])
    f1_u = macro_f1(gold_u, pred_u, ["none", *URGENCY_FLAGS])
    print(
        f"{name:<22} sentiment acc {acc_s:.3f} macro-F1 {f1_s:.3f} | "
        f"urgency acc {acc_u:.3f} macro-F1 {f1_u:.3f} | {len(results) / secs:.1f} msg/s"
    )


PROMPT = (
    "Classify this customer message. Answer with two words: the sentiment (negative, "
    "neutral or positive) and the urgency (outage, payment, legal, churn or none).\n\n"
    "Message: {text}"
)


def load_llm_zero_shot(settings: Settings) -> Callable[[list[str]], list[Triage]]:
    """A plain zero-shot prompt of the dialogue model (transformers, greedy), loaded once."""
    import torch

    from nlp.loading import load_causal_lm

    loaded = load_causal_lm(settings.dialogue_model, cache_dir=settings.cache_dir)
    tok, model = loaded.tokenizer, loaded.model

    def classify(texts: list[str]) -> list[Triage]:
        out = []
        for text in texts:
            chat = [{"role": "user", "content": PROMPT.format(text=text)}]
            enc = tok.apply_chat_template(
                chat, add_generation_prompt=True, return_tensors="pt", return_dict=True
            )
            with torch.inference_mode():
                gen = model.generate(**enc, max_new_tokens=8, do_sample=False)
            answer = tok.decode(gen[0, enc["input_ids"].shape[1] :], skip_special_tokens=True)
            answer = answer.lower()
            sentiment = next(
                (s for s in ("negative", "positive", "neutral") if s in answer), "neutral"
            )
            flag = next((f for f in URGENCY_FLAGS if f in answer), None)
            out.append(Triage(sentiment, 1.0, (flag,) if flag else ()))  # type: ignore[arg-type]
        return out

    return classify


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--llm", action="store_true", help="also score a zero-shot LLM prompt")
    args = parser.parse_args()
    rows = [json.loads(x) for x in EVAL.read_text("utf-8").splitlines() if x.strip()]
    load_examples([json.dumps(r) for r in rows], source=str(EVAL))  # validates the labels
    texts = [r["text"] for r in rows]
    gold_s = [r["sentiment"] for r in rows]
    gold_u = [r["urgency"][0] if r["urgency"] else "none" for r in rows]
    embedder = build_embedder(load_settings())
    print(f"{len(rows)} held-out messages, embedder {embedder.name}")
    models: dict[str, Callable[[], EmbeddingTriage | ZeroShotTriage]] = {
        "parley": lambda: EmbeddingTriage(embedder),
        "parley, no lexicon": lambda: EmbeddingTriage(embedder, lexicon=False),
        "zero-shot embedding": lambda: ZeroShotTriage(embedder),
    }
    for name, factory in models.items():
        model = factory()
        start = time.perf_counter()
        results = model.triage(texts)
        report(name, gold_s, gold_u, results, time.perf_counter() - start)
    if args.llm:
        classify = load_llm_zero_shot(load_settings())  # not timed, like the heads' training
        start = time.perf_counter()
        results = classify(texts)
        report("zero-shot LLM prompt", gold_s, gold_u, results, time.perf_counter() - start)


if __name__ == "__main__":
    main()
