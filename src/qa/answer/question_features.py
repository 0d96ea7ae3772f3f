"""The answerability model's row for one question: how the chosen candidate stands
against the rest, and how the retrievers saw the question (features.py has the
candidates' rows). Training and answering share this code."""

from __future__ import annotations

import math

import numpy as np

from ..passage import Hit
from ..search.question import Question
from .features import COLUMN, UNRANKED, Pool

QUESTION_FEATURES: tuple[str, ...] = (
    "best_logit",  # the sentence model's score of the chosen candidate
    "margin_logit",  # ... minus the runner-up's
    "best_coverage",
    "best_coverage_context",
    "best_cosine",
    "best_cosine_context",
    "best_bigrams",
    "best_missing_rarest",
    "best_names_missing",
    "best_coverage_passage",
    "best_novelty",
    "best_type_match",  # the chosen sentence holds the kind of answer asked for
    # ... and the share of candidates that do: a question asking for a number (a port, a
    # year, a name) that no candidate holds is a near miss, whatever the words match.
    "share_type_match",
    "best_passage_rank",
    "max_cosine",
    "max_coverage",
    "max_coverage_passage",
    "max_bigrams",
    "pool_coverage",  # the question's terms found anywhere in the top passages
    "document_coverage",  # ... anywhere in the top passage's document
    "top_bm25_share",  # top passage's BM25 score over what the question's terms can score
    "top_cosine_passage",
    "top_bm25_rank_log",
    "top_dense_rank_log",
    "ranks_agree",  # the top passage is first for both retrievers
    "fused_score_2",
    "fused_score_5",
    "unknown_share",  # IDF share of the question's terms no document uses
    "unknown_names",  # share of the question's names no document uses
    "terms_log",
    "asks_number",
    "asks_time",
    "asks_person",
    "asks_place",
    "asks_other",
    "asks_identifier",
    # Word-level evidence (alignment.py) of the chosen candidate, and the best of any.
    "best_align_sentence_min",
    "best_align_sentence_mean",
    "best_align_sentence_share",
    "best_align_context_min",
    "best_align_context_mean",
    "best_align_context_share",
    "best_align_passage_min",
    "best_align_passage_mean",
    "best_align_passage_share",
    "max_align_sentence_mean",
    "max_align_context_min",
    "max_align_context_mean",
)

# The chosen candidate's columns copied into the question's row ("best_<name>"), and the
# columns whose best value over all candidates it takes ("max_<name>").
_CHOSEN = (
    "coverage",
    "coverage_context",
    "cosine",
    "cosine_context",
    "bigrams",
    "missing_rarest",
    "names_missing",
    "coverage_passage",
    "novelty",
    "passage_rank",
    *(
        f"align_{s}_{r}"
        for s in ("sentence", "context", "passage")
        for r in ("min", "mean", "share")
    ),
)
# Pool.covered, by name.
_COVERED = ("pool_coverage", "document_coverage", "top_bm25_share")
_MAX = (
    "cosine",
    "coverage",
    "coverage_passage",
    "bigrams",
    "align_sentence_mean",
    "align_context_min",
    "align_context_mean",
)


def question_row(question: Question, hits: list[Hit], pool: Pool, logits: np.ndarray) -> np.ndarray:
    """The QUESTION_FEATURES row: the chosen candidate (highest of the sentence model's
    `logits`) against the rest, and how the retrievers saw the question."""
    features = _candidate_side(pool, logits) | _retrieval_side(question, hits)
    return np.asarray([features[name] for name in QUESTION_FEATURES], dtype=np.float32)


def _candidate_side(pool: Pool, logits: np.ndarray) -> dict[str, float]:
    """What the chosen candidate and the best of each column say; with no candidate, a
    score far below any real one and nothing found."""
    found, matrix = pool.found, pool.matrix
    if not len(found):
        # Nothing to choose: nothing found, not even the question's terms in the pool.
        nothing = (*(f"best_{n}" for n in _CHOSEN), *(f"max_{n}" for n in _MAX), *_COVERED)
        empty = {"best_logit": -10.0, "margin_logit": 0.0, "best_type_match": 0.0}
        return empty | {"share_type_match": 0.0} | dict.fromkeys(nothing, 0.0)
    features = dict(zip(_COVERED, pool.covered, strict=True))
    order = np.argsort(-logits)
    best = int(order[0])
    runner_up = float(logits[order[1]]) if len(order) > 1 else float(logits[best]) - 10.0
    row = matrix[best]
    features["best_logit"] = float(logits[best])
    features["margin_logit"] = float(logits[best]) - runner_up
    features["best_type_match"] = float(found[best].type_match)
    features["share_type_match"] = sum(c.type_match for c in found) / len(found)
    for name in _CHOSEN:
        features[f"best_{name}"] = float(row[COLUMN[name]])
    for name in _MAX:
        features[f"max_{name}"] = float(matrix[:, COLUMN[name]].max())
    return features


def _retrieval_side(question: Question, hits: list[Hit]) -> dict[str, float]:
    """How the retrievers ranked the top passages, and what the question itself says."""
    top = hits[0] if hits else None
    kind = question.kind
    return {
        "top_cosine_passage": top.dense_score if top else 0.0,
        "top_bm25_rank_log": math.log1p((top.bm25_rank if top else None) or UNRANKED),
        "top_dense_rank_log": math.log1p((top.dense_rank if top else None) or UNRANKED),
        "ranks_agree": float(top is not None and top.bm25_rank == 1 and top.dense_rank == 1),
        "fused_score_2": hits[1].score if len(hits) > 1 else 0.0,
        "fused_score_5": hits[4].score if len(hits) > 4 else 0.0,
        "unknown_share": question.unknown_share,
        "unknown_names": question.unknown_names,
        "terms_log": math.log1p(len(question.terms)),
        "asks_number": float(kind == "number"),
        "asks_time": float(kind == "time"),
        "asks_person": float(kind == "person"),
        "asks_place": float(kind == "place"),
        "asks_other": float(kind == "other"),
        "asks_identifier": float(question.asks_identifier),
    }
