"""Search: a question analysed once (question), a follow-up folded with the conversation
(followup), and passages ranked by BM25, dense vectors and their fusion (retrieve)."""

from ..passage import Hit
from .followup import is_elliptical, resolve_followup
from .question import Question, analyze
from .retrieve import search

__all__ = ["Hit", "Question", "analyze", "is_elliptical", "resolve_followup", "search"]
