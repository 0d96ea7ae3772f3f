"""The public API: `QA.open()` gets an up-to-date index, `QA.ask()` answers a question.

The CLI, the web UI and the evaluator all go through this class; none has a retrieval
path of its own.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from .answer import Answer, compose
from .answer_model import AnswerModel, load_answer_model
from .config import MODES, Mode, Settings, check_k
from .corpus import Document, fingerprint, load_documents
from .embedding import Embedder
from .errors import (
    IndexCorruptError,
    IndexFormatError,
    IndexMismatchError,
    IndexNotFoundError,
    IndexWriteError,
    UsageError,
)
from .index import (
    Index,
    build_index,
    check_index_writable,
    check_model,
    load_index,
    read_manifest,
    rebuild_command,
    save_index,
)
from .log import Log, to_stderr
from .question import Question, analyze
from .retrieve import Hit, search


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
        self._reindex_lock = threading.Lock()

    @property
    def answer_model(self) -> AnswerModel:
        """Loaded on first use: building the index does not need it."""
        if self._answer_model is None:
            self._answer_model = load_answer_model(self.settings.answer_model or None)
        return self._answer_model

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
        _single_thread_faiss()
        return cls(index, embedder, settings)

    @staticmethod
    def build(
        settings: Settings | None = None,
        rebuild: bool = False,
        log: Log = to_stderr,
        progress: bool = True,
    ) -> Index:
        """Build the index of settings.corpus_dir, or bring it up to date, and save it
        (what `qa index` does): a damaged index is rebuilt, and an index folder that
        cannot be written is an error before anything is embedded.

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
        )

    def ask(
        self, question: str, k: int | None = None, mode: Mode | None = None, searched: str = ""
    ) -> Answer:
        """Answer `question` from the index.

        Args:
            question: the question as the user wrote it.
            k: passages to cite (default settings.k, 1..100).
            mode: "hybrid" (default), "bm25" or "dense".
            searched: the text to retrieve with, when it differs from `question`
                (a follow-up folded with the conversation).

        Raises:
            UsageError: empty or over-long question, k out of range, unknown mode.
        """
        k = self.settings.k if k is None else k
        # The answer is chosen from the same pool of passages whatever k is, so asking
        # for fewer citations never changes the answer.
        index, analysed, hits = self._retrieve(
            searched or question, max(k, self.settings.answer_passages), mode, check_k=k
        )
        return compose(
            analysed,
            hits,
            index.documents,
            self.embedder.encode_cached,
            self.answer_model,
            self.settings,
            asked=question,
            k=k,
        )

    def search(self, question: str, k: int | None = None, mode: Mode | None = None) -> list[Hit]:
        """Ranked passages only, without choosing an answer."""
        k = self.settings.k if k is None else k
        return self._retrieve(question, k, mode, check_k=k)[2]

    def analyze(self, question: str, index: Index | None = None) -> Question:
        """The question analysed against the index (terms, weights, answer kind, vector)."""
        index = index or self.index
        return analyze(question, index.bm25, index.acronyms, self.embedder.encode)

    def _retrieve(
        self, question: str, depth: int, mode: Mode | None, check_k: int
    ) -> tuple[Index, Question, list[Hit]]:
        """(index, analysed question, hits): the retrieval both `ask` and `search` do, on
        one index even if a reindex swaps it meanwhile."""
        mode = mode or self.settings.mode
        query = check_question(question, self.settings, check_k, mode)
        index = self.index
        analysed = self.analyze(query, index)
        return index, analysed, search(index, analysed, self.settings, depth, mode)

    def reindex(self, log: Log = to_stderr, progress: bool = False) -> Index:
        """Bring the index up to date with the corpus folder and swap it in atomically:
        questions already running finish on the old index."""
        with self._reindex_lock:
            self.index = ensure_index(
                self.settings, self.embedder, log=log, progress=progress, previous=self.index
            )
        return self.index


def check_question(
    question: str, settings: Settings, k: int | None = None, mode: str | None = None
) -> str:
    """The question with its whitespace folded, or UsageError for an empty or over-long
    question, k outside 1..100 or an unknown mode."""
    if not isinstance(question, str) or not question.strip():
        raise UsageError(
            'The question is empty. Ask something, e.g. qa ask "Which cities made the top 20?"'
        )
    if len(question) > settings.max_question_chars:
        raise UsageError(
            f"The question is {len(question):,} characters long; the limit is "
            f"{settings.max_question_chars:,}. Ask a shorter question."
        )
    if k is not None:
        check_k(k)
    if mode is not None and mode not in MODES:
        raise UsageError(f"Unknown mode {mode!r}: choose one of {', '.join(MODES)}.")
    return " ".join(question.split())


def ensure_index(
    settings: Settings,
    embedder: Embedder,
    rebuild: bool = False,
    log: Log = to_stderr,
    progress: bool = True,
    previous: Index | None = None,
    repair: bool = False,
    must_save: bool = False,
) -> Index:
    """The index in settings.index_dir, (re)built first if it is missing or stale.

    An index in an older format is rebuilt; a damaged one is an error unless `repair`
    (what `qa index` asks for) or `rebuild`.

    When the index folder cannot be written, a (re)built index is an error if
    `must_save` (`qa index`, checked before anything is embedded); otherwise it is used
    from memory with a warning, and the index on disk, if any, is left as it was.

    Stale means: the corpus folder's documents (content hashes) differ from the
    manifest's, or an index setting (model, chunking, BM25) changed. Vectors of unchanged
    passages are reused. An index built with another model is refused unless `rebuild`.
    """
    index_dir = settings.index_path()
    command = rebuild_command(settings)
    manifest = None
    try:
        manifest = read_manifest(index_dir, command)
    except IndexNotFoundError:
        pass
    except IndexFormatError:
        log(f"The index at {index_dir}/ is in an older format: rebuilding it.")
        rebuild = True
    except IndexCorruptError as e:
        if not (rebuild or repair):
            raise
        log(f"{e.problem} Rebuilding it.")
        rebuild = True

    _configure_embedder(embedder, settings, manifest, log)
    if manifest is not None and not rebuild:
        check_model(manifest, embedder, command)

    corpus = fingerprint(Path(settings.corpus_dir), settings.max_file_bytes())
    if (
        manifest is not None
        and not rebuild
        and manifest.get("corpus") == corpus
        and manifest.get("settings") == settings.index_params()
    ):
        # No file changed since the index was built: nothing is read or parsed again,
        # and the files skipped then are not warned about on every question.
        if previous is not None and previous.manifest == manifest:
            return previous
        try:
            return load_index(index_dir, command)
        except IndexCorruptError as e:
            if not repair:
                raise
            log(f"{e.problem} Rebuilding it.")
            rebuild = True

    documents, warnings = load_documents(Path(settings.corpus_dir), settings.max_file_bytes())
    for warning in warnings:
        log(warning)
    if manifest is None and not rebuild:
        log(f"No index at {index_dir}/: building it from {settings.corpus_dir}/.")

    if manifest is not None and not rebuild:
        reason = _staleness(manifest, documents, settings)
        if reason is None:
            if previous is not None and previous.manifest == manifest:
                return previous
            try:
                return load_index(index_dir, command)
            except IndexCorruptError as e:
                if not repair:
                    raise
                log(f"{e.problem} Rebuilding it.")
                return ensure_index(
                    settings,
                    embedder,
                    rebuild=True,
                    log=log,
                    progress=progress,
                    must_save=must_save,
                )
        log(f"Rebuilding the index at {index_dir}/: {reason}.")
        if previous is None:
            try:
                previous = load_index(index_dir, command)
            except (IndexCorruptError, IndexMismatchError):
                previous = None

    # Before minutes of embedding, not after: can the result be saved?
    unsaved: IndexWriteError | None = None
    try:
        check_index_writable(index_dir)
    except IndexWriteError as e:
        if must_save:
            raise
        unsaved = e
    index, reused = build_index(
        documents, settings, embedder, previous=previous, progress=progress, log=log
    )
    index.manifest["corpus"] = corpus
    if unsaved is None:
        try:
            save_index(index, index_dir)
        except IndexWriteError as e:
            if must_save:
                raise
            unsaved = e
    if unsaved is not None:
        log(
            f"Warning: {unsaved.path}/ cannot be written ({unsaved.reason}), so the index is "
            f"used from memory and built again next time. {unsaved.advice}"
        )
        return index
    log(
        f"Indexed {len(documents)} documents, {len(index.chunks)} passages "
        f"({reused} reused, {len(index.chunks) - reused} embedded) into {index_dir}/."
    )
    return index


def _configure_embedder(
    embedder: Embedder, settings: Settings, manifest: dict[str, Any] | None, log: Log
) -> None:
    """Tell the embedder the settings' engine and where its ONNX export is cached
    (beside the index), with what the manifest recorded of it, so that it is found
    without hashing the model or importing torch. Stand-ins (the benchmark's) are left
    as they are."""
    configure = getattr(embedder, "configure", None)
    if configure is None:
        return
    from .onnx_encoder import cache_root

    record = (manifest or {}).get("encoder")
    configure(
        engine=settings.encoder,
        onnx_cache=cache_root(settings.index_path()),
        record=record if isinstance(record, dict) else None,
        log=log,
    )


def _staleness(
    manifest: dict[str, Any], documents: list[Document], settings: Settings
) -> str | None:
    if manifest.get("settings") != settings.index_params():
        changed_settings = [
            k
            for k, v in settings.index_params().items()
            if manifest.get("settings", {}).get(k) != v
        ]
        return "settings changed (" + ", ".join(changed_settings) + ")"
    if "corpus" not in manifest:
        return "it records no file fingerprints yet (passage vectors are reused)"
    stored = {
        doc_id: entry.get("sha256") for doc_id, entry in manifest.get("documents", {}).items()
    }
    current = {d.id: d.sha256 for d in documents}
    if stored != current:
        added = len(current.keys() - stored.keys())
        removed = len(stored.keys() - current.keys())
        changed = sum(1 for d in current.keys() & stored.keys() if current[d] != stored[d])
        return f"the corpus changed ({added} added, {removed} removed, {changed} changed)"
    return None


def _single_thread_faiss() -> None:
    """One query at a time is faster on one thread than on two here (thread start-up
    costs more than the search), and the UI runs questions in parallel anyway."""
    import faiss

    faiss.omp_set_num_threads(1)
