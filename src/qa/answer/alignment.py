"""Word-level evidence: does a candidate say, word by word, what the question asks?

A sentence can share a question's topic (its cosine is high) and still not state the fact
asked: "Who is the CEO of GYMD?" against a sentence naming GYMD's founding. Each
informative word of the question is matched to its closest word of the candidate, by the
cosine of the embedding model's contextual token vectors (its last layer, before
pooling), so "staff" finds "employ" and "boss" finds "CEO" where term overlap cannot.
The question's words are weighted by IDF. Three readings, each of the candidate's
sentence, the sentence with the one before it, and the whole passage:

- the weakest word's best cosine (the word nothing in the candidate says);
- the IDF-weighted mean of the best cosines;
- the IDF-weighted share of words whose best cosine reaches ALIGNED.

Pure numpy over the token vectors the encoder returns with each candidate's vector
(`Embedder.read`): each candidate is read once, with the sentence before it, and its
sentence alone is the part of that reading it spans.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from ..encoder.interface import Reading
from ..language import QUESTION_FRAMING
from ..search.question import Question
from ..text import tokenize

# A question word counts as said when a candidate word's token vector is this close.
# Between unrelated words of MiniLM's last layer cosines sit around 0.2-0.4; the same
# word in another sentence scores about 0.8, a close synonym 0.5-0.7.
ALIGNED = 0.55

ALIGNMENT_FEATURES: tuple[str, ...] = tuple(
    f"align_{scope}_{reading}"
    for scope in ("sentence", "context", "passage")
    for reading in ("min", "mean", "share")
)

# texts -> how the model reads each (Embedder.read).
Read = Callable[[list[str]], list[Reading]]


@dataclass(frozen=True)
class Words:
    """A text's words: character spans (n, 2) and unit vectors (n, d), the mean of each
    word's word pieces."""

    spans: np.ndarray
    vectors: np.ndarray

    def since(self, start: int) -> np.ndarray:
        """The vectors of the words of text[start:]."""
        return self.vectors[self.spans[:, 0] >= start]


def words_of(reading: Reading) -> Words:
    """A reading's word pieces grouped into words: a piece that starts where the previous
    one ends continues its word ("Liang", "##jiang", "'", "s" is one word)."""
    offsets, vectors = reading.offsets, reading.tokens.astype(np.float32)
    if not len(offsets):
        return Words(np.zeros((0, 2), dtype=np.int64), np.zeros((0, vectors.shape[1]), np.float32))
    starts = np.ones(len(offsets), dtype=bool)
    starts[1:] = offsets[1:, 0] != offsets[:-1, 1]
    group = np.cumsum(starts) - 1
    count = int(group[-1]) + 1
    summed = np.zeros((count, vectors.shape[1]), dtype=np.float32)
    np.add.at(summed, group, vectors)
    norms = np.linalg.norm(summed, axis=1, keepdims=True)
    spans = np.stack(
        [offsets[starts, 0], np.maximum.reduceat(offsets[:, 1], np.flatnonzero(starts))], axis=1
    )
    return Words(spans, summed / np.maximum(norms, 1e-12))


@dataclass(frozen=True)
class QuestionWords:
    """The question's informative words: unit vectors (n, d) and IDF weights (n,)."""

    vectors: np.ndarray
    weights: np.ndarray

    def readings(self, candidate: np.ndarray) -> tuple[float, float, float]:
        """(weakest, weighted mean, weighted share aligned) against candidate word vectors."""
        if not len(self.weights):
            return 1.0, 1.0, 1.0
        if not len(candidate):
            return 0.0, 0.0, 0.0
        best = (self.vectors @ candidate.T).max(axis=1)
        total = float(self.weights.sum())
        return (
            float(best.min()),
            float(best @ self.weights / total),
            float(self.weights[best >= ALIGNED].sum() / total),
        )


def question_words(question: Question, read: Read) -> QuestionWords:
    """The question's words that carry its meaning (no stopwords, no framing such as
    "name" or "roughly"), weighted by the IDF of their term in the index."""
    weight_of: dict[str, float] = {}
    for term in question.terms:
        for form in term.forms:
            for token in form:
                weight_of[token] = max(weight_of.get(token, 0.0), term.weight)
    ceiling = max(weight_of.values(), default=1.0)
    words = words_of(read([question.text])[0])
    keep, weights = [], []
    for i, (start, end) in enumerate(words.spans):
        terms = [t for t in tokenize(question.text[start:end]) if t not in QUESTION_FRAMING]
        if terms:
            keep.append(i)
            # A term the index never uses is informative, and missing: the rarest weight.
            weights.append(max(weight_of.get(t, ceiling) for t in terms))
    return QuestionWords(words.vectors[keep], np.asarray(weights, dtype=np.float32))


def pooled(reading: Reading, start: int) -> np.ndarray:
    """The unit mean of the token vectors of text[start:]: the model's own mean pooling,
    over that part of its reading (a sentence read after its context)."""
    inside = reading.offsets[:, 0] >= start
    if not inside.any():
        return reading.vector
    mean = reading.tokens[inside].astype(np.float32).mean(axis=0)
    return mean / max(float(np.linalg.norm(mean)), 1e-12)


def alignment_rows(
    question: QuestionWords,
    readings: Sequence[Reading],
    starts: Sequence[int],
    passages: Sequence[int],
) -> np.ndarray:
    """One row of ALIGNMENT_FEATURES per candidate.

    Args:
        question: from question_words().
        readings: each candidate read with the sentence before it.
        starts: where the candidate's own sentence starts in that text.
        passages: which passage each candidate is of; the passage reading is every word of
            its candidates' readings.
    """
    rows = np.zeros((len(readings), len(ALIGNMENT_FEATURES)), dtype=np.float32)
    words = [words_of(r) for r in readings]
    by_passage: dict[int, list[np.ndarray]] = {}
    for w, p in zip(words, passages, strict=True):
        by_passage.setdefault(p, []).append(w.vectors)
    passage_readings = {p: question.readings(np.concatenate(v)) for p, v in by_passage.items()}
    for row, (w, start, p) in enumerate(zip(words, starts, passages, strict=True)):
        rows[row, 0:3] = question.readings(w.since(start))
        rows[row, 3:6] = question.readings(w.vectors)
        rows[row, 6:9] = passage_readings[p]
    return rows
