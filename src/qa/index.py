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

import json
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .bm25 import SparseBM25
from .chunking import Chunk, chunk_document, context
from .config import INDEX_FORMAT_VERSION, Settings
from .corpus import Document
from .embedding import Embedder
from .errors import IndexCorruptError, IndexFormatError, IndexMismatchError, IndexNotFoundError
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
) -> tuple[Index, int]:
    """Chunk, embed and index `documents`.

    Args:
        documents: the corpus.
        settings: chunking and BM25 parameters.
        embedder: the model; its name and dimension are recorded in the manifest.
        previous: an index built with the same model, whose vectors are reused for
            passages whose text did not change.
        progress: show a progress bar on stderr while embedding.

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
    new_vectors = embedder.encode([texts[i] for i in todo], progress=progress)
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


def save_index(index: Index, directory: Path | str) -> None:
    """Write `index` to `directory`, atomically replacing whatever index was there."""
    import faiss

    target = Path(directory)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.building-", dir=target.parent))
    try:
        _write_json(tmp / "manifest.json", index.manifest)
        _write_jsonl(tmp / "documents.jsonl", (asdict(d) for d in index.documents.values()))
        _write_jsonl(tmp / "chunks.jsonl", (asdict(c) for c in index.chunks))
        faiss.write_index(index.vectors, str(tmp / "faiss.index"))
        np.savez(tmp / "bm25.npz", **index.bm25.to_arrays())  # type: ignore[arg-type]
        terms = sorted(index.bm25.vocabulary, key=index.bm25.vocabulary.__getitem__)
        _write_json(tmp / "vocabulary.json", terms)
        _swap_in(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _swap_in(tmp: Path, target: Path) -> None:
    """Replace `target` by `tmp` with renames: no moment leaves a half-written index."""
    if not target.exists():
        os.replace(tmp, target)
        return
    old = target.with_name(f".{target.name}.old-{os.getpid()}")
    os.replace(target, old)
    os.replace(tmp, target)
    shutil.rmtree(old, ignore_errors=True)


def read_manifest(directory: Path | str) -> dict[str, Any]:
    """The manifest of the index in `directory`.

    Raises:
        IndexNotFoundError: no index there.
        IndexCorruptError: the manifest is unreadable.
    """
    path = Path(directory) / "manifest.json"
    if not path.is_file():
        raise IndexNotFoundError(f'No index at {directory}/. Run "qa index" first.')
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise IndexCorruptError(
            f'The index manifest {path} is unreadable ({e}). Run "qa index" to rebuild it.'
        ) from e
    if not isinstance(manifest, dict):
        raise IndexCorruptError(
            f'The index manifest {path} is not an object. Run "qa index" to rebuild it.'
        )
    if manifest.get("format_version") != INDEX_FORMAT_VERSION:
        raise IndexFormatError(
            f'The index at {directory}/ has another format version. Run "qa index" to rebuild it.'
        )
    return manifest


def check_model(manifest: dict[str, Any], embedder: Embedder) -> None:
    """Refuse an index built with another model or dimension: its vectors mean nothing
    to this model."""
    if (
        manifest.get("model_path") != str(embedder.model_path)
        and manifest.get("model") != embedder.name
    ):
        raise IndexMismatchError(
            f"The index was built with model {manifest.get('model')!r}, not {embedder.name!r}. "
            'Run "qa index" to rebuild it with this model.'
        )
    if int(manifest.get("dimension", -1)) != embedder.dimension:
        raise IndexMismatchError(
            f"The index holds {manifest.get('dimension')}-dimensional vectors but the model makes "
            f'{embedder.dimension}-dimensional ones. Run "qa index" to rebuild it.'
        )


def load_index(directory: Path | str) -> Index:
    """Load the index saved in `directory`.

    Raises:
        IndexNotFoundError: no index there.
        IndexCorruptError: a file is missing, truncated or inconsistent.
    """
    import faiss

    root = Path(directory)
    manifest = read_manifest(root)
    try:
        documents = [Document(**row) for row in _read_jsonl(root / "documents.jsonl")]
        chunks = [
            Chunk(
                **{
                    **row,
                    "doc_id": sys.intern(row["doc_id"]),
                    "offsets": tuple(row["offsets"]),
                }
            )
            for row in _read_jsonl(root / "chunks.jsonl")
        ]
        vectors = faiss.read_index(str(root / "faiss.index"))
        with np.load(root / "bm25.npz", allow_pickle=False) as arrays:
            bm25 = SparseBM25.from_arrays(
                json.loads((root / "vocabulary.json").read_text(encoding="utf-8")),
                {key: arrays[key] for key in arrays.files},
            )
    except (OSError, RuntimeError, ValueError, KeyError, TypeError) as e:
        raise IndexCorruptError(
            f'The index at {root}/ is damaged ({_first_line(e)}). Run "qa index" to rebuild it.'
        ) from e
    if (
        vectors.ntotal != len(chunks)
        or bm25.weights.shape[1] != len(chunks)
        or vectors.d != manifest["dimension"]
    ):
        raise IndexCorruptError(
            f"The index at {root}/ is inconsistent ({vectors.ntotal} vectors, "
            f'{len(chunks)} passages). Run "qa index" to rebuild it.'
        )
    return Index(
        manifest=manifest,
        documents={d.id: d for d in documents},
        chunks=chunks,
        vectors=vectors,
        bm25=bm25,
        acronyms=dict(manifest.get("acronyms", {})),
    )


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0][:200] if text else type(error).__name__


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
