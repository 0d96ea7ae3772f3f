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

_CHOSEN_ALIGNMENT = [
    f"align_{s}_{r}" for s in ("sentence", "context", "passage") for r in ("min", "mean", "share")
]
_MAX_ALIGNMENT = ["align_sentence_mean", "align_context_min", "align_context_mean"]


def question_row(question: Question, hits: list[Hit], pool: Pool, logits: np.ndarray) -> np.ndarray:
    """The QUESTION_FEATURES row: the chosen candidate (highest of the sentence model's
    `logits`) against the rest, and how the retrievers saw the question."""
    column = COLUMN
    found, matrix = pool.found, pool.matrix
    kind = question.kind
    top = hits[0] if hits else None
    if len(found):
        order = np.argsort(-logits)
        best = int(order[0])
        runner_up = float(logits[order[1]]) if len(order) > 1 else float(logits[best]) - 10.0
        row = matrix[best]
        chosen = [
            float(logits[best]),
            float(logits[best]) - runner_up,
            float(row[column["coverage"]]),
            float(row[column["coverage_context"]]),
            float(row[column["cosine"]]),
            float(row[column["cosine_context"]]),
            float(row[column["bigrams"]]),
            float(row[column["missing_rarest"]]),
            float(row[column["names_missing"]]),
            float(row[column["coverage_passage"]]),
            float(row[column["novelty"]]),
            float(found[best].type_match),
            float(row[column["passage_rank"]]),
            float(matrix[:, column["cosine"]].max()),
            float(matrix[:, column["coverage"]].max()),
            float(matrix[:, column["coverage_passage"]].max()),
            float(matrix[:, column["bigrams"]].max()),
            *pool.covered,
        ]
        alignment = [float(row[column[name]]) for name in _CHOSEN_ALIGNMENT] + [
            float(matrix[:, column[name]].max()) for name in _MAX_ALIGNMENT
        ]
    else:
        # No candidate: a score far below any real one, and nothing found.
        chosen = [-10.0] + [0.0] * (QUESTION_FEATURES.index("top_cosine_passage") - 1)
        alignment = [0.0] * (len(_CHOSEN_ALIGNMENT) + len(_MAX_ALIGNMENT))
    return np.asarray(
        chosen
        + [
            top.dense_score if top else 0.0,
            math.log1p(top.bm25_rank or UNRANKED) if top else math.log1p(UNRANKED),
            math.log1p(top.dense_rank or UNRANKED) if top else math.log1p(UNRANKED),
            float(top is not None and top.bm25_rank == 1 and top.dense_rank == 1),
            hits[1].score if len(hits) > 1 else 0.0,
            hits[4].score if len(hits) > 4 else 0.0,
            question.unknown_share,
            question.unknown_names,
            math.log1p(len(question.terms)),
            float(kind == "number"),
            float(kind == "time"),
            float(kind == "person"),
            float(kind == "place"),
            float(kind == "other"),
            *alignment,
        ],
        dtype=np.float32,
    )
