"""rank-bm25 itself with qa's parameters: the reference SparseBM25's scores are checked
against (tests/test_scale.py) and timed against (bench/scale.py). Not part of the
package: nothing that answers a question uses it."""

from __future__ import annotations

from collections.abc import Sequence

from qa.config import BM25Variant
from qa.index.bm25_build import L_DELTA, OKAPI_EPSILON, PLUS_DELTA


def rank_bm25_reference(
    passages: Sequence[Sequence[str]], variant: BM25Variant, k1: float, b: float
):  # type: ignore[no-untyped-def]
    """The rank-bm25 object with the same parameters: the reference `SparseBM25` matches."""
    from rank_bm25 import BM25L, BM25Okapi, BM25Plus

    corpus = [list(p) for p in passages]
    if variant == "okapi":
        return BM25Okapi(corpus, k1=k1, b=b, epsilon=OKAPI_EPSILON)
    if variant == "plus":
        return BM25Plus(corpus, k1=k1, b=b, delta=PLUS_DELTA)
    return BM25L(corpus, k1=k1, b=b, delta=L_DELTA)
