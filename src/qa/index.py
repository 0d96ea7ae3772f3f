"""Building the index: passages chunked, embedded (reusing unchanged passages' vectors)
and weighted for BM25. `index_store.py` saves and loads it (the folder's layout is
described there); `index_data.py` holds the Index itself, `manifest.py` its manifest.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from .bm25 import SparseBM25
from .chunking import Chunk, chunk_document, context
from .config import INDEX_FORMAT_VERSION, Settings
from .corpus import Document
from .embedding import Embedder
from .index_data import Index
from .log import to_stderr
from .manifest import Manifest
from .text import find_acronyms, tokenize
from .vectors import build_vector_index


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
    # The ONNX export that embeds the questions (Manifest.encoder); stand-ins have none.
    encoder_record = getattr(embedder, "encoder_record", None)
    manifest = Manifest(
        format_version=INDEX_FORMAT_VERSION,
        model=embedder.name,
        model_path=str(embedder.model_path),
        dimension=dimension,
        settings=settings.index_params(),
        corpus_dir=str(settings.corpus_dir),
        documents={d.id: {"sha256": d.sha256, "path": d.path} for d in documents},
        chunks=len(chunks),
        acronyms=acronyms,
        encoder=encoder_record() if callable(encoder_record) else None,
    )
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


# Saving, loading, the manifest and the in-memory Index live in their own modules; their
# names are part of qa.index for the callers that import them from here.
from .index_data import REBUILD, Index, rebuild_command  # noqa: E402, F811
from .index_store import (  # noqa: E402
    BM25_FILES,
    INDEX_FILES,
    check_index_writable,
    check_model,
    load_index,
    read_manifest,
    save_index,
)

__all__ = [
    "BM25_FILES",
    "INDEX_FILES",
    "REBUILD",
    "Index",
    "Manifest",
    "build_index",
    "check_index_writable",
    "check_model",
    "embed_with_progress",
    "load_index",
    "read_manifest",
    "rebuild_command",
    "save_index",
    "scoring_text",
]
