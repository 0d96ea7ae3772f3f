"""Hit list -> Answer: the sentence that answers, its citations, or an abstention.

Extractive only: every word shown as an answer is a sentence from a cited passage (or a
lead-in sentence and the one it introduces). Which candidate answers, and whether to
answer at all, is the learned answer model's decision (`model.py`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from ..config import Settings
from ..documents.chunking import SECTION_SEPARATOR
from ..documents.corpus import Document
from ..language import asks_for_metadata
from ..passage import Hit
from ..search.question import Question
from .alignment import Read
from .features import COLUMN, Candidate, Pool, read_pool
from .model import AnswerModel, sigmoid
from .question_features import QUESTION_FEATURES, question_row

if TYPE_CHECKING:
    from .spans import Span, SpanModel

NOT_FOUND = "The documents don't say."
# Said before the closest sentence when the evidence is between the two thresholds.
HEDGE = "The documents may not say this. The closest they come:"


@dataclass(frozen=True)
class Citation:
    """A cited passage: rank, the hit, its document, and where the answer sits in it."""

    rank: int
    hit: Hit
    document: Document
    # (start, end) of the answering sentence inside hit.chunk.text, or None.
    answer_span: tuple[int, int] | None = None
    # (start, end) of the short answer inside hit.chunk.text (within answer_span), or None.
    short_span: tuple[int, int] | None = None

    @property
    def page(self) -> int | None:
        """The 1-based page the passage is on (PDF), or None."""
        return self.document.page_at(self.hit.chunk.start)

    @property
    def where(self) -> str:
        """The page as the document's kind names it: "p. 3", "slide 4", "row 12" ("" for
        an unpaged document)."""
        return self.document.cite_pages([self.page]) if self.page else ""

    @property
    def section(self) -> str | None:
        """The section the passage stands in ("4 Encoding › 4.3 Encoding functions"), or
        None for a document without headings."""
        path = self.document.section_path(self.hit.chunk.start)
        return SECTION_SEPARATOR.join(path) if path else None

    @property
    def label(self) -> str:
        """How the passage is cited: "Manual, § 4.3 Encoding functions, p. 15 (2023-04-24)"."""
        section = f", § {self.section}" if self.section else ""
        page = f", {self.where}" if self.page else ""
        date = f" ({self.document.date})" if self.document.date else ""
        return f"{self.document.title}{section}{page}{date}"


@dataclass(frozen=True)
class Answer:
    """The answer sentence (None when abstaining) and the passages cited, best first."""

    question: str
    text: str | None
    citations: tuple[Citation, ...]
    abstained: bool
    # The question as searched: the asked one, or a follow-up folded with the
    # conversation. Both with their whitespace folded (engine.check_question). Then the
    # evidence behind answering or abstaining.
    searched: str
    coverage: float = 0.0
    similarity: float = 0.0
    # The answer model's probability that the answer is right (abstain below threshold).
    confidence: float = 0.0
    # Between the two thresholds: `text` is the closest sentence, not a sure answer.
    hedged: bool = False
    # Below this probability qa abstains; whether it was set by the user's verdicts for
    # this index (verdicts.py) rather than shipped with the model.
    threshold: float = 0.0
    calibrated: bool = False
    # The answer model's input, by feature name (question_features.QUESTION_FEATURES):
    # kept with a user's verdict on this answer.
    features: Mapping[str, float] = field(default_factory=dict)
    # The short answer inside `text` (spans.py), or None: the sentence is the answer.
    span: Span | None = None

    @property
    def span_text(self) -> str | None:
        return self.span.text if self.span is not None else None

    @property
    def rewritten(self) -> bool:
        """Whether the question searched differs from the one asked."""
        return self.searched != self.question

    @property
    def answer_document(self) -> Document | None:
        """The document the answer is quoted from (its date says when it was stated)."""
        return self.citations[0].document if self.text is not None and self.citations else None

    def to_dict(self) -> dict[str, Any]:
        """The object `qa ask --json` prints."""
        return {
            "question": self.question,
            "searched_question": self.searched,
            "abstained": self.abstained,
            "hedged": self.hedged,
            "answer": self.text,
            # The short answer inside it, and where it is in passages[0]["text"].
            "answer_span_text": self.span_text,
            "answer_span_text_range": list(self.citations[0].short_span)
            if self.span is not None and self.citations and self.citations[0].short_span
            else None,
            "answer_date": self.answer_document.date if self.answer_document else None,
            "confidence": round(self.confidence, 4),
            "threshold": round(self.threshold, 4),
            "threshold_from": "verdicts" if self.calibrated else "answer model",
            "coverage": round(self.coverage, 4),
            "similarity": round(self.similarity, 4),
            "passages": [
                {
                    "rank": c.rank,
                    "doc_id": c.document.id,
                    "title": c.document.title,
                    "date": c.document.date,
                    "source": c.document.source,
                    "author": c.document.author,
                    "page": c.page,
                    # What the page is, and how the citation names it ("slide 4").
                    "page_kind": c.document.page_kind if c.page else None,
                    "where": c.where or None,
                    "section": c.section,
                    "chunk_id": c.hit.chunk.id,
                    "start": c.hit.chunk.start,
                    "end": c.hit.chunk.end,
                    "text": c.hit.chunk.text,
                    "score": round(c.hit.score, 6),
                    "bm25_rank": c.hit.bm25_rank,
                    "dense_rank": c.hit.dense_rank,
                    "answer_span": list(c.answer_span) if c.answer_span else None,
                    "answer_span_text_range": list(c.short_span) if c.short_span else None,
                }
                for c in self.citations
            ],
        }


@dataclass(frozen=True)
class Scored:
    """What the answer model saw and said for one question: the candidates, their feature
    rows and sentence scores, the question's row and the probability of answering right."""

    pool: Pool
    logits: np.ndarray
    row: np.ndarray
    probability: float

    @property
    def found(self) -> list[Candidate]:
        return self.pool.found

    @property
    def matrix(self) -> np.ndarray:
        return self.pool.matrix


@dataclass(frozen=True)
class AnswerStep:
    """What choosing an answer reads besides the question and its hits, fixed for one
    index: its documents (for context and dates), how the model reads a text
    (Embedder.read: the same model as the index), the answer model, and how many of the
    top passages hold candidates (settings.answer_passages)."""

    documents: Mapping[str, Document]
    read: Read
    model: AnswerModel
    passages: int
    # The short answer inside the sentence; None: no span is ever shown.
    spans: SpanModel | None = None

    @classmethod
    def of(
        cls,
        documents: Mapping[str, Document],
        read: Read,
        model: AnswerModel,
        settings: Settings,
        spans: SpanModel | None = None,
    ) -> AnswerStep:
        return cls(documents, read, model, settings.answer_passages, spans)

    def score(self, question: Question, hits: list[Hit]) -> Scored:
        """Score every candidate of the top passages, then the question."""
        pool = read_pool(question, hits[: self.passages], self.documents, self.read)
        model = self.model
        logits = model.sentence.logits(pool.matrix) if pool.found else np.zeros(0)
        row = question_row(question, hits, pool, logits)
        probability = (
            float(sigmoid(model.answerable.logits(row[None, :])[0])) if pool.found else 0.0
        )
        return Scored(pool, logits, row, probability)

    def compose(
        self, question: Question, hits: list[Hit], asked: str | None = None, k: int | None = None
    ) -> Answer:
        """Choose the answer among the top hits' candidates, or abstain.

        Args:
            question: the analysed question that was searched.
            hits: ranked passages.
            asked: the question as the user asked it (whitespace folded), when it differs
                from question.text (a follow-up folded with the conversation).
            k: how many passages to cite (default: all hits).
        """
        asked = asked or question.text
        documents, model = self.documents, self.model
        if not hits:
            return Answer(asked, None, (), True, question.text)
        metadata = _from_metadata(question, hits, documents, asked, k)
        if metadata is not None:
            return metadata
        scored = self.score(question, hits)
        if not scored.found:
            citations = _cite(hits, documents, None)[:k]
            return Answer(
                asked,
                None,
                citations,
                True,
                question.text,
                threshold=model.hedge,
                calibrated=model.calibrated,
            )
        best = _prefer_newer(scored, hits, documents, model.close)
        # At or above the threshold: the answer. Between the hedge and it: the closest
        # sentence, said to be no more than that. Below the hedge: the documents don't say.
        shown = scored.probability >= model.hedge
        hedged = shown and scored.probability < model.threshold
        chosen = scored.found[best]
        span = self._span(question, scored, best) if shown and not hedged else None
        citations = _cite(hits, documents, chosen if shown else None, span)
        return Answer(
            question=asked,
            text=chosen.text if shown else None,
            citations=citations[: k or len(citations)],
            abstained=not shown,
            searched=question.text,
            hedged=hedged,
            coverage=float(scored.matrix[best, COLUMN["coverage_passage"]]),
            similarity=float(scored.matrix[:, COLUMN["cosine"]].max()),
            confidence=scored.probability,
            threshold=model.hedge,
            calibrated=model.calibrated,
            features=dict(zip(QUESTION_FEATURES, map(float, scored.row), strict=True)),
            span=span,
        )

    def _span(self, question: Question, scored: Scored, best: int) -> Span | None:
        """The short answer inside the chosen sentence (or sentences: a lead-in and what it
        introduces); none for a question asking for several things or for a reason,
        whose answer is the sentence itself."""
        chosen = scored.found[best]
        if self.spans is None or question.asks_several or question.kind == "reason":
            return None
        pool = scored.pool
        start = len(chosen.read_with) - len(chosen.text)
        return self.spans.choose(
            question, chosen.text, pool.readings[best], start, pool.question_words
        )


def _from_metadata(
    question: Question,
    hits: list[Hit],
    documents: Mapping[str, Document],
    asked: str,
    k: int | None,
) -> Answer | None:
    """ "Who wrote ...?" answered by the author field of the best passage's document, and
    "What is the title of ...?" by its title: what a byline or title line would say,
    read from the metadata rather than quoted from the page. None when the question
    asks neither, or that document does not record it."""
    wanted = asks_for_metadata(question.text)
    if not wanted:
        return None
    document = documents[hits[0].chunk.doc_id]
    value = document.author if wanted == "author" else document.title
    if not value:
        return None
    citations = _cite(hits, documents, None)
    return Answer(
        question=asked,
        text=value,
        citations=citations[: k or len(citations)],
        abstained=False,
        searched=question.text,
        confidence=1.0,
    )


def _prefer_newer(
    scored: Scored, hits: list[Hit], documents: Mapping[str, Document], close: float
) -> int:
    """The best candidate; but when another one from a newer dated document holds a
    figure and the model scores the two as close, the newer statement ("79 digital
    workshops" on 2023-04-24 over an undated "60"). Dates decide only near-ties.

    Close is measured by the sentence model's own choice probabilities, a softmax over the
    question's candidates: a sigmoid of each score saturates near 1, where two sentences
    the model tells apart clearly (logits 5.0 and 4.5: chosen 62% against 38%) differ by
    0.004, and a newer sentence that does not answer was quoted instead."""
    shifted = np.exp(scored.logits - scored.logits.max())
    probabilities = shifted / shifted.sum()
    best = int(np.argmax(probabilities))
    number = COLUMN["new_number"]

    def dated(i: int) -> str:
        return documents[hits[scored.found[i].hit].chunk.doc_id].date or ""

    if not scored.matrix[best, number]:
        return best
    rivals = [
        i
        for i in range(len(scored.found))
        if probabilities[best] - probabilities[i] < close
        and scored.matrix[i, number]
        and dated(i) > dated(best)
    ]
    return max(rivals, key=lambda i: (dated(i), probabilities[i])) if rivals else best


def _cite(
    hits: list[Hit],
    documents: Mapping[str, Document],
    chosen: Candidate | None,
    span: Span | None = None,
) -> tuple[Citation, ...]:
    """The hits as citations; the answering passage first, its answer sentence marked and
    the short answer inside it."""
    order = list(range(len(hits)))
    if chosen is not None and chosen.hit != 0:
        # The answering passage is shown first: it is the one the answer cites.
        order = [chosen.hit] + [i for i in order if i != chosen.hit]
    return tuple(
        Citation(
            rank=r,
            hit=hits[i],
            document=documents[hits[i].chunk.doc_id],
            answer_span=chosen.span if chosen is not None and i == chosen.hit else None,
            short_span=(chosen.span[0] + span.start, chosen.span[0] + span.end)
            if chosen is not None and span is not None and i == chosen.hit
            else None,
        )
        for r, i in enumerate(order, start=1)
    )
