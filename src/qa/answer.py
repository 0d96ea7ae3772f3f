"""Hit list -> Answer: the sentence that answers, its citations, or an abstention.

Extractive only: every word shown as an answer is a sentence from a cited passage.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .config import Settings
from .corpus import Document
from .index import Index
from .retrieve import Hit
from .text import tokenize

NOT_FOUND = "The articles don't say."


@dataclass(frozen=True)
class Citation:
    """A cited passage: rank, the hit, its document, and where the answer sits in it."""

    rank: int
    hit: Hit
    document: Document
    # (start, end) of the answering sentence inside hit.chunk.text, or None.
    answer_span: tuple[int, int] | None = None


@dataclass(frozen=True)
class Answer:
    question: str
    text: str | None
    citations: tuple[Citation, ...]
    abstained: bool
    # The question actually searched (a follow-up folded with the conversation), and
    # the evidence behind answering or abstaining.
    searched: str = ""
    coverage: float = 0.0
    similarity: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """The object `qa ask --json` prints."""
        return {
            "question": self.question,
            "searched_question": self.searched or self.question,
            "abstained": self.abstained,
            "answer": self.text,
            "coverage": round(self.coverage, 4),
            "similarity": round(self.similarity, 4),
            "passages": [
                {
                    "rank": c.rank,
                    "doc_id": c.document.id,
                    "title": c.document.title,
                    "date": c.document.date,
                    "source": c.document.source,
                    "chunk_id": c.hit.chunk.id,
                    "start": c.hit.chunk.start,
                    "end": c.hit.chunk.end,
                    "text": c.hit.chunk.text,
                    "score": round(c.hit.score, 6),
                    "bm25_rank": c.hit.bm25_rank,
                    "dense_rank": c.hit.dense_rank,
                    "answer_span": list(c.answer_span) if c.answer_span else None,
                }
                for c in self.citations
            ],
        }


def term_weights(terms: list[str], index: Index) -> dict[str, float]:
    """IDF of each distinct question term; a term the corpus never uses weighs as much as
    the rarest term it does use (it is informative, and it is missing)."""
    vocabulary, idf = index.bm25.vocabulary, index.bm25.idf
    ceiling = float(idf.max()) if len(idf) else 1.0
    return {t: float(idf[vocabulary[t]]) if t in vocabulary else ceiling for t in dict.fromkeys(terms)}


def coverage(weights: dict[str, float], text: str) -> float:
    """IDF-weighted share of the question's terms that occur in `text` (0..1)."""
    total = sum(weights.values())
    if total <= 0:
        return 0.0
    present = set(tokenize(text))
    return sum(w for t, w in weights.items() if t in present) / total


def compose(
    question: str,
    terms: list[str],
    question_vector: np.ndarray,
    hits: list[Hit],
    index: Index,
    encode: Callable[[list[str]], np.ndarray],
    settings: Settings,
    searched: str = "",
) -> Answer:
    """Choose the answering sentence among the top hits, or abstain.

    Args:
        question: as asked.
        terms: its BM25 terms (with acronym expansion).
        question_vector: its unit vector.
        hits: ranked passages.
        index: for term weights and documents.
        encode: texts -> unit vectors (the same model as the index).
        settings: answer_passages, the sentence weights and abstention thresholds.
        searched: the question actually searched, if it differs.
    """
    weights = term_weights(terms, index)
    if not hits:
        return Answer(question, None, (), True, searched)

    pool = hits[: settings.answer_passages]
    candidates: list[tuple[int, tuple[int, int], str]] = []
    for h, hit in enumerate(pool):
        for span in hit.chunk.sentences:
            candidates.append((h, span, hit.chunk.text[span[0] : span[1]]))
    sentence_vectors = encode([hit_sentence_context(pool[h], text) for h, _, text in candidates])
    semantic = sentence_vectors @ question_vector
    scores = []
    for (h, _, text), sim in zip(candidates, semantic, strict=True):
        lexical = coverage(weights, text)
        scores.append(
            settings.sentence_lexical * lexical + (1 - settings.sentence_lexical) * float(sim)
            - settings.sentence_rank_penalty * h
        )
    best = int(np.argmax(scores))
    best_hit, best_span, best_text = candidates[best]

    top = hits[0]
    passage_coverage = max(coverage(weights, f"{hit.chunk.context} {hit.chunk.text}") for hit in pool)
    similarity = max(float(semantic.max()), max(hit.dense_score for hit in pool))
    answerable = is_answerable(passage_coverage, similarity, settings)

    citations = tuple(
        Citation(
            rank=r,
            hit=hit,
            document=index.documents[hit.chunk.doc_id],
            answer_span=best_span if answerable and r - 1 == best_hit else None,
        )
        for r, hit in enumerate(hits, start=1)
    )
    if answerable and best_hit != 0:
        # The answering passage is shown first: it is the one the answer cites.
        citations = _move_first(citations, best_hit)
    del top
    return Answer(
        question=question,
        text=best_text if answerable else None,
        citations=citations,
        abstained=not answerable,
        searched=searched,
        coverage=passage_coverage,
        similarity=similarity,
    )


def hit_sentence_context(hit: Hit, sentence: str) -> str:
    return sentence


def is_answerable(passage_coverage: float, similarity: float, settings: Settings) -> bool:
    """Answer when the best passage holds enough of the question's informative terms, or
    is close enough in meaning; near misses fail both."""
    return passage_coverage >= settings.min_coverage or similarity >= settings.min_similarity


def _move_first(citations: tuple[Citation, ...], position: int) -> tuple[Citation, ...]:
    ordered = [citations[position]] + [c for i, c in enumerate(citations) if i != position]
    return tuple(
        Citation(rank=r, hit=c.hit, document=c.document, answer_span=c.answer_span)
        for r, c in enumerate(ordered, start=1)
    )
