"""Rank fusion: combine ranked id lists from dense and lexical search."""

from __future__ import annotations

from collections.abc import Sequence

RRF_K = 60


def fuse_rankings(rankings: Sequence[tuple[Sequence[int], float]], rrf_k: int = RRF_K) -> list[int]:
    """Weighted reciprocal rank fusion: score(id) = sum(weight / (rrf_k + rank)), best first.

    Ties keep the order in which ids were first seen, so the first (dense) ranking wins them.
    """
    scores: dict[int, float] = {}
    for ranking, weight in rankings:
        for rank, item in enumerate(ranking, start=1):
            scores[item] = scores.get(item, 0.0) + weight / (rrf_k + rank)
    return sorted(scores, key=lambda item: -scores[item])


def fuse_scores(dense: dict[int, float], lexical: dict[int, float], weight: float) -> list[int]:
    """Score fusion: min-max normalised dense score + `weight` x BM25 score / best BM25 score.

    Unlike rank fusion, a weak lexical match barely moves a clear dense winner, while an exact
    match on a rare term (an error code, a product name) scores near the top of BM25's scale.
    Ids missing from `dense` count as the lowest dense score.
    """
    if not dense and not lexical:
        return []
    low = min(dense.values(), default=0.0)
    span = max(dense.values(), default=0.0) - low or 1.0
    top = max(lexical.values(), default=0.0) or 1.0
    ids = list(dict.fromkeys([*dense, *lexical]))
    fused = {i: (dense.get(i, low) - low) / span + weight * lexical.get(i, 0.0) / top for i in ids}
    return sorted(ids, key=lambda i: -fused[i])
