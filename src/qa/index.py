"""Build, save and load the index: passages, their FAISS vectors and BM25 weights.

An index folder holds plain files only (never pickle, since loading a pickle runs code):

    manifest.json    format version, model, dimension, settings, each document's hash,
                     the ONNX export of the model that embeds questions (onnx_encoder.py)
    documents.jsonl  one Document per line (title, date, outlet, body text), in the
                     order of the manifest's documents
    chunks.jsonl     one Chunk per line, in vector order
    documents.offsets.npy, chunks.offsets.npy
                     where each line of those starts, in bytes (and where the last ends)
    faiss.index      the normalized passage vectors
    bm25.*.npy       BM25 weights: one numpy array per file (idf, data, indices, indptr,
                     zero_tf), memory-mapped when loaded, with allow_pickle=False
    vocabulary.json  the BM25 terms, in row order

Loading reads what every question needs and leaves the rest on disk (load_index): the
FAISS file and the BM25 arrays are memory-mapped, and a passage or a document is read
from its JSONL line when it is first asked for. At 100,000 passages that took loading
from 1.5 s to 0.02 s and the memory a loaded index holds from 1.5x to 0.9x its raw
vectors and text; at 1,000,000 loading takes 0.15 s (docs/BENCHMARKS.md).

Writes are atomic: a new index is written into a temporary sibling folder and swapped in
by rename, so a crash or Ctrl-C mid-build leaves the previous index as it was.
"""

from __future__ import annotations

import errno
import json
import os
import shlex
import shutil
import sys
import tempfile
import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .bm25 import SparseBM25
from .chunking import Chunk, chunk_document, context
from .config import INDEX_FORMAT_VERSION, Settings
from .corpus import Document
from .embedding import Embedder
from .errors import (
    IndexCorruptError,
    IndexFormatError,
    IndexMismatchError,
    IndexNotFoundError,
    IndexWriteError,
)
from .log import to_stderr
from .text import find_acronyms, tokenize
from .vectors import build_vector_index, read_vector_index


@dataclass
class Index:
    """Everything a question is answered from. Treated as immutable once built."""

    manifest: dict[str, Any]
    # dict and list when built; read on demand from the index folder when loaded.
    documents: Mapping[str, Document]
    chunks: Sequence[Chunk]
    vectors: Any  # a faiss.Index over the chunks' vectors, row i = chunks[i]
    bm25: SparseBM25
    acronyms: dict[str, str] = field(default_factory=dict)

    @property
    def dimension(self) -> int:
        return int(self.manifest["dimension"])

    def chunk_vectors(self) -> np.ndarray:
        """All passage vectors, shape (n_chunks, dimension)."""
        if self.vectors.ntotal == 0:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return self.vectors.reconstruct_n(0, self.vectors.ntotal)


def scoring_text(chunk: Chunk, document: Document) -> str:
    """What retrieval scores for a passage of `document`: its context (title, previous
    sentence) and its text. A passage that opens "It has ..." has lost its subject; the
    context gives it back without changing the quoted text or its offsets."""
    before = context(chunk, document)
    return f"{before}\n{chunk.text}" if before else chunk.text


def build_index(
    documents: list[Document],
    settings: Settings,
    embedder: Embedder,
    previous: Index | None = None,
    progress: bool = False,
    log: Callable[[str], None] | None = None,
) -> tuple[Index, int]:
    """Chunk, embed and index `documents`.

    Args:
        documents: the corpus.
        settings: chunking and BM25 parameters.
        embedder: the model; its name and dimension are recorded in the manifest.
        previous: an index built with the same model, whose vectors are reused for
            passages whose text did not change.
        progress: say how many passages of how many files will be embedded, then
            how far embedding got and about how long it has left (embed_with_progress).
        log: where those lines go (default: stderr).

    Returns:
        (index, number of passages whose vectors were reused).
    """
    chunks = [
        c
        for d in documents
        for c in chunk_document(d, settings.chunk_words, settings.chunk_overlap)
    ]
    by_id = {d.id: d for d in documents}
    texts = [scoring_text(c, by_id[c.doc_id]) for c in chunks]
    reusable = _reusable_vectors(previous)
    todo = [i for i, text in enumerate(texts) if text not in reusable]
    if progress and todo:
        new_vectors = embed_with_progress(
            embedder,
            [texts[i] for i in todo],
            files=len({chunks[i].doc_id for i in todo}),
            reused=len(chunks) - len(todo),
            log=log or to_stderr,
        )
    else:
        new_vectors = embedder.encode([texts[i] for i in todo])
    dimension = embedder.dimension
    vectors = np.zeros((len(chunks), dimension), dtype=np.float32)
    for i, text in enumerate(texts):
        vectors[i] = reusable.get(text, 0.0)
    if todo:
        vectors[todo] = new_vectors

    # Exact search up to settings.ann_threshold passages, an HNSW graph beyond.
    vector_index = build_vector_index(vectors, settings)
    # A generator: the token lists of all passages are never held at once.
    bm25 = SparseBM25.build(
        (tokenize(text) for text in texts),
        settings.bm25_variant,
        settings.bm25_k1,
        settings.bm25_b,
    )
    acronyms = _acronyms(documents)
    manifest = {
        "format_version": INDEX_FORMAT_VERSION,
        "model": embedder.name,
        "model_path": str(embedder.model_path),
        "dimension": dimension,
        "settings": settings.index_params(),
        "corpus_dir": str(settings.corpus_dir),
        "documents": {d.id: {"sha256": d.sha256, "path": d.path} for d in documents},
        "chunks": len(chunks),
        # Found once here rather than on every load (it reads every document's text).
        "acronyms": acronyms,
    }
    # The ONNX export that embeds the questions (onnx_encoder.record_of): its folder,
    # the model's content hash, and the model files' sizes and times, which let a
    # question find it without hashing the model again.
    encoder_record = getattr(embedder, "encoder_record", None)
    record = encoder_record() if callable(encoder_record) else None
    if record is not None:
        manifest["encoder"] = record
    index = Index(
        manifest=manifest,
        documents=by_id,
        chunks=chunks,
        vectors=vector_index,
        bm25=bm25,
        acronyms=acronyms,
    )
    return index, len(chunks) - len(todo)


# embed_with_progress embeds this many batches at a time between two looks at the clock,
# and reports at most once per PROGRESS_EVERY_S seconds (and once after the first slice,
# so the first estimate comes early).
SLICE_BATCHES = 4
PROGRESS_EVERY_S = 10.0
_clock = time.monotonic


def embed_with_progress(
    embedder: Embedder, texts: list[str], files: int, reused: int, log: Callable[[str], None]
) -> np.ndarray:
    """`embedder.encode(texts)`, saying first how much there is to embed, then, while it
    runs, how far it got and how long it has left.

    The estimate is measured, not assumed: the characters embedded so far over the time
    they took (the model's loading excluded), applied to the characters left. Texts are
    embedded longest first, as sentence-transformers orders them within one call, so the
    batches are the same as one call would make.
    """
    n = len(texts)
    unchanged = f", {reused:,} unchanged {_plural(reused, 'passage')} reused" if reused else ""
    log(
        f"Embedding {n:,} {_plural(n, 'passage')} from {files:,} {_plural(files, 'file')}"
        f"{unchanged} ..."
    )
    dimension = embedder.dimension  # loads the model first, so its loading is not timed
    vectors = np.zeros((n, dimension), dtype=np.float32)
    order = sorted(range(n), key=lambda i: -len(texts[i]))
    step = max(1, embedder.batch_size) * SLICE_BATCHES
    total_chars = sum(len(t) for t in texts) or 1
    done_chars = 0
    start = _clock()
    last_report: float | None = None
    for begin in range(0, n, step):
        part = order[begin : begin + step]
        vectors[part] = embedder.encode([texts[i] for i in part])
        done_chars += sum(len(texts[i]) for i in part)
        done, now = begin + len(part), _clock()
        elapsed = now - start
        if (
            done < n
            and elapsed > 0
            and (last_report is None or now - last_report >= PROGRESS_EVERY_S)
        ):
            left = (total_chars - done_chars) * elapsed / done_chars
            log(
                f"Embedded {done:,} of {n:,} passages ({100 * done // n}%) in "
                f"{_duration(elapsed)}; about {_duration(left)} left ..."
            )
            last_report = now
    if last_report is not None:
        log(f"Embedded {n:,} passages in {_duration(_clock() - start)}.")
    return vectors


def _plural(n: int, word: str) -> str:
    return word if n == 1 else f"{word}s"


def _duration(seconds: float) -> str:
    """3 s, 45 s, 2 min 10 s, 12 min, 1 h 5 min."""
    s = max(1, round(seconds))
    if s < 60:
        return f"{s} s"
    if s < 600:
        minutes, rest = divmod(s, 60)
        return f"{minutes} min {rest} s" if rest else f"{minutes} min"
    if s < 3600:
        return f"{round(s / 60)} min"
    hours, minutes = divmod(round(s / 60), 60)
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"


def _reusable_vectors(previous: Index | None) -> dict[str, np.ndarray]:
    """Vectors of a previous index (same model), keyed by the exact text embedded: a
    passage whose text is unchanged keeps its vector even if its id or neighbours moved."""
    if previous is None or not previous.chunks:
        return {}
    old = previous.chunk_vectors()
    return {
        scoring_text(c, previous.documents[c.doc_id]): old[i] for i, c in enumerate(previous.chunks)
    }


def _acronyms(documents: list[Document]) -> dict[str, str]:
    found: dict[str, str] = {}
    for d in documents:
        found.update(find_acronyms(d.text))
    return found


# The BM25 arrays' files, by array name (SparseBM25.ARRAYS).
BM25_FILES = {name: f"bm25.{name}.npy" for name in SparseBM25.ARRAYS}
# The files of an index folder (module docstring).
INDEX_FILES = (
    "manifest.json",
    "documents.jsonl",
    "documents.offsets.npy",
    "chunks.jsonl",
    "chunks.offsets.npy",
    "faiss.index",
    *BM25_FILES.values(),
    "vocabulary.json",
)


def save_index(index: Index, directory: Path | str) -> None:
    """Write `index` to `directory`, atomically replacing whatever index was there.

    Raises:
        IndexWriteError: the folder cannot be created or written (permissions, a file in
            the way, a full disk), or it holds files that are not an index. The index
            that was there, if any, is left as it was.
    """
    import faiss

    target = Path(directory)
    try:
        _check_replaceable(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.building-", dir=target.parent))
    except OSError as e:
        raise _write_error(target, e) from e
    try:
        _write_json(tmp / "manifest.json", index.manifest)
        if list(index.manifest.get("documents", {})) != list(index.documents):
            # load_index takes the documents' ids, in line order, from the manifest.
            raise ValueError("the manifest lists other documents than the index holds")
        for name, rows in (
            ("documents", (asdict(d) for d in index.documents.values())),
            ("chunks", (asdict(c) for c in index.chunks)),
        ):
            offsets = _write_jsonl(tmp / f"{name}.jsonl", rows)
            np.save(tmp / f"{name}.offsets.npy", offsets, allow_pickle=False)
        try:
            faiss.write_index(index.vectors, str(tmp / "faiss.index"))
        except RuntimeError as e:
            # faiss reports a failed write as a C++ message without an errno.
            raise _cannot_write(target, "writing faiss.index failed; is the disk full?") from e
        for name, values in index.bm25.to_arrays().items():
            np.save(tmp / BM25_FILES[name], values, allow_pickle=False)
        terms = sorted(index.bm25.vocabulary, key=index.bm25.vocabulary.__getitem__)
        _write_json(tmp / "vocabulary.json", terms)
        _swap_in(tmp, target)
    except OSError as e:
        shutil.rmtree(tmp, ignore_errors=True)
        raise _write_error(target, e) from e
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def check_index_writable(directory: Path | str) -> None:
    """Fail early, before minutes of embedding, when save_index could not write the index
    in `directory`: it creates and removes an empty temporary folder beside it. (A disk
    that fills up meanwhile is still only found when saving.)

    Raises:
        IndexWriteError: as save_index.
    """
    target = Path(directory)
    try:
        _check_replaceable(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.rmdir(tempfile.mkdtemp(prefix=f".{target.name}.building-", dir=target.parent))
    except OSError as e:
        raise _write_error(target, e) from e


def _check_replaceable(target: Path) -> None:
    """Refuse to replace a file, or a folder of other things: saving swaps out the whole
    folder, and `--index-dir ~/Documents` must not delete ~/Documents."""
    if not target.exists():
        return
    if not target.is_dir():
        raise _cannot_write(target, f"{target} is a file, not a folder")
    names = {p.name for p in target.iterdir() if not p.name.startswith(".")}
    if names and not names & set(INDEX_FILES):
        raise _cannot_write(
            target,
            "that folder holds other files, which replacing it would delete",
            advice="Point --index-dir (or QA_INDEX_DIR) at a new or empty folder.",
        )


def _write_error(target: Path, error: OSError) -> IndexWriteError:
    """The one-line IndexWriteError for an OSError met while writing the index."""
    code = error.errno
    if code in (errno.EACCES, errno.EPERM):
        return _cannot_write(target, "permission denied")
    if code == errno.EROFS:
        return _cannot_write(target, "the file system is read-only")
    if code == errno.ENOSPC:
        return _cannot_write(target, "no space left on the disk", full=True)
    if code == getattr(errno, "EDQUOT", None):
        return _cannot_write(target, "disk quota exceeded", full=True)
    if code in (errno.ENOTDIR, errno.EEXIST):
        in_the_way = next(
            (p for p in (target, *target.parents) if p.exists() and not p.is_dir()), None
        )
        if in_the_way is not None:
            return _cannot_write(target, f"{in_the_way} is a file, not a folder")
    reason = (error.strerror or type(error).__name__).lower()
    return _cannot_write(target, reason)


def _cannot_write(
    target: Path, reason: str, full: bool = False, advice: str = ""
) -> IndexWriteError:
    advice = advice or (
        "Free some disk space, or point --index-dir (or QA_INDEX_DIR) at another disk."
        if full
        else "Point --index-dir (or QA_INDEX_DIR) at a folder you can write."
    )
    return IndexWriteError(
        f"Cannot write the index at {target}/ ({reason}). {advice}",
        path=str(target),
        reason=reason,
        advice=advice,
    )


def _swap_in(tmp: Path, target: Path) -> None:
    """Replace `target` by `tmp` with renames: no moment leaves a half-written index."""
    if not target.exists():
        os.replace(tmp, target)
        return
    old = target.with_name(f".{target.name}.old-{os.getpid()}")
    os.replace(target, old)
    try:
        os.replace(tmp, target)
    except BaseException:
        os.replace(old, target)
        raise
    shutil.rmtree(old, ignore_errors=True)


# What the messages below tell a user to run, unless the caller knows the exact command
# (rebuild_command).
REBUILD = "qa index --rebuild"


def rebuild_command(settings: Settings) -> str:
    """The `qa index` command line that rebuilds the index `settings` uses: with the
    corpus, --index-dir and --model the user gave, so it rebuilds that index and not the
    default one."""
    parts = ["qa", "index"]
    if Path(settings.corpus_dir) != Path("corpus"):
        parts.append(shlex.quote(str(settings.corpus_dir)))
    if settings.index_dir is not None:
        parts += ["--index-dir", shlex.quote(str(settings.index_dir))]
    if settings.model:
        parts += ["--model", shlex.quote(settings.model)]
    return " ".join([*parts, "--rebuild"])


def _damaged(
    root: Path, problem: str, command: str, state: str = "is damaged"
) -> IndexCorruptError:
    """A damaged-index error naming the file and what is wrong with it in plain words
    (never the faiss or numpy exception text), and the command that rebuilds it."""
    what = f"The index at {root}/ {state}: {problem}."
    return IndexCorruptError(f'{what} Run "{command}" to rebuild it.', problem=what)


def read_manifest(directory: Path | str, command: str = REBUILD) -> dict[str, Any]:
    """The manifest of the index in `directory`.

    Args:
        command: the rebuild command the error messages name.

    Raises:
        IndexNotFoundError: no index there.
        IndexCorruptError: the manifest is unreadable.
    """
    root = Path(directory)
    path = root / "manifest.json"
    try:
        if not path.is_file():
            raise IndexNotFoundError(f'No index at {directory}/. Run "qa index" first.')
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except OSError as e:  # also from is_file, in a folder this user may not enter
        raise _damaged(root, _unreadable("manifest.json", e), command, "cannot be used") from e
    except ValueError as e:  # UnicodeDecodeError, json.JSONDecodeError
        raise _damaged(root, "manifest.json is truncated or corrupted", command) from e
    if not isinstance(manifest, dict):
        raise _damaged(root, "manifest.json is corrupted", command)
    if manifest.get("format_version") != INDEX_FORMAT_VERSION:
        raise IndexFormatError(
            f'The index at {directory}/ has another format version. Run "{command}" to rebuild it.'
        )
    return manifest


def check_model(manifest: dict[str, Any], embedder: Embedder, command: str = REBUILD) -> None:
    """Refuse an index built with another model or dimension: its vectors mean nothing
    to this model."""
    if (
        manifest.get("model_path") != str(embedder.model_path)
        and manifest.get("model") != embedder.name
    ):
        raise IndexMismatchError(
            f"The index was built with model {manifest.get('model')!r}, not {embedder.name!r}. "
            f'Run "{command}" to rebuild it with this model.'
        )
    if int(manifest.get("dimension", -1)) != embedder.dimension:
        raise IndexMismatchError(
            f"The index holds {manifest.get('dimension')}-dimensional vectors but the model makes "
            f'{embedder.dimension}-dimensional ones. Run "{command}" to rebuild it.'
        )


def load_index(directory: Path | str, command: str = REBUILD) -> Index:
    """Load the index saved in `directory`.

    Reads only what a question needs: the manifest, the vocabulary and the line offsets
    of the JSONL files. The FAISS index (faiss.IO_FLAG_MMAP_IFC, which maps flat and HNSW
    storage alike; faiss's IO_FLAG_MMAP maps neither) and the BM25 arrays (np.load with
    mmap_mode="r") are memory-mapped, so the operating system pages in what searches
    touch (vectors.read_vector_index). Passages and documents are read from their JSONL
    lines when asked for (`Index.chunks[i]`, `Index.documents[doc_id]`), through file
    handles opened here: an index rebuilt meanwhile (save_index swaps in new files)
    leaves a loaded one as it was.

    Args:
        command: the rebuild command the error messages name.

    Raises:
        IndexNotFoundError: no index there.
        IndexCorruptError: a file is missing, truncated or inconsistent; the message
            names the file. A passage or document found damaged only when it is read
            raises it then.
    """
    root = Path(directory)
    manifest = read_manifest(root, command)
    for name in INDEX_FILES:
        try:
            present = (root / name).is_file()
        except OSError as e:
            raise _damaged(root, _unreadable(name, e), command, "cannot be used") from e
        if not present:
            raise _damaged(root, f"{name} is missing", command)
    name = "manifest.json"
    try:
        dimension = int(manifest["dimension"])
        acronyms = dict(manifest.get("acronyms", {}))
        document_ids = list(manifest["documents"])
        name = "documents.jsonl"
        documents = _DocumentTable(
            _Lines(root, name, document_ids, command), {d: i for i, d in enumerate(document_ids)}
        )
        name = "chunks.jsonl"
        chunks = _ChunkTable(_Lines(root, name, None, command))
        name = "faiss.index"
        vectors = read_vector_index(str(root / name))
        arrays = {}
        for key, name in BM25_FILES.items():
            arrays[key] = np.load(root / name, mmap_mode="r", allow_pickle=False)
        name = "vocabulary.json"
        vocabulary = json.loads((root / name).read_text(encoding="utf-8"))
        if not isinstance(vocabulary, list):
            raise TypeError("not a list")
        name = BM25_FILES["data"]
        bm25 = SparseBM25.from_arrays(vocabulary, arrays)
    except OSError as e:
        raise _damaged(root, _unreadable(name, e), command, "cannot be used") from e
    except IndexCorruptError:
        raise
    except Exception as e:  # whatever faiss, numpy or json raise for a damaged file
        raise _damaged(root, f"{name} is truncated or corrupted", command) from e
    n_terms = bm25.weights.shape[0]
    if vectors.ntotal != len(chunks):
        problem = (
            f"faiss.index holds {vectors.ntotal:,} vectors but chunks.jsonl holds "
            f"{len(chunks):,} passages"
        )
    elif bm25.weights.shape[1] != len(chunks):
        problem = (
            f"{BM25_FILES['zero_tf']} covers {bm25.weights.shape[1]:,} passages but "
            f"chunks.jsonl holds {len(chunks):,}"
        )
    elif vectors.d != dimension:
        problem = (
            f"faiss.index holds {vectors.d}-dimensional vectors, not {dimension} as "
            "manifest.json says"
        )
    elif len(bm25.vocabulary) != n_terms or len(bm25.idf) != n_terms:
        problem = f"vocabulary.json and {BM25_FILES['indptr']} disagree on the number of terms"
    else:
        return Index(
            manifest=manifest,
            documents=documents,
            chunks=chunks,
            vectors=vectors,
            bm25=bm25,
            acronyms=acronyms,
        )
    raise _damaged(root, problem, command)


class _Lines:
    """The lines of an index's JSONL file, each read when asked for, by the byte offsets
    in its `.offsets.npy` companion, through one file handle held open.

    Args:
        root, name: the folder and the file.
        ids: the id each line's row must carry (documents), or None.
        command: the rebuild command a damaged-index error names.

    Raises:
        IndexCorruptError: the offsets do not match the file, or (when read) a line does
            not parse or carries another id.
    """

    def __init__(self, root: Path, name: str, ids: list[str] | None, command: str) -> None:
        self.root, self.name, self.command, self.ids = root, name, command, ids
        offsets_name = name.replace(".jsonl", ".offsets.npy")
        try:
            offsets = np.load(root / offsets_name, allow_pickle=False)
        except OSError as e:
            problem = _unreadable(offsets_name, e)
            raise _damaged(root, problem, command, "cannot be used") from e
        except Exception as e:
            raise _damaged(root, f"{offsets_name} is truncated or corrupted", command) from e
        self.file = open(root / name, "rb")  # noqa: SIM115 - closed by the finalizer
        weakref.finalize(self, self.file.close)
        self.lock = threading.Lock()
        size = os.fstat(self.file.fileno()).st_size
        if (
            offsets.ndim != 1
            or offsets.dtype != np.int64
            or not len(offsets)
            or offsets[0] != 0
            or offsets[-1] != size
            or (ids is not None and len(offsets) != len(ids) + 1)
            or bool(np.any(offsets[1:] <= offsets[:-1]))
        ):
            raise self.damaged()
        self.offsets = offsets

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def damaged(self) -> IndexCorruptError:
        return _damaged(self.root, f"{self.name} is truncated or corrupted", self.command)

    def _read(self, start: int, end: int) -> bytes:
        with self.lock:
            self.file.seek(start)
            return self.file.read(end - start)

    def row(self, i: int) -> dict[str, Any]:
        start, end = int(self.offsets[i]), int(self.offsets[i + 1])
        return self._parse(i, self._read(start, end))

    def rows(self) -> Iterator[dict[str, Any]]:
        """Every row in order, read a few MiB at a time."""
        i, n = 0, len(self)
        while i < n:
            j = min(n, int(np.searchsorted(self.offsets, self.offsets[i] + _READ_BYTES)))
            j = max(j, i + 1)
            start = int(self.offsets[i])
            raw = self._read(start, int(self.offsets[j]))
            for k in range(i, j):
                yield self._parse(k, raw[self.offsets[k] - start : self.offsets[k + 1] - start])
            i = j

    def _parse(self, i: int, line: bytes) -> dict[str, Any]:
        try:
            row = json.loads(line)
        except ValueError as e:
            raise self.damaged() from e
        if not isinstance(row, dict) or (self.ids is not None and row.get("id") != self.ids[i]):
            raise self.damaged()
        return row


# How much of a JSONL file _Lines.rows reads at a time.
_READ_BYTES = 4 << 20


class _ChunkTable(Sequence[Chunk]):
    """The passages of a loaded index, each parsed from chunks.jsonl when asked for.

    A question reads the k passages it returns; parsing all of them took 0.8 s and
    74 MiB at 100,000 passages, and would take ten times that at 1,000,000."""

    def __init__(self, lines: _Lines) -> None:
        self.lines = lines

    def __len__(self) -> int:
        return len(self.lines)

    def __getitem__(self, i: Any) -> Any:
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        n = len(self)
        if not -n <= i < n:
            raise IndexError("passage index out of range")
        return self._chunk(self.lines.row(i % n))

    def __iter__(self) -> Iterator[Chunk]:
        return (self._chunk(row) for row in self.lines.rows())

    def _chunk(self, row: dict[str, Any]) -> Chunk:
        try:
            return Chunk(
                **{**row, "doc_id": sys.intern(row["doc_id"]), "offsets": tuple(row["offsets"])}
            )
        except (KeyError, TypeError) as e:
            raise self.lines.damaged() from e


class _DocumentTable(Mapping[str, Document]):
    """The documents of a loaded index by id, each parsed from documents.jsonl when first
    asked for, and kept while the documents kept hold at most _CACHE_CHARS characters
    (a question asks for the documents of its few best passages, again and again)."""

    def __init__(self, lines: _Lines, rows: dict[str, int]) -> None:
        self.lines, self.rows = lines, rows
        self.cache: OrderedDict[str, Document] = OrderedDict()
        self.cached_chars = 0
        self.lock = threading.Lock()

    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self) -> Iterator[str]:
        return iter(self.rows)

    def __contains__(self, doc_id: object) -> bool:
        return doc_id in self.rows

    def __getitem__(self, doc_id: str) -> Document:
        with self.lock:
            document = self.cache.get(doc_id)
            if document is not None:
                self.cache.move_to_end(doc_id)
                return document
        document = self._document(self.lines.row(self.rows[doc_id]))
        with self.lock:
            if doc_id not in self.cache:
                self.cache[doc_id] = document
                self.cached_chars += len(document.text)
                while self.cached_chars > _CACHE_CHARS and len(self.cache) > 1:
                    _, dropped = self.cache.popitem(last=False)
                    self.cached_chars -= len(dropped.text)
        return document

    def values(self) -> Any:
        """Every document in order, read in one pass (the UI's documents table)."""
        return _DocumentValues(self)

    def _document(self, row: dict[str, Any]) -> Document:
        try:
            return Document(**row)
        except TypeError as e:
            raise self.lines.damaged() from e


class _DocumentValues:
    def __init__(self, table: _DocumentTable) -> None:
        self.table = table

    def __len__(self) -> int:
        return len(self.table)

    def __iter__(self) -> Iterator[Document]:
        return (self.table._document(row) for row in self.table.lines.rows())


# The most characters of document text a loaded index keeps parsed (a few MiB).
_CACHE_CHARS = 4_000_000


def _unreadable(name: str, error: OSError) -> str:
    """`name` could not be read at all (not damaged inside): say why, in words."""
    if isinstance(error, PermissionError):
        return f"{name} cannot be read (permission denied)"
    return f"{name} cannot be read ({(error.strerror or type(error).__name__).lower()})"


def _write_json(path: Path, value: Any) -> None:
    path.write_text(json.dumps(value, ensure_ascii=False, indent=1), encoding="utf-8")


def _write_jsonl(path: Path, rows: Any) -> np.ndarray:
    """Write one JSON object per line; return where each line starts, and where the last
    ends, in bytes (the `.offsets.npy` that _Lines reads lines by)."""
    offsets = [0]
    with path.open("wb") as f:
        for row in rows:
            line = (json.dumps(row, ensure_ascii=False) + "\n").encode("utf-8")
            f.write(line)
            offsets.append(offsets[-1] + len(line))
    return np.asarray(offsets, dtype=np.int64)
