"""The public API: `QA.open()` gets an up-to-date index, `QA.ask()` answers a question.

The CLI, the web UI and the evaluator all go through this class; none has a retrieval
path of its own.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

from .answer import Answer, AnswerStep
from .answer.model import AnswerModel, load_answer_model
from .config import MODES, Mode, Settings, check_k
from .encoder.embedding import Embedder
from .errors import UsageError
from .index import Index
from .index.freshness import Builder, ensure_index
from .log import Log, to_stderr
from .passage import Hit
from .search.followup import is_elliptical, resolve_followup
from .search.question import Question, analyze
from .search.retrieve import search

if TYPE_CHECKING:
    # Only when short answers are shown (Settings.show_spans): not on a fresh `qa ask`.
    from .answer.spans import SpanModel


class QA:
    """A question answerer over one index.

    Example:
        qa = QA.open(Settings(corpus_dir=Path("corpus")))
        answer = qa.ask("How many workers does Liangjiang's digital economy park employ?")
        print(answer.text, answer.citations[0].document.title)
    """

    def __init__(
        self,
        index: Index,
        embedder: Embedder,
        settings: Settings,
        answer_model: AnswerModel | None = None,
    ) -> None:
        self.index = index
        self.embedder = embedder
        self.settings = settings
        self._answer_model = answer_model
        self._span_model: SpanModel | None = None
        self._reindex_lock = threading.Lock()

    @property
    def answer_model(self) -> AnswerModel:
        """Loaded on first use: building the index does not need it."""
        if self._answer_model is None:
            self._answer_model = load_answer_model(self.settings.answer_model or None)
        return self._answer_model

    @property
    def span_model(self) -> SpanModel | None:
        """The short-answer model, loaded on first use (None unless settings.show_spans)."""
        if not self.settings.show_spans:
            return None
        if self._span_model is None:
            from .answer.spans import load_span_model

            self._span_model = load_span_model(self.settings.span_model or None)
        return self._span_model

    @classmethod
    def open(
        cls,
        settings: Settings | None = None,
        rebuild: bool = False,
        log: Log = to_stderr,
        progress: bool = True,
    ) -> QA:
        """Load the index in settings.index_dir, building or refreshing it first when it is
        missing, out of date with the corpus, or built with other settings.

        Raises:
            CorpusError: the corpus cannot be read (and no index exists).
            IndexMismatchError: the index was built with another model and rebuild is False.
        """
        settings = settings or Settings.from_env()
        embedder = Embedder(settings.model_path(), settings.batch_size, engine=settings.encoder)
        index = ensure_index(settings, embedder, rebuild=rebuild, log=log, progress=progress)
        return cls(index, embedder, settings)

    @staticmethod
    def build(
        settings: Settings | None = None,
        rebuild: bool = False,
        log: Log = to_stderr,
        progress: bool = True,
        builder: Builder | None = None,
    ) -> Index:
        """Build the index of settings.corpus_dir, or bring it up to date, and save it
        (what `qa index` does): a damaged index is rebuilt, and an index folder that
        cannot be written is an error before anything is embedded. `builder` reads and
        builds (default: in this process; distributed.RayBuild: on a Ray cluster).

        Raises:
            IndexWriteError: the index folder cannot be written.
            CorpusError: the corpus cannot be read.
        """
        settings = settings or Settings.from_env()
        embedder = Embedder(settings.model_path(), settings.batch_size, engine=settings.encoder)
        return ensure_index(
            settings,
            embedder,
            rebuild=rebuild,
            log=log,
            progress=progress,
            repair=True,
            must_save=True,
            builder=builder,
        )

    def ask(
        self,
        question: str | Query,
        k: int | None = None,
        mode: Mode | None = None,
        searched: str | None = None,
        previous: Sequence[str] = (),
    ) -> Answer:
        """Answer `question` from the index.

        Args:
            question: the question as the user wrote it, or as check_question made it a
                Query (then k and mode come from the Query).
            k: passages to cite (default settings.k, 1..100).
            mode: "hybrid" (default), "bm25" or "dense".
            searched: the text to retrieve with, when it differs from `question`.
            previous: the conversation's earlier questions as they were searched
                (Answer.searched), oldest first. A question that reads as a follow-up
                ("And Zhejiang?", "When did it open?") is also searched folded with the
                last of them, and the folded one is used only when its evidence is
                stronger: "Who is the treasurer?" after two questions about bicycles is
                a question of its own.

        Raises:
            UsageError: empty or over-long question, k out of range, unknown mode.
        """
        if not isinstance(question, Query):
            question = check_question(question, self.settings, k, mode)
        if searched is not None:
            searched = " ".join(searched.split())
        alone = self._answer(question, searched)
        if searched is not None or not previous or not is_elliptical(alone.searched):
            return alone
        folded = resolve_followup(alone.searched, previous)
        if folded == alone.searched:
            return alone
        with_context = self._answer(question, folded)
        return with_context if with_context.confidence > alone.confidence else alone

    def _answer(self, query: Query, searched: str | None) -> Answer:
        # The answer is chosen from the same pool of passages whatever k is, so asking
        # for fewer citations never changes the answer.
        text = query.text if searched is None else searched
        depth = max(query.k, self.settings.answer_passages)
        index, analysed, hits = self._retrieve(text, depth, query.mode)
        step = AnswerStep.of(
            index.documents,
            self.embedder.read,
            self.model_for(index),
            self.settings,
            self.span_model,
        )
        return step.compose(analysed, hits, asked=query.text, k=query.k)

    def model_for(self, index: Index) -> AnswerModel:
        """The answer model as `index` uses it: with the threshold its calibration (the
        user's verdicts, `qa calibrate`) set, when that was set on this very model."""
        model = self.answer_model
        calibration = index.manifest.calibration
        if calibration and calibration.get("answer_model") == model.digest:
            return model.with_cut(float(calibration["threshold"]))
        return model

    def search(self, question: str, k: int | None = None, mode: Mode | None = None) -> list[Hit]:
        """Ranked passages only, without choosing an answer."""
        query = check_question(question, self.settings, k, mode)
        return self._retrieve(query.text, query.k, query.mode)[2]

    def analyze(self, question: str, index: Index | None = None) -> Question:
        """The question analysed against the index (terms, weights, answer kind, vector)."""
        index = index or self.index
        return analyze(question, index.bm25, index.acronyms, self.embedder.encode)

    def _retrieve(self, text: str, depth: int, mode: Mode) -> tuple[Index, Question, list[Hit]]:
        """(index, analysed question, hits): the retrieval both `ask` and `search` do, on
        one index even if a reindex swaps it meanwhile. `text` is whitespace-folded."""
        index = self.index
        analysed = self.analyze(text, index)
        return index, analysed, search(index, analysed, self.settings, depth, mode)

    def reindex(self, log: Log = to_stderr, progress: bool = False) -> Index:
        """Bring the index up to date with the corpus folder and swap it in atomically:
        questions already running finish on the old index."""
        with self._reindex_lock:
            self.index = ensure_index(
                self.settings, self.embedder, log=log, progress=progress, previous=self.index
            )
        return self.index


@dataclass(frozen=True)
class Query:
    """A question that check_question accepted: its text with the whitespace folded (the
    one place it is folded), and the passages to cite and the retrieval mode, both
    valid. What QA.ask answers; the CLI makes one before it opens the index, so a bad
    question fails fast and is checked once."""

    text: str
    k: int
    mode: Mode


def check_question(
    question: str, settings: Settings, k: int | None = None, mode: str | None = None
) -> Query:
    """The question as a Query (k and mode default to the settings'), or UsageError for
    an empty or over-long question, k outside 1..100 or an unknown mode."""
    if not isinstance(question, str) or not question.strip():
        raise UsageError(
            'The question is empty. Ask something about the documents, e.g. qa ask "Who wrote it?"'
        )
    if len(question) > settings.max_question_chars:
        raise UsageError(
            f"The question is {len(question):,} characters long; the limit is "
            f"{settings.max_question_chars:,}. Ask a shorter question."
        )
    k = settings.k if k is None else k
    check_k(k)
    mode = mode or settings.mode
    if mode not in MODES:
        raise UsageError(f"Unknown mode {mode!r}: choose one of {', '.join(MODES)}.")
    return Query(" ".join(question.split()), k, cast(Mode, mode))
