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
"""

from __future__ import annotations

import sys
from array import array
from collections import Counter
from collections.abc import Iterable, Sequence

import numpy as np
from scipy import sparse

from .config import BM25Variant

# rank-bm25's own defaults for the parts we do not tune.
OKAPI_EPSILON = 0.25
PLUS_DELTA = 1.0
L_DELTA = 0.5
# `build` packs an entry as tf << 24 | term id: 24 bits hold 16.7 M terms, 8 bits a
# frequency up to 255. An entry that does not fit (a word repeated 256 times in one
# passage, or a vocabulary past 16.7 M terms) is kept aside in a dict instead.
_TERM_BITS = 24
_TERM_LIMIT = 1 << _TERM_BITS
_TF_MAX = 255
# Entries counted, and weighted and scattered, at a time by `build` (a few MiB of
# temporaries each).
_COUNT_BLOCK = 1 << 16
_PIECE = 1 << 20
_BLOCK = 1 << 14


class SparseBM25:
    """BM25 over tokenized passages; `scores(query_terms)` equals rank-bm25's `get_scores`."""

    def __init__(
        self,
        vocabulary: dict[str, int],
        idf: np.ndarray,
        weights: sparse.csr_matrix,
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

        Memory: one pass over the passages records each (passage, term) entry in 4 bytes
        (term id and frequency packed, `_pack`); a second pass over them scatters the
        weights into the finished term-major arrays (a float32 weight and an int32 passage
        per entry), a block at a time. At the peak both are held, 12 bytes per entry
        against the finished 8: at 100,000 passages 1.5-1.8x the finished arrays, where
        building from lists of Python ints peaked at 10x (docs/BENCHMARKS.md).
        """
        vocabulary: dict[str, int] = {}
        # Every entry, passage after passage (`_pack`), in arrays of about _PIECE entries:
        # one array grown to the end would be reallocated and copied as it grows.
        pieces = [array("I")]
        nnz = 0
        unpacked: dict[int, tuple[int, int]] = {}  # entry -> (term, tf) that do not pack
        lengths = array("q")  # tokens per passage
        widths = array("q")  # distinct terms per passage
        for tokens in passages:
            tally = Counter(tokens)
            lengths.append(len(tokens))
            widths.append(len(tally))
            ids = [vocabulary.setdefault(term, len(vocabulary)) for term in tally]
            frequencies = tally.values()
            piece = pieces[-1]
            if len(piece) >= _PIECE:
                piece = array("I")
                pieces.append(piece)
            if ids and (max(frequencies) > _TF_MAX or len(vocabulary) > _TERM_LIMIT):
                for j, (term_id, count) in enumerate(zip(ids, frequencies, strict=True)):
                    if count > _TF_MAX or term_id >= _TERM_LIMIT:
                        unpacked[nnz + j] = (term_id, count)
                        piece.append(0)
                    else:
                        piece.append(count << _TERM_BITS | term_id)
            else:
                piece.extend([c << _TERM_BITS | t for t, c in zip(ids, frequencies, strict=True)])
            nnz += len(ids)
        n, n_terms = len(lengths), len(vocabulary)
        entries = _Entries(pieces, unpacked)
        entry_end = np.cumsum(np.frombuffer(widths, dtype=np.int64)) if n else np.zeros(0)
        doc_len = np.frombuffer(lengths, dtype=np.int64).astype(np.float64) if n else np.zeros(0)

        df = np.zeros(n_terms, dtype=np.int64)
        for lo in range(0, nnz, _COUNT_BLOCK):
            term = entries.terms(lo, min(lo + _COUNT_BLOCK, nnz))
            df += np.bincount(term, minlength=n_terms)
        idf = _idf(df.astype(np.float64), n, variant)
        avgdl = float(doc_len.mean()) if n else 0.0
        norm = 1 - b + b * doc_len / avgdl if avgdl else np.ones(n)
        zero_tf = np.full(n, PLUS_DELTA) if variant == "plus" else np.zeros(n)

        # scipy would copy int32 indices to match int64 row pointers: one dtype for both.
        index_dtype = np.int32 if max(nnz, n) < 2**31 else np.int64
        indptr = np.zeros(n_terms + 1, dtype=index_dtype)
        np.cumsum(df, out=indptr[1:])
        cursor = indptr[:-1].astype(np.int64)  # where each term's next entry goes
        indices = np.empty(nnz, dtype=index_dtype)
        data = np.empty(nnz, dtype=np.float32)
        for lo in range(0, nnz, _BLOCK):
            hi = min(lo + _BLOCK, nnz)
            col = np.searchsorted(entry_end, np.arange(lo, hi), side="right")
            term, tf = entries.block(lo, hi)
            nd = norm[col]
            if variant == "okapi":
                f_tf = tf * (k1 + 1) / (tf + k1 * nd)
            elif variant == "plus":
                f_tf = PLUS_DELTA + tf * (k1 + 1) / (k1 * nd + tf)
            else:
                # rank-bm25's BM25L multiplies by tf once more than the paper does; we
                # follow rank-bm25, whose scores are the definition here.
                ctd = tf / nd
                f_tf = tf * (k1 + 1) * (ctd + L_DELTA) / (k1 + ctd + L_DELTA)
            weight = (idf[term] * (f_tf - zero_tf[col])).astype(np.float32)
            # Stable: within a term the passages stay in increasing order, here and across
            # blocks (which follow the passage order), so each row comes out sorted.
            order = np.argsort(term, kind="stable")
            term = term[order]
            first = np.flatnonzero(np.r_[True, term[1:] != term[:-1]])
            run = np.diff(np.r_[first, len(term)])
            at = cursor[term] + (np.arange(len(term)) - np.repeat(first, run))
            indices[at] = col[order]
            data[at] = weight[order]
            cursor[term[first]] += run
        weights = sparse.csr_matrix((data, indices, indptr), shape=(n_terms, n))
        return cls(vocabulary, idf, weights, zero_tf)

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
        # The rows of the query's terms, summed per passage in float64 (in the order
        # scipy's `rows.T @ times` adds them, so the scores are the same to the bit): at
        # 1,000,000 passages 0.3 ms, where the sparse product took 1 ms.
        matched = self.weights[unique]
        per_entry = np.repeat(times, np.diff(matched.indptr))
        result: np.ndarray = np.bincount(
            matched.indices, weights=matched.data.astype(np.float64) * per_entry, minlength=n
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
        weights = sparse.csr_matrix((data, indices, indptr), shape=shape, copy=False)
        steady_heap()
        return cls({t: i for i, t in enumerate(vocabulary)}, idf, weights, zero_tf)


class _Entries:
    """The packed entries of `SparseBM25.build`, unpacked a block at a time."""

    def __init__(self, pieces: list[array], unpacked: dict[int, tuple[int, int]]) -> None:
        self.pieces = [np.frombuffer(p, dtype=np.uint32) for p in pieces if len(p)]
        self.starts = np.cumsum([0] + [len(p) for p in self.pieces])
        self.at = np.fromiter(sorted(unpacked), dtype=np.int64, count=len(unpacked))
        self.term = np.asarray([unpacked[i][0] for i in self.at.tolist()], dtype=np.int64)
        self.tf = np.asarray([unpacked[i][1] for i in self.at.tolist()], dtype=np.float64)

    def terms(self, lo: int, hi: int) -> np.ndarray:
        """Term ids of entries lo..hi, int64."""
        values = self._packed(lo, hi)
        term = (values & (_TERM_LIMIT - 1)).astype(np.int64)
        a, z = np.searchsorted(self.at, [lo, hi])
        term[self.at[a:z] - lo] = self.term[a:z]
        return term

    def block(self, lo: int, hi: int) -> tuple[np.ndarray, np.ndarray]:
        """(term ids as int64, frequencies as float64) of entries lo..hi."""
        values = self._packed(lo, hi)
        term = (values & (_TERM_LIMIT - 1)).astype(np.int64)
        tf = (values >> _TERM_BITS).astype(np.float64)
        a, z = np.searchsorted(self.at, [lo, hi])
        term[self.at[a:z] - lo] = self.term[a:z]
        tf[self.at[a:z] - lo] = self.tf[a:z]
        return term, tf

    def _packed(self, lo: int, hi: int) -> np.ndarray:
        first, last = np.searchsorted(self.starts, [lo, hi], side="right") - 1
        parts = [
            self.pieces[i][max(lo - self.starts[i], 0) : hi - self.starts[i]]
            for i in range(first, min(last + 1, len(self.pieces)))
        ]
        return parts[0] if len(parts) == 1 else np.concatenate(parts)


# glibc's malloc: requests up to this many bytes come from the heap, and up to this much
# free memory at the top of the heap is kept rather than given back (`steady_heap`).
_MMAP_THRESHOLD = 32 << 20
_TRIM_THRESHOLD = 128 << 20
_heap_steadied = False


def steady_heap() -> None:
    """Keep the large scratch arrays of every question (the scores `scores` returns and
    retrieval's top-k of them: three arrays of 8 bytes a passage) in the heap from one
    question to the next. Called when arrays are loaded (`from_arrays`).

    By default glibc gives the free memory at the top of the heap back to the system
    once it passes twice the largest block freed so far, and with the index's arrays
    memory-mapped rather than on the heap, each question got its scratch arrays as fresh
    pages, zeroed by the kernel: 620 page faults a question at 100,000 passages, and
    BM25 (query terms, scores, top-k) took 1.4 ms p50 against 0.5 ms (docs/BENCHMARKS.md).
    Fixed thresholds stop that; free memory past _TRIM_THRESHOLD still goes back. Once
    per process; nothing where malloc is not glibc's.
    """
    global _heap_steadied
    if _heap_steadied or not sys.platform.startswith("linux"):
        return
    _heap_steadied = True
    try:
        import ctypes

        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return
    m_trim_threshold, m_mmap_threshold = -1, -3  # glibc's malloc.h
    mallopt(m_mmap_threshold, _MMAP_THRESHOLD)
    mallopt(m_trim_threshold, _TRIM_THRESHOLD)


def _idf(df: np.ndarray, n: int, variant: BM25Variant) -> np.ndarray:
    if variant == "okapi":
        # rank-bm25 floors a negative idf (term in more than half the passages) to
        # epsilon * mean idf, so a very common term still counts a little.
        idf = np.log(n - df + 0.5) - np.log(df + 0.5)
        floor = OKAPI_EPSILON * (idf.sum() / len(idf)) if len(idf) else 0.0
        return np.where(idf < 0, floor, idf)
    if variant == "plus":
        return np.log((n + 1) / df)
    return np.log(n + 1) - np.log(df + 0.5)


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


__all__ = ["SparseBM25", "rank_bm25_reference"]
