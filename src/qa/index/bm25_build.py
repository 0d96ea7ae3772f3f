"""Building the BM25 matrix that `SparseBM25` (bm25.py) scores with: in one process, or
per shard of passages on many workers and merged.

Both ways make the same two passes. The counting pass records every (passage, term)
entry in 4 bytes (`_Tally`); the weighting pass scatters the weights into the finished
term-major arrays a block at a time (`weigh`). A shard (`BM25Shard`) is the counting pass
over a run of consecutive passages, with its own vocabulary; `merge` renumbers the shards'
terms in passage order and feeds the same weighting pass, so a merged matrix is the
matrix one process builds, array for array.
"""

from __future__ import annotations

from array import array
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from ..config import BM25Variant

# rank-bm25's own defaults for the parts we do not tune.
OKAPI_EPSILON = 0.25
PLUS_DELTA = 1.0
L_DELTA = 0.5
# An entry is packed as tf << 24 | term id: 24 bits hold 16.7 M terms, 8 bits a
# frequency up to 255. An entry that does not fit (a word repeated 256 times in one
# passage, or a vocabulary past 16.7 M terms) is kept aside in a dict instead.
_TERM_BITS = 24
_TERM_LIMIT = 1 << _TERM_BITS
_TF_MAX = 255
# Entries counted, and weighted and scattered, at a time by `weigh` (a few MiB of
# temporaries each); entries per packed array while counting.
_COUNT_BLOCK = 1 << 16
_PIECE = 1 << 20
_BLOCK = 1 << 14


@dataclass(frozen=True)
class TermRows:
    """The BM25 weights, term-major: row t holds `data[indptr[t]:indptr[t + 1]]` for the
    passages `indices[indptr[t]:indptr[t + 1]]`, in increasing passage order (the layout
    of a CSR matrix, without scipy: importing scipy.sparse took about 95 ms of a fresh
    `qa ask`, and a question only ever reads a few rows)."""

    data: np.ndarray
    indices: np.ndarray
    indptr: np.ndarray
    shape: tuple[int, int]  # (terms, passages)

    def rows(self, terms: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(passages, weights, entries per row) of `terms`' rows, one after another in
        the order given."""
        starts, ends = self.indptr[terms], self.indptr[terms + 1]
        passages = np.concatenate([self.indices[a:b] for a, b in zip(starts, ends, strict=True)])
        weights = np.concatenate([self.data[a:b] for a, b in zip(starts, ends, strict=True)])
        return passages, weights, (ends - starts).astype(np.int64)


Weights = tuple[dict[str, int], np.ndarray, TermRows, np.ndarray]


class _Tally:
    """The counting pass: the vocabulary in first-appearance order, and each passage's
    distinct terms with their frequencies, passage after passage (`_pack`)."""

    def __init__(self) -> None:
        self.vocabulary: dict[str, int] = {}
        # Arrays of about _PIECE entries: one array grown to the end would be
        # reallocated and copied as it grows.
        self.pieces: list[array | np.ndarray] = [array("I")]
        self.nnz = 0
        self.unpacked: dict[int, tuple[int, int]] = {}  # entry -> (term, tf) that do not pack
        self.lengths = array("q")  # tokens per passage
        self.widths = array("q")  # distinct terms per passage

    def add(self, tokens: Sequence[str]) -> None:
        """One passage's tokens."""
        tally = Counter(tokens)
        vocabulary = self.vocabulary
        self.lengths.append(len(tokens))
        self.widths.append(len(tally))
        ids = [vocabulary.setdefault(term, len(vocabulary)) for term in tally]
        frequencies = tally.values()
        piece = self.pieces[-1]
        if not isinstance(piece, array) or len(piece) >= _PIECE:
            piece = array("I")
            self.pieces.append(piece)
        if ids and (max(frequencies) > _TF_MAX or len(vocabulary) > _TERM_LIMIT):
            for j, (term_id, count) in enumerate(zip(ids, frequencies, strict=True)):
                if count > _TF_MAX or term_id >= _TERM_LIMIT:
                    self.unpacked[self.nnz + j] = (term_id, count)
                    piece.append(0)
                else:
                    piece.append(count << _TERM_BITS | term_id)
        else:
            piece.extend([c << _TERM_BITS | t for t, c in zip(ids, frequencies, strict=True)])
        self.nnz += len(ids)

    def extend(
        self, terms: np.ndarray, tfs: np.ndarray, widths: np.ndarray, lengths: np.ndarray
    ) -> None:
        """Many passages' entries at once, their term ids already this tally's."""
        terms = terms.astype(np.int64, copy=False)
        tfs = tfs.astype(np.int64, copy=False)
        fits = (tfs <= _TF_MAX) & (terms < _TERM_LIMIT)
        packed = np.where(fits, tfs << _TERM_BITS | terms, 0).astype(np.uint32)
        for j in np.flatnonzero(~fits).tolist():
            self.unpacked[self.nnz + j] = (int(terms[j]), int(tfs[j]))
        self.pieces.append(packed)
        self.nnz += len(packed)
        self.widths.frombytes(widths.astype(np.int64).tobytes())
        self.lengths.frombytes(lengths.astype(np.int64).tobytes())

    def entries(self) -> _Entries:
        return _Entries(self.pieces, self.unpacked)


@dataclass(frozen=True)
class BM25Shard:
    """The counting pass over a run of consecutive passages, as plain arrays (what a
    worker sends back): its own vocabulary in first-appearance order, and per entry
    (passage after passage, each passage's terms in first-appearance order) a term id
    into that vocabulary and a frequency."""

    terms: list[str]
    term_ids: np.ndarray  # uint32, one per (passage, term) entry
    tfs: np.ndarray  # uint32, the term's frequency in that passage
    widths: np.ndarray  # int64, distinct terms per passage
    lengths: np.ndarray  # int64, tokens per passage
    df: np.ndarray  # int64, passages of the shard holding each term

    @classmethod
    def count(cls, passages: Iterable[Sequence[str]]) -> BM25Shard:
        """The shard of `passages` (token lists)."""
        tally = _Tally()
        for tokens in passages:
            tally.add(tokens)
        terms, tfs = tally.entries().block(0, tally.nnz)
        return cls(
            terms=list(tally.vocabulary),
            term_ids=terms.astype(np.uint32),
            tfs=tfs.astype(np.uint32),
            widths=_int64(tally.widths).copy(),
            lengths=_int64(tally.lengths).copy(),
            df=np.bincount(terms, minlength=len(tally.vocabulary)).astype(np.int64),
        )


def build(passages: Iterable[Sequence[str]], variant: BM25Variant, k1: float, b: float) -> Weights:
    """(vocabulary, idf, weights, zero_tf) of `passages` (token lists, read once)."""
    tally = _Tally()
    for tokens in passages:
        tally.add(tokens)
    return weigh(tally, None, variant, k1, b)


def merge(shards: Iterable[BM25Shard], variant: BM25Variant, k1: float, b: float) -> Weights:
    """What `build` gives for the shards' passages, in shard order.

    A term's id is its first appearance in passage order, as in `build`: the shards'
    terms new to the merged vocabulary come in each shard's first-appearance order.
    Each shard's entries are renumbered and packed as it comes (4 bytes an entry), so
    the shards need not be held all at once.
    """
    tally = _Tally()
    df = np.zeros(0, dtype=np.int64)
    for shard in shards:
        vocabulary = tally.vocabulary
        renumber = np.fromiter(
            (vocabulary.setdefault(t, len(vocabulary)) for t in shard.terms),
            dtype=np.int64,
            count=len(shard.terms),
        )
        tally.extend(renumber[shard.term_ids], shard.tfs, shard.widths, shard.lengths)
        if len(vocabulary) > len(df):  # grown by doubling: one copy per doubling
            grown = np.zeros(max(len(vocabulary), 2 * len(df)), dtype=np.int64)
            grown[: len(df)] = df
            df = grown
        df[renumber] += shard.df  # a shard's terms are distinct: no index repeats
    return weigh(tally, df[: len(tally.vocabulary)], variant, k1, b)


def weigh(
    tally: _Tally, df: np.ndarray | None, variant: BM25Variant, k1: float, b: float
) -> Weights:
    """The weighting pass over a tally; `df` (passages holding each term) is counted
    from the entries when not given."""
    n, n_terms, nnz = len(tally.lengths), len(tally.vocabulary), tally.nnz
    entries = tally.entries()
    entry_end = np.cumsum(_int64(tally.widths))
    doc_len = _int64(tally.lengths).astype(np.float64)
    if df is None:
        df = np.zeros(n_terms, dtype=np.int64)
        for lo in range(0, nnz, _COUNT_BLOCK):
            term = entries.terms(lo, min(lo + _COUNT_BLOCK, nnz))
            df += np.bincount(term, minlength=n_terms)
    idf = _idf(df.astype(np.float64), n, variant)
    avgdl = float(doc_len.mean()) if n else 0.0
    norm = 1 - b + b * doc_len / avgdl if avgdl else np.ones(n)
    zero_tf = np.full(n, PLUS_DELTA) if variant == "plus" else np.zeros(n)

    # One dtype for passage ids and row pointers (scipy, which read these arrays before
    # TermRows did, would have copied int32 ids to match int64 pointers).
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
    weights = TermRows(data, indices, indptr, (n_terms, n))
    return tally.vocabulary, idf, weights, zero_tf


class _Entries:
    """A tally's packed entries, unpacked a block at a time."""

    def __init__(self, pieces: list[array | np.ndarray], unpacked: dict[int, tuple[int, int]]):
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
        if lo >= hi:
            return np.zeros(0, dtype=np.uint32)
        first, last = np.searchsorted(self.starts, [lo, hi], side="right") - 1
        parts = [
            self.pieces[i][max(lo - self.starts[i], 0) : hi - self.starts[i]]
            for i in range(first, min(last + 1, len(self.pieces)))
        ]
        return parts[0] if len(parts) == 1 else np.concatenate(parts)


def _int64(values: array) -> np.ndarray:
    return np.frombuffer(values, dtype=np.int64) if len(values) else np.zeros(0, dtype=np.int64)


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
