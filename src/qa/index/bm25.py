"""BM25 scores as rank-bm25 defines them, computed from a sparse term x passage matrix.

rank-bm25 is the definition: `BM25Okapi`, `BM25Plus` and `BM25L` (Trotman, Puurula &
Burgess, "Improvements to BM25 and Language Models Examined", ADCS 2014). Its
`get_scores` loops over every passage in Python for every query term (about 200 ms at
100,000 passages); here each term's weight in each passage is computed once at build
time, so a query is a sum of a few sparse rows. tests/test_scale.py checks that both give
the same scores on the real corpus.

Every variant's score is, per query term t, idf(t) * f(tf(t, d), |d|). BM25Plus and BM25L
give a passage without the term a non-zero f(0, |d|) (constant for Plus, length-dependent
for L in the paper; rank-bm25's BM25L has none), so the matrix stores f(tf) - f(0) and
the zero-frequency part is added densely.

The matrix is built by bm25_build.py, in one process (`build`) or from shards of passages
counted by many workers (`merge`); both give the same arrays.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

import numpy as np

from ..config import BM25Variant
from . import bm25_build
from .bm25_build import BM25Shard, TermRows


class SparseBM25:
    """BM25 over tokenized passages; `scores(query_terms)` equals rank-bm25's `get_scores`."""

    def __init__(
        self,
        vocabulary: dict[str, int],
        idf: np.ndarray,
        weights: TermRows,
        zero_tf: np.ndarray,
    ) -> None:
        self.vocabulary = vocabulary
        self.idf = idf
        # weights[t, d] = idf(t) * (f(tf) - f(0)); zero_tf[d] = f(0, |d|) before idf.
        # The weights are float32, computed in float64 and summed in float64 by `scores`:
        # that saves 16 MiB at 100,000 passages and moves a score by about 1e-7 of itself.
        # zero_tf (one number per passage) stays float64, or numpy would multiply it by
        # the query's idf sum in float32.
        self.weights = weights
        self.zero_tf = zero_tf
        # f(0, |d|) is one value for every passage in all three variants here (rank-bm25's
        # BM25L has no length-dependent floor): `scores` then adds it as a number rather
        # than an array of n. None when it varies.
        everywhere = float(zero_tf[0]) if len(zero_tf) else 0.0
        self._zero_tf_everywhere: float | None = (
            everywhere if bool(np.all(zero_tf == everywhere)) else None
        )

    @classmethod
    def build(
        cls, passages: Iterable[Sequence[str]], variant: BM25Variant, k1: float, b: float
    ) -> SparseBM25:
        """Args: passages as token lists (any iterable: a generator is read once, so the
        token lists need never exist all at once); variant okapi|plus|l; k1 and b as in BM25.

        Memory (bm25_build.py): one pass over the passages records each (passage, term)
        entry in 4 bytes (term id and frequency packed); a second pass over them scatters
        the weights into the finished term-major arrays (a float32 weight and an int32
        passage per entry), a block at a time. At the peak both are held, 12 bytes per
        entry against the finished 8: at 100,000 passages 1.5-1.8x the finished arrays,
        where building from lists of Python ints peaked at 10x (docs/BENCHMARKS.md).
        """
        return cls(*bm25_build.build(passages, variant, k1, b))

    @classmethod
    def merge(
        cls, shards: Iterable[BM25Shard], variant: BM25Variant, k1: float, b: float
    ) -> SparseBM25:
        """The BM25 of the shards' passages, in shard order (each shard counted by a
        worker, `BM25Shard.count`): the same arrays as `build` over all the passages."""
        return cls(*bm25_build.merge(shards, variant, k1, b))

    def scores(self, query_terms: Sequence[str]) -> np.ndarray:
        """Score of every passage, shape (n_passages,). Repeated query terms count again,
        as in rank-bm25; terms outside the vocabulary add nothing."""
        rows = [self.vocabulary[t] for t in query_terms if t in self.vocabulary]
        n = self.weights.shape[1]
        if not rows:
            return np.zeros(n)
        counts = Counter(rows)
        unique = np.fromiter(counts.keys(), dtype=np.int64)
        times = np.fromiter(counts.values(), dtype=np.float64)
        # The rows of the query's terms, summed per passage in float64 in row order (the
        # order scipy's `rows.T @ times` added them, so the scores are the same to the
        # bit): at 1,000,000 passages 0.3 ms, where the sparse product took 1 ms.
        passages, weights, lengths = self.weights.rows(unique)
        per_entry = np.repeat(times, lengths)
        result: np.ndarray = np.bincount(
            passages, weights=weights.astype(np.float64) * per_entry, minlength=n
        )
        constant = float(self.idf[unique] @ times)
        if self._zero_tf_everywhere is None:
            result += constant * self.zero_tf
        elif self._zero_tf_everywhere:
            result += constant * self._zero_tf_everywhere
        return result

    # The arrays `to_arrays` gives, each saved by index_store.py as its own .npy file, which
    # loading memory-maps (np.load(mmap_mode="r") cannot map the members of an .npz).
    ARRAYS = ("idf", "data", "indices", "indptr", "zero_tf")

    def to_arrays(self) -> dict[str, np.ndarray]:
        """Plain arrays for np.save (no pickle), by `ARRAYS` name; the vocabulary is saved
        separately. The matrix's shape is (len(indptr) - 1, len(zero_tf))."""
        return {
            "idf": self.idf,
            "data": self.weights.data,
            "indices": self.weights.indices,
            "indptr": self.weights.indptr,
            "zero_tf": self.zero_tf,
        }

    @classmethod
    def from_arrays(cls, vocabulary: list[str], arrays: dict[str, np.ndarray]) -> SparseBM25:
        """The inverse of `to_arrays`, without copying the arrays (memory-mapped ones stay
        mapped).

        Raises:
            ValueError: the arrays do not make one BM25 matrix.
        """
        idf, data, indices, indptr, zero_tf = (arrays[name] for name in cls.ARRAYS)
        if (
            any(a.ndim != 1 for a in (idf, data, indices, indptr, zero_tf))
            or idf.dtype != np.float64
            or zero_tf.dtype != np.float64
            or data.dtype != np.float32
            or indices.dtype not in (np.int32, np.int64)
            or indptr.dtype != indices.dtype
            or not len(indptr)
            or indptr[0] != 0
            or indptr[-1] != len(data)
            or len(indices) != len(data)
        ):
            raise ValueError("the BM25 arrays do not make one matrix")
        shape = (len(indptr) - 1, len(zero_tf))
        weights = TermRows(data, indices, indptr, shape)
        return cls({t: i for i, t in enumerate(vocabulary)}, idf, weights, zero_tf)


__all__ = ["BM25Shard", "SparseBM25"]
