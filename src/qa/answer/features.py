"""The signals the answer model reads: one row per candidate answer
(the question's row is in question_features.py).

A candidate is a sentence of one of the top passages, or a sentence together with the
one it introduces: a lead-in ("... the following cities:") or any sentence followed by
a list ("... composed of 7 first-level indicators." + "The first-level indicators are
A, B, C and D."). Every feature
is a plain number computed from the question analysis, the ranked passages and the
sentence's own text, so the same code serves training (`train/train_answer_model.py`)
and answering, and nothing in it names a corpus.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from ..documents.chunking import context
from ..documents.corpus import Document
from ..encoder.embedding import Reading
from ..language import (
    asks_for_metadata,
    is_furniture,
    is_lead_in,
    is_list,
    mentions_number,
    mentions_time,
    names,
)
from ..passage import Hit
from ..search.question import Question, coverage_of
from ..text import tokenize
from .alignment import ALIGNMENT_FEATURES, Read, alignment_rows, pooled, question_words

# A passage a retriever did not return counts as ranked just past its candidate depth.
UNRANKED = 100

CANDIDATE_FEATURES: tuple[str, ...] = (
    "coverage",  # IDF-weighted share of the question's terms in the sentence
    "coverage_context",  # ... in the sentence read after the one before it
    "coverage_passage",  # ... in the whole passage with its title and context
    "coverage_gap",  # coverage minus the best coverage among the candidates
    "coverage_context_gap",
    "bigrams",  # share of the question's word pairs the sentence repeats
    "bigrams_context",
    "missing_rarest",  # the question's rarest term is in neither sentence nor context
    "names_missing",  # share of the question's names its passage (and title) never uses
    "cosine",  # cosine of question and sentence
    "cosine_context",  # ... of question and (previous sentence + sentence)
    "cosine_passage",  # ... of question and passage (the dense retriever's score)
    "cosine_gap",  # cosine minus the best cosine among the candidates
    "cosine_context_gap",
    "passage_rank",  # 0 for the top passage
    "top_passage",
    "fused_score",
    "bm25_rank_log",
    "dense_rank_log",
    "sentence_position",  # 0 for the passage's first sentence
    "document_opening",  # the document's first sentence (often a headline restated)
    "words_log",
    "novelty",  # share of the sentence's words the question does not use
    "new_number",  # holds a number the question does not
    "new_time",  # holds a date, year, decade or century the question does not
    "new_name",  # holds a capitalised name the question does not
    "new_names_log",  # how many: a list of names is a list
    "commas_log",  # commas and semicolons: lists are written with them
    "heading",  # no closing punctuation: a heading or caption line, rarely an answer
    "asks_number_has_number",
    "asks_time_has_time",
    "asks_person_has_name",
    "asks_place_has_name",
    "asks_reason",
    "asks_other",
    "lead_in",  # announces what follows
    "pair",  # a lead-in with the sentence it introduces
    "introduces",  # a sentence alone that has such a pair: the list it announces follows
    # Word-level evidence (alignment.py): each question word's closest candidate word.
    *ALIGNMENT_FEATURES,
)


# Where each candidate feature sits in a row.
COLUMN = {name: i for i, name in enumerate(CANDIDATE_FEATURES)}
ALIGNED_COLUMNS = [COLUMN[name] for name in ALIGNMENT_FEATURES]


@dataclass(frozen=True)
class Candidate:
    """A candidate answer: `span` is (start, end) inside pool[hit].chunk.text."""

    hit: int
    span: tuple[int, int]
    text: str
    type_match: bool


@dataclass(frozen=True)
class Pool:
    """A question's candidates and what the answer model reads of them: one row of
    CANDIDATE_FEATURES per candidate, and `coverage_beyond` of the passages."""

    found: list[Candidate]
    matrix: np.ndarray
    covered: tuple[float, float, float]


def read_pool(
    question: Question,
    pool: list[Hit],
    documents: Mapping[str, Document],
    read: Read,
) -> Pool:
    """The candidates of `pool` (the top passages) with their features: the one place
    answering (`answer.score_pool`) and training compute them. Each candidate is read by
    the model once, after the sentence before it (`read`): that reading gives its vector
    with context, its sentence's vector (the pooled span) and the word-level evidence."""
    found, read_with = candidates(question, pool, documents)
    readings = read(read_with) if found else []
    # Where each candidate's own sentence starts in the text it is read as.
    starts = [len(w) - len(c.text) for c, w in zip(found, read_with, strict=True)]
    matrix = candidate_matrix(question, pool, documents, found, readings, starts, read_with)
    if len(found):
        matrix[:, ALIGNED_COLUMNS] = alignment_rows(
            question_words(question, read), readings, starts, [c.hit for c in found]
        )
    return Pool(found, matrix, coverage_beyond(question, pool, documents))


def candidates(
    question: Question, pool: list[Hit], documents: Mapping[str, Document]
) -> tuple[list[Candidate], list[str]]:
    """Every candidate of the pool, and the text each is read with (the sentence before
    it and the sentence: "It has ..." needs its subject)."""
    found: list[Candidate] = []
    read_with: list[str] = []
    # A heading, title line, byline or page footer is never the answer, unless the
    # question asks for a title or an author.
    keep_furniture = asks_for_metadata(question.text)
    for h, hit in enumerate(pool):
        chunk = hit.chunk
        document = documents[chunk.doc_id]
        previous = context(chunk, document)
        spans = chunk.sentences
        for i, span in enumerate(spans):
            text = chunk.text[span[0] : span[1]]
            if not keep_furniture and is_furniture(text, document.title):
                previous = text
                continue
            found.append(Candidate(h, span, text, _type_match(question, text)))
            read_with.append(f"{previous} {text}".strip())
            following = chunk.text[slice(*spans[i + 1])] if i + 1 < len(spans) else ""
            if following and (is_lead_in(text) or is_list(following)):
                pair = (span[0], spans[i + 1][1])
                pair_text = chunk.text[pair[0] : pair[1]]
                found.append(Candidate(h, pair, pair_text, _type_match(question, pair_text)))
                read_with.append(f"{previous} {pair_text}".strip())
            previous = text
    return found, read_with


def candidate_matrix(
    question: Question,
    pool: list[Hit],
    documents: Mapping[str, Document],
    found: list[Candidate],
    readings: list[Reading],
    starts: list[int],
    read_with: list[str],
) -> np.ndarray:
    """One row of CANDIDATE_FEATURES per candidate (the alignment columns left at 0)."""
    if not found:
        return np.zeros((0, len(CANDIDATE_FEATURES)), dtype=np.float32)
    cosines = np.array(
        [pooled(r, s) @ question.vector for r, s in zip(readings, starts, strict=True)]
    )
    cosines_context = np.array([r.vector @ question.vector for r in readings])
    passage_texts = [f"{context(h.chunk, documents[h.chunk.doc_id])} {h.chunk.text}" for h in pool]
    passage_coverage = [coverage_of(question.terms, _terms(text)) for text in passage_texts]
    passage_names = [_names_missing(question, text) for text in passage_texts]
    kind = question.kind
    rarest = max(question.terms, key=lambda t: t.weight) if question.terms else None
    # Where a pair starts: the sentence alone that starts there announces what follows.
    paired = {(c.hit, c.span[0]) for c in found if _is_pair(c, pool[c.hit])}
    rows = []
    for c, cos, cos_ctx, with_context in zip(
        found, cosines, cosines_context, read_with, strict=True
    ):
        hit = pool[c.hit]
        tokens = _words(c.text)
        context_tokens = _words(with_context)
        words = [t for t in tokens if t.isalpha()]
        new_words = [t for t in words if t not in question.tokens]
        has_number = _new_number(question, c.text)
        has_time = _new_time(question, c.text)
        new_names = names(c.text) - question.names
        lead_in = is_lead_in(c.text) and not _is_pair(c, hit)
        rows.append(
            [
                coverage_of(question.terms, set(tokens)),
                coverage_of(question.terms, set(context_tokens)),
                passage_coverage[c.hit],
                0.0,
                0.0,
                question.bigram_share(tokens),
                question.bigram_share(context_tokens),
                float(rarest is not None and not rarest.found_in(set(context_tokens))),
                passage_names[c.hit],
                float(cos),
                float(cos_ctx),
                hit.dense_score,
                0.0,
                0.0,
                float(c.hit),
                float(c.hit == 0),
                hit.score,
                math.log1p(hit.bm25_rank or UNRANKED),
                math.log1p(hit.dense_rank or UNRANKED),
                float(_sentence_index(c, hit)),
                float(hit.chunk.previous == 0 and c.span[0] == 0),
                math.log1p(len(c.text.split())),
                len(new_words) / len(words) if words else 0.0,
                float(has_number),
                float(has_time),
                float(bool(new_names)),
                math.log1p(len(new_names)),
                math.log1p(c.text.count(",") + c.text.count(";") + c.text.count("，")),
                float(
                    not c.text.rstrip("\"'”’)]）").endswith((".", "!", "?", ":", "。", "！", "？"))
                ),
                float(kind == "number" and has_number),
                float(kind == "time" and has_time),
                float(kind == "person" and bool(new_names)),
                float(kind == "place" and bool(new_names)),
                float(kind == "reason"),
                float(kind == "other"),
                float(lead_in),
                float(_is_pair(c, hit)),
                float(not _is_pair(c, hit) and (c.hit, c.span[0]) in paired),
                *[0.0] * len(ALIGNMENT_FEATURES),  # filled in by read_pool
            ]
        )
    matrix = np.asarray(rows, dtype=np.float32)
    for gap, of in (
        ("coverage_gap", "coverage"),
        ("coverage_context_gap", "coverage_context"),
        ("cosine_gap", "cosine"),
        ("cosine_context_gap", "cosine_context"),
    ):
        matrix[:, COLUMN[gap]] = matrix[:, COLUMN[of]] - matrix[:, COLUMN[of]].max()
    return matrix


def coverage_beyond(
    question: Question, pool: list[Hit], documents: Mapping[str, Document]
) -> tuple[float, float, float]:
    """How far beyond one sentence the question's terms are found: anywhere in the pool's
    passages (a term none holds is a fact they do not state), anywhere in the top
    passage's document, and the top passage's BM25 score per unit of the question's IDF
    (how strongly the best passage matches what the question's words can match)."""
    if not pool:
        return 0.0, 0.0, 0.0
    tokens: set[str] = set()
    for hit in pool:
        tokens.update(_terms(hit.chunk.text))
    in_document = _document_tokens(documents[pool[0].chunk.doc_id])
    share = pool[0].bm25_score / question.idf_mass if question.idf_mass > 0 else 0.0
    return coverage_of(question.terms, tokens), coverage_of(question.terms, in_document), share


# The candidates of one question are mostly those of the last: the same passages rank
# again, so their sentences' tokens are remembered rather than found five times a
# question (tokenizing was half of the answer step's time). Tuples and frozensets: a
# cached value is shared, so it must not be changed.
@functools.lru_cache(maxsize=8192)
def _words(text: str) -> tuple[str, ...]:
    """tokenize(text, keep_stopwords=True), remembered."""
    return tuple(tokenize(text, keep_stopwords=True))


@functools.lru_cache(maxsize=2048)
def _terms(text: str) -> frozenset[str]:
    """The set of tokenize(text), remembered (passages)."""
    return frozenset(tokenize(text))


@functools.lru_cache(maxsize=256)
def _document_tokens(document: Document) -> frozenset[str]:
    # Documents are frozen and their text's hash is cached by Python: a cheap key.
    return frozenset(tokenize(f"{document.title} {document.text}"))


def _names_missing(question: Question, text: str) -> float:
    """Share of the question's names that `text` never uses: a question about "the
    Huguenots' counties" is not answered by a passage about Jiangsu's."""
    if not question.names:
        return 0.0
    tokens = set(_words(text.lower()))
    missing = [n for n in question.names if not set(_words(n)) <= tokens]
    return len(missing) / len(question.names)


def _type_match(question: Question, text: str) -> bool:
    """Whether `text` holds something of the kind the question asks for that the question
    itself does not hold (a question naming "2021" is not answered by its own "2021")."""
    kind = question.kind
    if kind == "number":
        return _new_number(question, text)
    if kind == "time":
        return _new_time(question, text)
    if kind in ("person", "place"):
        return bool(names(text) - question.names)
    return True


def _new_number(question: Question, text: str) -> bool:
    tokens = [t for t in _words(text) if t not in question.tokens]
    return any(mentions_number(t) for t in tokens)


def _new_time(question: Question, text: str) -> bool:
    # Dates span words ("early 1990s", "10th century"): test the text with the
    # question's own tokens blanked out.
    kept = [t for t in _words(text) if t not in question.tokens]
    return mentions_time(" ".join(kept))


def _is_pair(c: Candidate, hit: Hit) -> bool:
    return c.span not in hit.chunk.sentences


def _sentence_index(c: Candidate, hit: Hit) -> int:
    starts = hit.chunk.offsets[::2]
    return sum(1 for s in starts if s < c.span[0])
