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

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from ..documents.chunking import context
from ..documents.corpus import Document
from ..encoder.interface import Reading
from ..language import (
    asks_for_code,
    asks_for_metadata,
    identifiers,
    is_furniture,
    is_lead_in,
    is_list,
    joins_names,
    looks_like_code,
    mentions_number,
    mentions_time,
    names,
)
from ..passage import Hit
from ..search.question import Question, Term, coverage_of
from ..text import tokenize
from .alignment import (
    ALIGNMENT_FEATURES,
    QuestionWords,
    Read,
    alignment_rows,
    pooled,
    question_words,
)

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
    # Asks for an option, variable, function or file name, and holds one it does not.
    "asks_identifier_has_identifier",
    # Asks for several things ("Which two ...?"), and names several together.
    "asks_several_joins_names",
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
# Each against the best of its column among the question's candidates.
_GAPS = {
    "coverage_gap": "coverage",
    "coverage_context_gap": "coverage_context",
    "cosine_gap": "cosine",
    "cosine_context_gap": "cosine_context",
}
# What a candidate's own text, passage and ranks give; the gaps need all candidates, the
# alignment columns the model's token vectors (read_pool fills both).
_OWN_FEATURES = tuple(
    n for n in CANDIDATE_FEATURES if n not in _GAPS and n not in ALIGNMENT_FEATURES
)
_OWN_COLUMNS = [COLUMN[name] for name in _OWN_FEATURES]
_CLOSING = (".", "!", "?", ":", "。", "！", "？")


@dataclass(frozen=True)
class Candidate:
    """A candidate answer: `span` is (start, end) inside pool[hit].chunk.text.

    `read_with` is the text the model reads it as: the sentence before it, then it ("It
    has ..." needs its subject). `words` and `context_words` are the candidate and
    `read_with` tokenized (stopwords kept): each text is tokenized once, in candidates().
    """

    hit: int
    span: tuple[int, int]
    text: str
    type_match: bool
    read_with: str
    words: tuple[str, ...]
    context_words: tuple[str, ...]
    # A lead-in or list sentence together with the sentence it introduces.
    pair: bool
    # How many of the passage's sentences start before it.
    position: int


@dataclass(frozen=True)
class Pool:
    """A question's candidates and what the answer model reads of them: one row of
    CANDIDATE_FEATURES per candidate, and how far beyond one sentence the question's
    terms are found (coverage_beyond)."""

    found: list[Candidate]
    matrix: np.ndarray
    covered: tuple[float, float, float]
    # How the model read each candidate (after the sentence before it), and the question's
    # informative words: the span step (spans.py) reads the chosen one's words from them.
    readings: list[Reading] = field(default_factory=list)
    question_words: QuestionWords | None = None


def read_pool(
    question: Question,
    pool: list[Hit],
    documents: Mapping[str, Document],
    read: Read,
) -> Pool:
    """The candidates of `pool` (the top passages) with their features: the one place
    answering (`AnswerStep.score`) and training compute them. Each candidate is read by
    the model once, after the sentence before it (`read`): that reading gives its vector
    with context, its sentence's vector (the pooled span) and the word-level evidence."""
    found, passages = candidates(question, pool, documents)
    readings = read([c.read_with for c in found]) if found else []
    # Where each candidate's own sentence starts in the text it is read as.
    starts = [len(c.read_with) - len(c.text) for c in found]
    matrix = candidate_matrix(question, pool, passages, found, readings, starts)
    asked = None
    if len(found):
        asked = question_words(question, read)
        matrix[:, ALIGNED_COLUMNS] = alignment_rows(asked, readings, starts, [c.hit for c in found])
    covered = coverage_beyond(question, pool, passages, documents)
    return Pool(found, matrix, covered, list(readings), asked)


@dataclass(frozen=True)
class PassageWords:
    """What one hit says, tokenized once each way: its BM25 terms (no stopwords), the same
    with its context (the title and the sentence before it), and every word of both."""

    terms: frozenset[str]
    terms_with_context: frozenset[str]
    words: frozenset[str]


def candidates(
    question: Question, pool: list[Hit], documents: Mapping[str, Document]
) -> tuple[list[Candidate], list[PassageWords]]:
    """Every candidate of the pool, and each passage's words. Every sentence and context
    is tokenized here, once; a pair's and a reading's words are those of its parts (a
    token never spans the white space between two sentences)."""
    found: list[Candidate] = []
    passages: list[PassageWords] = []
    # A heading, title line, byline or page footer is never the answer, unless the
    # question asks for a title or an author.
    keep_furniture = asks_for_metadata(question.text)
    # A code line or command answers only a question asking for one.
    keep_code = asks_for_code(question.text)
    for h, hit in enumerate(pool):
        chunk = hit.chunk
        document = documents[chunk.doc_id]
        previous = context(chunk, document)
        previous_words = tuple(tokenize(previous, keep_stopwords=True))
        spans = chunk.sentences
        texts = [chunk.text[start:end] for start, end in spans]
        words = [tuple(tokenize(text, keep_stopwords=True)) for text in texts]
        terms = frozenset(tokenize(chunk.text))
        passages.append(
            PassageWords(
                terms,
                terms.union(tokenize(previous)),
                frozenset(previous_words).union(*words),
            )
        )
        for i, (span, text) in enumerate(zip(spans, texts, strict=True)):
            if (keep_furniture or not is_furniture(text, document.title)) and (
                keep_code or not looks_like_code(text)
            ):
                read_before = (previous, previous_words)
                found.append(_candidate(question, h, span, text, words[i], read_before, i))
                following = texts[i + 1] if i + 1 < len(spans) else ""
                if following and (is_lead_in(text) or is_list(following)):
                    pair = (span[0], spans[i + 1][1])
                    pair_words = words[i] + words[i + 1]
                    pair_text = chunk.text[pair[0] : pair[1]]
                    found.append(
                        _candidate(question, h, pair, pair_text, pair_words, read_before, i, True)
                    )
            previous, previous_words = text, words[i]
    return found, passages


def _candidate(
    question: Question,
    hit: int,
    span: tuple[int, int],
    text: str,
    words: tuple[str, ...],
    read_before: tuple[str, tuple[str, ...]],
    position: int,
    pair: bool = False,
) -> Candidate:
    """A Candidate read after `read_before` (the text before it, and its words)."""
    before, before_words = read_before
    return Candidate(
        hit=hit,
        span=span,
        text=text,
        type_match=_type_match(question, text, words),
        read_with=f"{before} {text}".strip(),
        words=words,
        context_words=before_words + words,
        pair=pair,
        position=position,
    )


def candidate_matrix(
    question: Question,
    pool: list[Hit],
    passages: list[PassageWords],
    found: list[Candidate],
    readings: list[Reading],
    starts: list[int],
) -> np.ndarray:
    """One row of CANDIDATE_FEATURES per candidate (the alignment columns left at 0)."""
    matrix = np.zeros((len(found), len(CANDIDATE_FEATURES)), dtype=np.float32)
    if not found:
        return matrix
    cosines = [float(pooled(r, s) @ question.vector) for r, s in zip(readings, starts, strict=True)]
    cosines_context = [float(r.vector @ question.vector) for r in readings]
    name_words = [frozenset(tokenize(n, keep_stopwords=True)) for n in question.names]
    passage_coverage = [coverage_of(question.terms, p.terms_with_context) for p in passages]
    passage_names = [_names_missing(name_words, p.words) for p in passages]
    rarest = max(question.terms, key=lambda t: t.weight) if question.terms else None
    # Where a pair starts: the sentence alone that starts there announces what follows.
    paired = {(c.hit, c.span[0]) for c in found if c.pair}
    for row, c in enumerate(found):
        features = _own_features(question, pool[c.hit], c, rarest)
        features.update(
            cosine=cosines[row],
            cosine_context=cosines_context[row],
            coverage_passage=passage_coverage[c.hit],
            names_missing=passage_names[c.hit],
            introduces=float(not c.pair and (c.hit, c.span[0]) in paired),
        )
        matrix[row, _OWN_COLUMNS] = [features[n] for n in _OWN_FEATURES]
    for gap, of in _GAPS.items():
        matrix[:, COLUMN[gap]] = matrix[:, COLUMN[of]] - matrix[:, COLUMN[of]].max()
    return matrix


def _own_features(
    question: Question, hit: Hit, c: Candidate, rarest: Term | None
) -> dict[str, float]:
    """The features a candidate's own words, its passage's ranks and the question's kind
    give, by name (candidate_matrix adds those that compare it with its pool)."""
    words = [t for t in c.words if t.isalpha()]
    new_words = [t for t in words if t not in question.tokens]
    has_number = _new_number(question, c.words)
    has_time = _new_time(question, c.words)
    new_names = names(c.text) - question.names
    kind = question.kind
    context_words = set(c.context_words)
    return {
        "coverage": coverage_of(question.terms, set(c.words)),
        "coverage_context": coverage_of(question.terms, context_words),
        "bigrams": question.bigram_share(c.words),
        "bigrams_context": question.bigram_share(c.context_words),
        "missing_rarest": float(rarest is not None and not rarest.found_in(context_words)),
        "cosine_passage": hit.dense_score,
        "passage_rank": float(c.hit),
        "top_passage": float(c.hit == 0),
        "fused_score": hit.score,
        "bm25_rank_log": math.log1p(hit.bm25_rank or UNRANKED),
        "dense_rank_log": math.log1p(hit.dense_rank or UNRANKED),
        "sentence_position": float(c.position),
        "document_opening": float(hit.chunk.previous == 0 and c.span[0] == 0),
        "words_log": math.log1p(len(c.text.split())),
        "novelty": len(new_words) / len(words) if words else 0.0,
        "new_number": float(has_number),
        "new_time": float(has_time),
        "new_name": float(bool(new_names)),
        "new_names_log": math.log1p(len(new_names)),
        "commas_log": math.log1p(c.text.count(",") + c.text.count(";") + c.text.count("，")),
        "heading": float(not c.text.rstrip("\"'”’)]）").endswith(_CLOSING)),
        "asks_number_has_number": float(kind == "number" and has_number),
        "asks_time_has_time": float(kind == "time" and has_time),
        "asks_person_has_name": float(kind == "person" and bool(new_names)),
        "asks_place_has_name": float(kind == "place" and bool(new_names)),
        "asks_identifier_has_identifier": float(
            question.asks_identifier and bool(identifiers(c.text) - question.identifiers)
        ),
        "asks_several_joins_names": float(question.asks_several and joins_names(c.text)),
        "asks_reason": float(kind == "reason"),
        "asks_other": float(kind == "other"),
        "lead_in": float(is_lead_in(c.text) and not c.pair),
        "pair": float(c.pair),
    }


def coverage_beyond(
    question: Question,
    pool: list[Hit],
    passages: list[PassageWords],
    documents: Mapping[str, Document],
) -> tuple[float, float, float]:
    """How far beyond one sentence the question's terms are found: anywhere in the pool's
    passages (a term none holds is a fact they do not state), anywhere in the top
    passage's document, and the top passage's BM25 score per unit of the question's IDF
    (how strongly the best passage matches what the question's words can match)."""
    if not pool:
        return 0.0, 0.0, 0.0
    in_pool = frozenset().union(*(p.terms for p in passages))
    in_document = documents[pool[0].chunk.doc_id].terms
    share = pool[0].bm25_score / question.idf_mass if question.idf_mass > 0 else 0.0
    return coverage_of(question.terms, in_pool), coverage_of(question.terms, in_document), share


def _names_missing(name_words: list[frozenset[str]], words: frozenset[str]) -> float:
    """Share of the question's names (each as its words) that `words` never uses: a
    question about "the Huguenots' counties" is not answered by a passage about Jiangsu's."""
    if not name_words:
        return 0.0
    return sum(1 for n in name_words if not n <= words) / len(name_words)


def _type_match(question: Question, text: str, words: tuple[str, ...]) -> bool:
    """Whether `text` (tokenized: `words`) holds something of the kind the question asks
    for that the question itself does not hold (a question naming "2021" is not answered
    by its own "2021")."""
    kind = question.kind
    if kind == "number":
        return _new_number(question, words)
    if kind == "time":
        return _new_time(question, words)
    if kind in ("person", "place"):
        return bool(names(text) - question.names)
    return True


def _new_number(question: Question, words: tuple[str, ...]) -> bool:
    return any(mentions_number(t) for t in words if t not in question.tokens)


def _new_time(question: Question, words: tuple[str, ...]) -> bool:
    # Dates span words ("early 1990s", "10th century"): test the text with the
    # question's own tokens blanked out.
    return mentions_time(" ".join(t for t in words if t not in question.tokens))
