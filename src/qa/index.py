"""Build, save and load the index: passages, their FAISS vectors and BM25 weights.

An index folder holds plain files only (never pickle, since loading a pickle runs code):

    manifest.json    format version, model, dimension, settings, each document's hash
    documents.jsonl  one Document per line (title, date, outlet, body text)
    chunks.jsonl     one Chunk per line, in vector order
    faiss.index      the normalized passage vectors
    bm25.npz         BM25 weights (numpy arrays, loaded with allow_pickle=False)
    vocabulary.json  the BM25 terms, in row order

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
import time
from collections.abc import Callable, Iterator
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
from .text import find_acronyms, tokenize
from .vectors import build_vector_index


@dataclass
class Index:
    """Everything a question is answered from. Treated as immutable once built."""

    manifest: dict[str, Any]
    documents: dict[str, Document]
    chunks: list[Chunk]
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
            log=log or _stderr,
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
    bm25 = SparseBM25.build(
        [tokenize(text) for text in texts],
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


def _stderr(message: str) -> None:
    print(message, file=sys.stderr)


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


# The files of an index folder (module docstring).
INDEX_FILES = (
    "manifest.json",
    "documents.jsonl",
    "chunks.jsonl",
    "faiss.index",
    "bm25.npz",
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
        _write_jsonl(tmp / "documents.jsonl", (asdict(d) for d in index.documents.values()))
        _write_jsonl(tmp / "chunks.jsonl", (asdict(c) for c in index.chunks))
        try:
            faiss.write_index(index.vectors, str(tmp / "faiss.index"))
        except RuntimeError as e:
            # faiss reports a failed write as a C++ message without an errno.
            raise _cannot_write(target, "writing faiss.index failed; is the disk full?") from e
        np.savez(tmp / "bm25.npz", **index.bm25.to_arrays())  # type: ignore[arg-type]
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

    Args:
        command: the rebuild command the error messages name.

    Raises:
        IndexNotFoundError: no index there.
        IndexCorruptError: a file is missing, truncated or inconsistent; the message
            names the file.
    """
    import faiss

    root = Path(directory)
    manifest = read_manifest(root, command)
    for name in INDEX_FILES:
        try:
            present = (root / name).is_file()
        except OSError as e:
            raise _damaged(root, _unreadable(name, e), command, "cannot be used") from e
        if not present:
            raise _damaged(root, f"{name} is missing", command)
    name = "documents.jsonl"
    try:
        documents = [Document(**row) for row in _read_jsonl(root / name)]
        name = "chunks.jsonl"
        chunks = [
            Chunk(
                **{
                    **row,
                    "doc_id": sys.intern(row["doc_id"]),
                    "offsets": tuple(row["offsets"]),
                }
            )
            for row in _read_jsonl(root / name)
        ]
        name = "faiss.index"
        vectors = faiss.read_index(str(root / name))
        name = "bm25.npz"
        with np.load(root / name, allow_pickle=False) as arrays:
            bm25_arrays = {key: arrays[key] for key in arrays.files}
        name = "vocabulary.json"
        vocabulary = json.loads((root / name).read_text(encoding="utf-8"))
        if not isinstance(vocabulary, list):
            raise TypeError("not a list")
        name = "bm25.npz"
        bm25 = SparseBM25.from_arrays(vocabulary, bm25_arrays)
        name = "manifest.json"
        dimension = int(manifest["dimension"])
        acronyms = dict(manifest.get("acronyms", {}))
    except OSError as e:
        raise _damaged(root, _unreadable(name, e), command, "cannot be used") from e
    except Exception as e:  # whatever faiss, numpy or json raise for a damaged file
        raise _damaged(root, f"{name} is truncated or corrupted", command) from e
    n_terms = bm25.weights.shape[0]
    by_id = {d.id: d for d in documents}
    if vectors.ntotal != len(chunks):
        problem = (
            f"faiss.index holds {vectors.ntotal:,} vectors but chunks.jsonl holds "
            f"{len(chunks):,} passages"
        )
    elif bm25.weights.shape[1] != len(chunks):
        problem = (
            f"bm25.npz covers {bm25.weights.shape[1]:,} passages but chunks.jsonl holds "
            f"{len(chunks):,}"
        )
    elif vectors.d != dimension:
        problem = (
            f"faiss.index holds {vectors.d}-dimensional vectors, not {dimension} as "
            "manifest.json says"
        )
    elif len(bm25.vocabulary) != n_terms or len(bm25.idf) != n_terms:
        problem = "vocabulary.json and bm25.npz disagree on the number of terms"
    elif any(c.doc_id not in by_id for c in chunks):
        problem = "chunks.jsonl cites documents that documents.jsonl lacks"
    else:
        return Index(
            manifest=manifest,
            documents=by_id,
            chunks=chunks,
            vectors=vectors,
            bm25=bm25,
            acronyms=acronyms,
        )
    raise _damaged(root, problem, command)


def _unreadable(name: str, error: OSError) -> str:
    """`name` could not be read at all (not damaged inside): say why, in words."""
    if isinstance(error, PermissionError):
        return f"{name} cannot be read (permission denied)"
    return f"{name} cannot be read ({(error.strerror or type(error).__name__).lower()})"


def _write_json(path: Path, value: Any) -> None:
    path.write_text(json.dumps(value, ensure_ascii=False, indent=1), encoding="utf-8")


def _write_jsonl(path: Path, rows: Any) -> None:
    with path.open("w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")


def _read_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    """Rows one at a time: at 100,000 passages, parsing every row before building any
    Chunk doubled the memory that loading takes and keeps (docs/BENCHMARKS.md)."""
    with path.open(encoding="utf-8") as f:
        for line in f:
            if line.strip():
                yield json.loads(line)
