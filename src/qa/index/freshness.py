"""Keeping the index current: use the one on disk when nothing changed, otherwise build
it again, reusing the vectors of unchanged passages, and save it atomically.

`ensure_index` makes one decision (use the index as it is, or build one and say why)
and then carries it out. `QA.open` and `QA.build` (engine.py) call it. How the corpus is
read and the index built is a `Builder`: in this process (`LocalBuild`), or on a Ray
cluster (distributed.py, for `qa index --ray`); the decision is the same for both.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any, Protocol

from ..config import Settings
from ..documents.corpus import Document, fingerprint, load_documents, same_files
from ..encoder.embedding import Embedder
from ..encoder.interface import TextEncoder
from ..errors import (
    IndexCorruptError,
    IndexFormatError,
    IndexMismatchError,
    IndexNotFoundError,
    IndexWriteError,
)
from ..language import plural
from ..log import Log, to_stderr
from .build import build_index
from .data import Index, rebuild_command
from .manifest import Manifest, check_model, read_manifest
from .store import check_index_writable, load_index, save_index


def ensure_index(
    settings: Settings,
    embedder: TextEncoder,
    rebuild: bool = False,
    log: Log = to_stderr,
    progress: bool = True,
    previous: Index | None = None,
    repair: bool = False,
    must_save: bool = False,
    builder: Builder | None = None,
) -> Index:
    """The index in settings.index_dir, (re)built first if it is missing or stale.

    An index in an older format is rebuilt; a damaged one is an error unless `repair`
    (what `qa index` asks for) or `rebuild`.

    When the index folder cannot be written, a (re)built index is an error if
    `must_save` (`qa index`, checked before anything is embedded); otherwise it is used
    from memory with a warning, and the index on disk, if any, is left as it was.

    Stale means: the files of the corpus folder or of the uploads folder (content
    hashes) differ from the manifest's, or an index setting (model, chunking, BM25)
    changed. Vectors of unchanged passages are reused. An index built with another model
    is refused unless `rebuild`.

    `builder` reads the corpus and builds the index (default LocalBuild: here).
    """
    builder = builder or LocalBuild()
    index_dir = settings.index_path()
    command = rebuild_command(settings)
    manifest, why = _manifest_or_why(index_dir, command, rebuild, repair)
    _configure_embedder(embedder, settings, manifest, log)
    corpus = fingerprint(
        Path(settings.corpus_dir),
        settings.max_file_bytes(),
        known=manifest.corpus if manifest is not None and why is None else None,
        uploads=settings.indexed_uploads(),
    )

    # The one decision: use the index on disk as it is, or build one (and why).
    documents: list[Document] | None = None
    if manifest is not None and why is None:
        check_model(manifest, embedder, command)
        if not same_files(manifest.corpus, corpus) or manifest.settings != settings.index_params():
            documents = builder.read_corpus(settings, corpus, log)
            why = _staleness(manifest, documents, settings)
        if why is None:
            # Up to date: no file is read or parsed again, and the files skipped when it
            # was built are not warned about on every question.
            if previous is not None and previous.manifest == manifest:
                return previous
            try:
                return load_index(index_dir, command, manifest)
            except IndexCorruptError as e:
                if not repair:
                    raise
                why, manifest = f"{e.problem} Rebuilding it.", None
    elif why is None:
        folder = Path(settings.corpus_dir)
        shown = f"{folder}" if folder.is_file() else f"{folder}/"
        why = f"No index at {index_dir}/: building it from {shown}."
    if documents is None:
        documents = builder.read_corpus(settings, corpus, log)  # errors before any plan
    log(why if manifest is None else f"Rebuilding the index at {index_dir}/: {why}.")
    if previous is None and manifest is not None and not rebuild:
        try:
            previous = load_index(index_dir, command, manifest)  # its vectors are reused
        except (IndexCorruptError, IndexMismatchError):
            previous = None
    # A threshold the user's verdicts set (qa calibrate) outlives a rebuild of the index.
    calibration = manifest.calibration if manifest is not None else None
    return _build_and_save(
        builder,
        documents,
        corpus,
        settings,
        embedder,
        previous,
        progress,
        log,
        must_save,
        calibration,
    )


def _manifest_or_why(
    index_dir: Path, command: str, rebuild: bool, repair: bool
) -> tuple[Manifest | None, str | None]:
    """The manifest on disk (None: there is none), and why it is not to be used (None: it
    may be, if it is current)."""
    try:
        manifest = read_manifest(index_dir, command)
    except IndexNotFoundError:
        return None, None
    except IndexFormatError:
        return None, f"The index at {index_dir}/ is in an older format: rebuilding it."
    except IndexCorruptError as e:
        if not (rebuild or repair):
            raise
        return None, f"{e.problem} Rebuilding it."
    return manifest, ("a rebuild was asked for" if rebuild else None)


class Builder(Protocol):
    """Reads a corpus and builds its index, for `ensure_index`."""

    def read_corpus(self, settings: Settings, corpus: dict[str, Any], log: Log) -> list[Document]:
        """The documents of settings.corpus_dir, as `load_documents` reads them, its
        warnings logged once. `corpus` is the folder's fingerprint, taken just before."""
        ...

    def build(
        self,
        documents: list[Document],
        settings: Settings,
        embedder: TextEncoder,
        previous: Index | None,
        progress: bool,
        log: Log,
    ) -> tuple[Index, int]:
        """What `build_index` returns for these arguments: (index, passages reused)."""
        ...


class LocalBuild:
    """The build in this process: `load_documents`, then `build_index`."""

    def read_corpus(self, settings: Settings, corpus: dict[str, Any], log: Log) -> list[Document]:
        folder = Path(settings.corpus_dir)
        documents, warnings = load_documents(
            folder, settings.max_file_bytes(), settings.indexed_uploads()
        )
        for warning in warnings:
            log(warning)
        return documents

    def build(
        self,
        documents: list[Document],
        settings: Settings,
        embedder: TextEncoder,
        previous: Index | None,
        progress: bool,
        log: Log,
    ) -> tuple[Index, int]:
        return build_index(
            documents, settings, embedder, previous=previous, progress=progress, log=log
        )


def _build_and_save(
    builder: Builder,
    documents: list[Document],
    corpus: dict[str, Any],
    settings: Settings,
    embedder: TextEncoder,
    previous: Index | None,
    progress: bool,
    log: Log,
    must_save: bool,
    calibration: dict[str, Any] | None = None,
) -> Index:
    index_dir = settings.index_path()
    # Before minutes of embedding, not after: can the result be saved?
    unsaved: IndexWriteError | None = None
    try:
        check_index_writable(index_dir)
    except IndexWriteError as e:
        if must_save:
            raise
        unsaved = e
    index, reused = builder.build(documents, settings, embedder, previous, progress, log)
    manifest = replace(index.manifest, corpus=corpus, calibration=calibration)
    index = replace(index, manifest=manifest)
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
    passages = len(index.chunks)
    log(
        f"Indexed {len(documents)} {plural(len(documents), 'document')}, {passages} "
        f"{plural(passages, 'passage')} ({reused} reused, {passages - reused} embedded) into "
        f"{index_dir}/."
    )
    return index


def _configure_embedder(
    embedder: TextEncoder, settings: Settings, manifest: Manifest | None, log: Log
) -> None:
    """Tell the Embedder the settings' engine and where its ONNX export is cached
    (beside the index), with what the manifest recorded of it, so that it is found
    without hashing the model or importing torch. Stand-ins have no engine to set."""
    if not isinstance(embedder, Embedder):
        return
    from ..encoder.onnx_encoder import cache_root

    embedder.configure(
        engine=settings.encoder,
        onnx_cache=cache_root(settings.index_path()),
        record=manifest.encoder if manifest is not None else None,
        log=log,
    )


def _staleness(manifest: Manifest, documents: list[Document], settings: Settings) -> str | None:
    if manifest.settings != settings.index_params():
        changed_settings = [
            k for k, v in settings.index_params().items() if manifest.settings.get(k) != v
        ]
        return "settings changed (" + ", ".join(changed_settings) + ")"
    if manifest.corpus is None:
        return "it records no file fingerprints yet (passage vectors are reused)"
    stored = {doc_id: entry["sha256"] for doc_id, entry in manifest.documents.items()}
    current = {d.id: d.sha256 for d in documents}
    if stored != current:
        added = len(current.keys() - stored.keys())
        removed = len(stored.keys() - current.keys())
        changed = sum(1 for d in current.keys() & stored.keys() if current[d] != stored[d])
        return f"the corpus changed ({added} added, {removed} removed, {changed} changed)"
    return None
