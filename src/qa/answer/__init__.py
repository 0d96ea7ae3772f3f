"""The answer step: word-level evidence from token vectors (alignment), each candidate
sentence's features and the question's (features, question_features), the learned answer
model (model), the answer or abstention composed from them (compose), and the user's
verdicts that set one index's threshold (verdicts)."""

from .compose import HEDGE, NOT_FOUND, Answer, AnswerStep, Citation
from .model import AnswerModel, load_answer_model

__all__ = [
    "HEDGE",
    "NOT_FOUND",
    "Answer",
    "AnswerStep",
    "AnswerModel",
    "Citation",
    "load_answer_model",
]
