"""Per-stage timing of one question, calling the stages the way `engine.QA.ask` does.

`qa.search.retrieve.search` runs BM25, FAISS and fusion in one call. Rather than copy its body
(and drift from it as retrieval is tuned), the index handed to it is wrapped so that the
time spent in `bm25.scores`, BM25's top-k selection and `vectors.search` is clocked from
inside the real call; fusion is the rest of `search`.
"""

from __future__ import annotations

import dataclasses
import functools
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from qa.answer import AnswerStep
from qa.answer.model import AnswerModel, load_answer_model
from qa.config import Settings
from qa.index import Index
from qa.search import retrieve
from qa.search.question import analyze
from qa.search.retrieve import search

STAGES = ("embedding", "bm25", "faiss", "fusion", "answer", "answer_model")


class _Clocked:
    """`target` with the time spent in its method `method` added to `clock[name]`."""

    def __init__(self, target: Any, method: str, clock: dict[str, float], name: str) -> None:
        self._target, self._method, self._clock, self._name = target, method, clock, name

    def __getattr__(self, attribute: str) -> Any:
        value = getattr(self._target, attribute)
        if attribute != self._method:
            return value

        def clocked(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return value(*args, **kwargs)
            finally:
                self._clock[self._name] += time.perf_counter() - start

        return clocked


def clocked_function(
    function: Callable[..., Any], clock: dict[str, float], name: str
) -> Callable[..., Any]:
    def clocked(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            clock[name] += time.perf_counter() - start

    return clocked


@contextmanager
def clocked_top_k(clock: dict[str, float]) -> Iterator[None]:
    """Count `qa.search.retrieve._top` (BM25's top-k selection) as BM25 time, if it exists."""
    original = getattr(retrieve, "_top", None)
    if original is None:
        yield
        return
    retrieve._top = clocked_function(original, clock, "bm25")  # type: ignore[attr-defined]
    try:
        yield
    finally:
        retrieve._top = original  # type: ignore[attr-defined]


@functools.cache
def _answer_model() -> AnswerModel:
    return load_answer_model()


def ask_by_stage(
    index: Index,
    question: str,
    vector: np.ndarray,
    read: Callable[[list[str]], list[Any]],
    settings: Settings,
) -> dict[str, float]:
    """Retrieve and answer `question` (vector already computed); seconds per stage.

    Returns:
        {"bm25", "faiss", "fusion", "answer", "answer_model", "retrieval", "total"}:
        "answer" is all of `AnswerStep.compose`, of which "answer_model" is the time spent in
        `read` (the model reads each candidate sentence with its context: its vector and
        its token vectors for the word-level evidence); "retrieval" is question
        analysis + search (BM25, FAISS and fusion); "total" is retrieval + compose.
    """
    clock = dict.fromkeys(("bm25", "faiss", "answer_model"), 0.0)
    clocked_index = dataclasses.replace(
        index,
        bm25=_Clocked(index.bm25, "scores", clock, "bm25"),
        vectors=_Clocked(index.vectors, "search", clock, "faiss"),
    )
    with clocked_top_k(clock):
        start = time.perf_counter()
        analysed = analyze(question, index.bm25, index.acronyms, lambda _: vector[None, :])
        after_terms = time.perf_counter()
        hits = search(clocked_index, analysed, settings, settings.k, settings.mode)
        after_search = time.perf_counter()
        AnswerStep.of(
            index.documents,
            clocked_function(read, clock, "answer_model"),
            _answer_model(),
            settings,
        ).compose(analysed, hits)
        end = time.perf_counter()
    return {
        "bm25": (after_terms - start) + clock["bm25"],
        "faiss": clock["faiss"],
        "fusion": (after_search - after_terms) - clock["bm25"] - clock["faiss"],
        "answer": end - after_search,
        "answer_model": clock["answer_model"],
        "retrieval": after_search - start,
        "total": end - start,
    }
