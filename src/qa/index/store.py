"""Saving and loading the index folder (its manifest: manifest.py).

An index folder holds plain files only (never pickle, since loading a pickle runs code):

    manifest.json    format version, model, dimension, settings, each document's hash,
                     the ONNX export of the model that embeds questions (onnx_encoder.py)
    documents.jsonl  one Document per line, in the order of the manifest's documents
    chunks.jsonl     one Chunk per line, in vector order
    *.offsets.npy    where each line of those two starts, in bytes
    vectors.npy      the normalized passage vectors, searched exactly (numpy), or
    faiss.index      the HNSW graph over them, past Settings.ann_threshold passages
    bm25.*.npy       BM25 weights, one numpy array per file (read with allow_pickle=False)
    vocabulary.json  the BM25 terms, in row order

Loading reads what every question needs (load_index): the vectors (or the FAISS file)
and the BM25 arrays are memory-mapped, and a passage or a document is read from its JSONL
line when first asked for. At 100,000 passages loading went from 1.5 s to 0.02 s, and memory from
1.5x to 0.9x the raw vectors and text; 1,000,000 load in 0.15 s (docs/BENCHMARKS.md).

Writes are atomic (a temporary sibling folder, swapped in by rename): a crash or Ctrl-C
mid-build leaves the previous index as it was.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from ..digest import swap_folder
from ..errors import REBUILD, IndexCorruptError, IndexWriteError, damaged, unreadable
from .bm25 import SparseBM25
from .data import Index, _ChunkTable, _DocumentTable, _Lines
from .manifest import Manifest, check_model, read_manifest
from .vectors import EXACT_FILE, FAISS_FILE, VECTOR_FILES, read_vector_index, vector_file

# The BM25 arrays' files, by array name (SparseBM25.ARRAYS).
BM25_FILES = {name: f"bm25.{name}.npy" for name in SparseBM25.ARRAYS}
# The files of an index folder (module docstring).
INDEX_FILES: tuple[str, ...] = ("manifest.json", "documents.jsonl", "documents.offsets.npy")
INDEX_FILES += ("chunks.jsonl", "chunks.offsets.npy", *BM25_FILES.values())
INDEX_FILES += ("vocabulary.json",)
# And one of VECTOR_FILES: vectors.npy or faiss.index.


def save_index(index: Index, directory: Path | str) -> None:
    """Write `index` to `directory`, atomically replacing whatever index was there.

    Raises:
        IndexWriteError: the folder cannot be created or written (permissions, a file in
            the way, a full disk), or it holds files that are not an index. The index
            that was there, if any, is left as it was.
    """
    target = Path(directory)
    try:
        _check_replaceable(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.building-", dir=target.parent))
    except OSError as e:
        raise _write_error(target, e) from e
    try:
        _write_json(tmp / "manifest.json", index.manifest.to_json())
        if list(index.manifest.documents) != list(index.documents):
            # load_index takes the documents' ids, in line order, from the manifest.
            raise ValueError("the manifest lists other documents than the index holds")
        for name, rows in (
            ("documents", (asdict(d) for d in index.documents.values())),
            ("chunks", (asdict(c) for c in index.chunks)),
        ):
            offsets = _write_jsonl(tmp / f"{name}.jsonl", rows)
            np.save(tmp / f"{name}.offsets.npy", offsets, allow_pickle=False)
        try:
            index.vectors.write(tmp)
        except RuntimeError as e:
            # faiss reports a failed write as a C++ message without an errno.
            message = f"writing {index.vectors.file_name} failed; is the disk full?"
            raise _cannot_write(target, message) from e
        for name, values in index.bm25.to_arrays().items():
            np.save(tmp / BM25_FILES[name], values, allow_pickle=False)
        terms = sorted(index.bm25.vocabulary, key=index.bm25.vocabulary.__getitem__)
        _write_json(tmp / "vocabulary.json", terms)
        swap_folder(tmp, target)
    except OSError as e:
        shutil.rmtree(tmp, ignore_errors=True)
        raise _write_error(target, e) from e
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def write_manifest(manifest: Manifest, directory: Path | str) -> None:
    """Replace the manifest of the index in `directory`, its other files as they are, in
    one rename: `qa calibrate` records a threshold without writing the index again.

    Raises:
        IndexWriteError: the folder cannot be written.
    """
    target = Path(directory)
    temporary = None
    try:
        handle, temporary = tempfile.mkstemp(prefix=".manifest-", suffix=".json", dir=target)
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(manifest.to_json(), out, ensure_ascii=False, indent=1)
        os.replace(temporary, target / "manifest.json")
    except OSError as e:
        if temporary is not None and os.path.exists(temporary):
            os.unlink(temporary)
        raise _write_error(target, e) from e


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
    if names and not names & {*INDEX_FILES, *VECTOR_FILES}:
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


def load_index(
    directory: Path | str, command: str = REBUILD, manifest: Manifest | None = None
) -> Index:
    """Load the index saved in `directory` (`manifest`: its manifest, when the caller has
    just read it; at 1,000,000 passages parsing it takes 60-100 ms).

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
    manifest = manifest if manifest is not None else read_manifest(root, command)
    for name in INDEX_FILES:
        try:
            present = (root / name).is_file()
        except OSError as e:
            raise damaged(root, unreadable(name, e), command, "cannot be used") from e
        if not present:
            raise damaged(root, f"{name} is missing", command)
    try:
        vector_name = vector_file(root)
    except OSError as e:
        raise damaged(root, unreadable(EXACT_FILE, e), command, "cannot be used") from e
    if vector_name is None:
        raise damaged(root, f"{EXACT_FILE} (or {FAISS_FILE}) is missing", command)
    dimension, document_ids = manifest.dimension, list(manifest.documents)
    try:
        name = "documents.jsonl"
        documents = _DocumentTable(
            _Lines(root, name, document_ids, command), {d: i for i, d in enumerate(document_ids)}
        )
        name = "chunks.jsonl"
        chunks = _ChunkTable(_Lines(root, name, None, command))
        name = vector_name
        vectors = read_vector_index(root)
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
        raise damaged(root, unreadable(name, e), command, "cannot be used") from e
    except IndexCorruptError:
        raise
    except Exception as e:  # whatever faiss, numpy or json raise for a damaged file
        raise damaged(root, f"{name} is truncated or corrupted", command) from e
    n_terms = bm25.weights.shape[0]
    if len(vectors) != len(chunks):
        problem = (
            f"{vector_name} holds {len(vectors):,} vectors but chunks.jsonl holds "
            f"{len(chunks):,} passages"
        )
    elif bm25.weights.shape[1] != len(chunks):
        problem = (
            f"{BM25_FILES['zero_tf']} covers {bm25.weights.shape[1]:,} passages but "
            f"chunks.jsonl holds {len(chunks):,}"
        )
    elif vectors.dimension != dimension:
        problem = (
            f"{vector_name} holds {vectors.dimension}-dimensional vectors, not {dimension} as "
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
            acronyms=dict(manifest.acronyms),
        )
    raise damaged(root, problem, command)


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


# The manifest's reading and checks are part of index_store for the callers that import
# them from here.
__all__ = [
    "BM25_FILES",
    "INDEX_FILES",
    "Manifest",
    "check_index_writable",
    "check_model",
    "load_index",
    "read_manifest",
    "save_index",
]
