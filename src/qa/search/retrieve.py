"""Retrieval: BM25 and dense rankings over the index, fused into one ranked Hit list."""

from __future__ import annotations

import numpy as np

from ..config import Mode, Settings
from ..index import Index
from ..passage import Hit
from .question import Question


def rrf(rankings: list[list[int]], weights: list[float], k: int) -> dict[int, float]:
    """Weighted reciprocal rank fusion: score(d) = sum_i w_i / (k + rank_i(d)).

    Cormack, Clarke & Buettcher, "Reciprocal Rank Fusion outperforms Condorcet and
    individual Rank Learning Methods", SIGIR 2009. Ranks are 1-based; a list that does not
    contain d adds nothing.
    """
    fused: dict[int, float] = {}
    for ranking, weight in zip(rankings, weights, strict=True):
        for rank, item in enumerate(ranking, start=1):
            fused[item] = fused.get(item, 0.0) + weight / (k + rank)
    return fused


def blend(bm25: dict[int, float], dense: dict[int, float], dense_weight: float) -> dict[int, float]:
    """Convex combination of min-max normalized scores over the union of candidates.

    Unlike RRF, a passage far ahead on one retriever keeps its lead (a rare name that
    only BM25 sees, a paraphrase only the embedding sees). A candidate missing from one
    list gets that list's minimum (0 after normalization).
    """

    def normalized(scores: dict[int, float]) -> dict[int, float]:
        if not scores:
            return {}
        low, high = min(scores.values()), max(scores.values())
        span = high - low
        return {i: (s - low) / span if span > 0 else 1.0 for i, s in scores.items()}

    b, d = normalized(bm25), normalized(dense)
    return {
        i: (1 - dense_weight) * b.get(i, 0.0) + dense_weight * d.get(i, 0.0)
        for i in b.keys() | d.keys()
    }


def search(
    index: Index,
    question: Question,
    settings: Settings,
    k: int,
    mode: Mode,
) -> list[Hit]:
    """Rank passages for a question.

    Args:
        index: the index to search.
        question: the analysed question (its BM25 terms and unit vector).
        settings: candidate depth and fusion parameters.
        k: how many hits to return.
        mode: "hybrid" (both fused as settings.fusion says: score blending by default,
            or RRF), "bm25" or "dense".

    Returns:
        Up to k hits, best first. In bm25 mode only passages sharing a term are returned.
    """
    n = len(index.chunks)
    depth = min(max(settings.candidates, k), n)
    if depth == 0:
        return []

    bm25_scores = index.bm25.scores(question.search_terms)
    question_vector = question.vector
    bm25_order = _top(bm25_scores, depth)
    bm25_order = [i for i in bm25_order if bm25_scores[i] > 0]

    nearest = index.vectors.search(question_vector, depth)
    dense_order = [i for i, _ in nearest]
    dense_scores = dict(nearest)

    bm25_rank = {item: rank for rank, item in enumerate(bm25_order, start=1)}
    dense_rank = {item: rank for rank, item in enumerate(dense_order, start=1)}

    if mode == "bm25":
        scored = {i: float(bm25_scores[i]) for i in bm25_order}
    elif mode == "dense":
        scored = {i: dense_scores[i] for i in dense_order}
    elif settings.fusion == "rrf":
        scored = rrf(
            [bm25_order, dense_order],
            [1 - settings.dense_weight, settings.dense_weight],
            settings.rrf_k,
        )
    else:
        scored = blend(
            {i: float(bm25_scores[i]) for i in bm25_order}, dense_scores, settings.dense_weight
        )
    best = sorted(scored, key=lambda i: (-scored[i], i))[:k]
    missing = [i for i in best if i not in dense_scores]
    if missing:
        for i, v in zip(missing, index.vectors.take(missing), strict=True):
            dense_scores[i] = float(v @ question_vector)
    return [
        Hit(
            chunk=index.chunks[i],
            score=scored[i],
            bm25_rank=bm25_rank.get(i),
            dense_rank=dense_rank.get(i),
            bm25_score=float(bm25_scores[i]),
            dense_score=dense_scores[i],
        )
        for i in best
    ]


def _top(scores: np.ndarray, depth: int) -> list[int]:
    """Indices of the `depth` highest scores, best first, ties by position."""
    if depth >= len(scores):
        candidates = np.arange(len(scores))
    else:
        candidates = np.argpartition(-scores, depth - 1)[:depth]
    return sorted((int(i) for i in candidates), key=lambda i: (-scores[i], i))
