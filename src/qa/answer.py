"""Hit list -> Answer: the sentence that answers, its citations, or an abstention.

Extractive only: every word shown as an answer is a sentence from a cited passage.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from .chunking import context
from .config import Settings
from .corpus import Document
from .index import Index
from .retrieve import Hit
from .text import QUESTION_FRAMING, tokenize, variants

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
    """The answer sentence (None when abstaining) and the passages cited, best first."""

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


@dataclass(frozen=True)
class Term:
    """A question term: how much it tells (IDF), and the token sets that count as the
    term being present (its inflections, or every word of an acronym's full name)."""

    weight: float
    forms: tuple[frozenset[str], ...]

    def found_in(self, tokens: set[str]) -> bool:
        return any(form <= tokens for form in self.forms)


def question_terms(question: str, index: Index) -> list[Term]:
    """The informative terms of a question, weighted by IDF. A term the corpus never uses
    weighs as much as the rarest one it does (it is informative, and it is missing);
    words that only frame the question ("name", "roughly") are left out."""
    vocabulary, idf = index.bm25.vocabulary, index.bm25.idf
    ceiling = float(idf.max()) if len(idf) else 1.0
    terms = []
    for term in dict.fromkeys(tokenize(question)):
        if term in QUESTION_FRAMING:
            continue
        forms = [frozenset([form]) for form in sorted(variants(term, vocabulary))]
        if term in index.acronyms:
            forms.append(frozenset(tokenize(index.acronyms[term])))
        known = [
            float(idf[vocabulary[f]])
            for form in forms
            for f in form
            if len(form) == 1 and f in vocabulary
        ]
        terms.append(Term(max(known) if known else ceiling, tuple(forms)))
    return terms


def coverage(terms: list[Term], text: str) -> float:
    """IDF-weighted share of the question's terms present in `text` (0..1)."""
    total = sum(t.weight for t in terms)
    if total <= 0:
        return 0.0
    tokens = set(tokenize(text))
    return sum(t.weight for t in terms if t.found_in(tokens)) / total


_NUMBER_WORDS = frozenset(
    """one two three four five six seven eight nine ten eleven twelve dozen dozens hundred
    hundreds thousand thousands million billion trillion half third quarter fourfold
    threefold twofold double twice""".split()
)
_MONTH_WORDS = frozenset(
    """january february march april may june july august september october november december
    monday tuesday wednesday thursday friday saturday sunday year years recently yesterday
    ago""".split()
)


def expected_answer(question: str) -> Literal["number", "time"] | None:
    """What kind of answer the question asks for, when its wording says so."""
    q = " ".join(question.lower().split())
    if re.search(
        r"\bhow (many|much)\b|\bwhat (number|percentage|share|proportion)\b|\bhow (large|big)\b", q
    ):
        return "number"
    if re.search(
        r"^when\b|\bwhen (was|were|did|does|do|is|will)\b|\b(what|which) (year|date|month|day)\b", q
    ):
        return "time"
    return None


def has_answer_type(kind: str | None, sentence: str, question: str) -> bool:
    """Whether `sentence` holds something of the expected kind that the question does not
    already contain (a question naming "2021" is not answered by its own "2021")."""
    if kind is None:
        return True
    asked = set(tokenize(question, keep_stopwords=True))
    words = [t for t in tokenize(sentence, keep_stopwords=True) if t not in asked]
    if kind == "number":
        # A year is a date, not a count: "how many" is not answered by "in 2021".
        return any(
            (t[0].isdigit() and not re.fullmatch(r"(19|20)\d\d", t))
            or t.split("-")[0] in _NUMBER_WORDS
            for t in words
        )
    return any(re.fullmatch(r"(1[89]|20)\d\d", t) or t in _MONTH_WORDS for t in words)


@dataclass(frozen=True)
class _Candidate:
    hit: int
    span: tuple[int, int]
    text: str
    lexical: float
    semantic: float
    typed: bool


def compose(
    question: str,
    question_vector: np.ndarray,
    hits: list[Hit],
    index: Index,
    encode: Callable[[list[str]], np.ndarray],
    settings: Settings,
    searched: str = "",
    k: int | None = None,
) -> Answer:
    """Choose the answering sentence among the top hits, or abstain.

    Each sentence of the top `settings.answer_passages` passages is scored by how much of
    the question's informative terms it (with the sentence before it) holds, how close
    its meaning is to the question, whether it holds the kind of answer asked for (a
    number for "how many", a date for "when"), and its passage's rank. The passage of the
    best sentence is cited first.

    Args:
        question: as asked.
        question_vector: its unit vector.
        hits: ranked passages.
        index: for term weights and documents.
        encode: texts -> unit vectors (the same model as the index).
        settings: answer_passages, sentence weights and abstention thresholds.
        searched: the question actually searched, if it differs.
        k: how many passages to cite (default: all hits).
    """
    if not hits:
        return Answer(question, None, (), True, searched)
    query = searched or question
    weights = question_terms(query, index)
    kind = expected_answer(query)
    pool = hits[: settings.answer_passages]
    candidates = _candidates(pool, index.documents, weights, kind, query)
    semantic = encode([c.text for c in candidates]) @ question_vector
    candidates = [
        _Candidate(c.hit, c.span, c.text, c.lexical, float(sim), c.typed)
        for c, sim in zip(candidates, semantic, strict=True)
    ]
    scores = [
        settings.sentence_lexical * c.lexical
        + settings.sentence_semantic * c.semantic
        + settings.sentence_type_bonus * c.typed
        - settings.sentence_rank_penalty * c.hit
        for c in candidates
    ]
    best = candidates[int(np.argmax(scores))]

    passage_coverage = max(
        coverage(weights, f"{context(h.chunk, index.documents[h.chunk.doc_id])} {h.chunk.text}")
        for h in pool
    )
    similarity = max(c.semantic for c in candidates)
    evidence = similarity + settings.evidence_coverage_weight * passage_coverage
    answerable = (
        evidence >= settings.min_evidence
        and best.typed
        and not unknown_names(query, index.bm25.vocabulary)
        and not (kind == "time" and unknown_event(weights, index.bm25.vocabulary))
    )

    citations = tuple(
        Citation(
            rank=r,
            hit=hit,
            document=index.documents[hit.chunk.doc_id],
            answer_span=best.span if answerable and r - 1 == best.hit else None,
        )
        for r, hit in enumerate(hits, start=1)
    )
    if answerable and best.hit != 0:
        # The answering passage is shown first: it is the one the answer cites.
        citations = _move_first(citations, best.hit)
    citations = citations[: k or len(citations)]
    return Answer(
        question=question,
        text=best.text if answerable else None,
        citations=citations,
        abstained=not answerable,
        searched=searched,
        coverage=passage_coverage,
        similarity=similarity,
    )


def _candidates(
    pool: list[Hit],
    documents: dict[str, Document],
    weights: list[Term],
    kind: str | None,
    question: str,
) -> list[_Candidate]:
    """Every sentence of the pool, with its lexical and answer-type features. A sentence
    is read with the one before it ("It has ..." needs its subject), but counts double."""
    found = []
    for h, hit in enumerate(pool):
        chunk = hit.chunk
        previous = context(chunk, documents[chunk.doc_id])
        for span in chunk.sentences:
            text = chunk.text[span[0] : span[1]]
            lexical = (2 * coverage(weights, text) + coverage(weights, f"{previous} {text}")) / 3
            found.append(
                _Candidate(h, span, text, lexical, 0.0, has_answer_type(kind, text, question))
            )
            previous = text
    return found


def unknown_event(terms: list[Term], vocabulary: Collection[str]) -> bool:
    """Whether the question's event verb (a regular past form: "founded", "appointed") is
    a word no article uses. A "when" question asks the date of that event; if the articles
    never name it ("When was Bosch founded?"), they do not date it, whatever year a
    nearby sentence holds."""
    return any(
        len(t.forms) == 1
        and len(word := next(iter(t.forms[0]))) > 4
        and word.endswith("ed")
        and word not in vocabulary
        for t in terms
    )


def unknown_names(question: str, vocabulary: Collection[str]) -> list[str]:
    """Capitalised names in the question (not its first word) that no article uses:
    "What is the capital of Brazil?" asks about something the corpus never mentions.
    All-capital words are left out (users abbreviate freely: "VP", "H1", "AI"), and so
    are month and day names, which are dates, not things."""
    words = re.findall(r"[^\W\d_][\w'’-]*", question)
    names = [
        w
        for w in words[1:]
        if w[0].isupper() and not w.isupper() and len(w) > 2 and w.lower() not in _MONTH_WORDS
    ]
    return [
        name
        for name in names
        if not any(form in vocabulary for t in tokenize(name) for form in variants(t, vocabulary))
    ]


def _move_first(citations: tuple[Citation, ...], position: int) -> tuple[Citation, ...]:
    ordered = [citations[position]] + [c for i, c in enumerate(citations) if i != position]
    return tuple(
        Citation(rank=r, hit=c.hit, document=c.document, answer_span=c.answer_span)
        for r, c in enumerate(ordered, start=1)
    )
