"""Building the index: passages chunked, embedded (reusing unchanged passages' vectors)
and weighted for BM25. `store.py` saves and loads it (the folder's layout is described
there); `data.py` holds the Index itself, `manifest.py` its manifest.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from ..config import INDEX_FORMAT_VERSION, Settings
from ..documents.chunking import chunk_document, context
from ..documents.corpus import Document
from ..encoder.interface import TextEncoder
from ..language import plural
from ..log import to_stderr
from ..passage import Chunk
from ..text import find_acronyms, tokenize
from .bm25 import SparseBM25
from .data import Index
from .manifest import Manifest
from .vectors import build_vector_index


def scoring_text(chunk: Chunk, document: Document) -> str:
    """What retrieval scores for a passage of `document`: its context (title, previous
    sentence) and its text. A passage that opens "It has ..." has lost its subject; the
    context gives it back without changing the quoted text or its offsets."""
    before = context(chunk, document)
    return f"{before}\n{chunk.text}" if before else chunk.text


def passages(documents: list[Document], settings: Settings) -> tuple[list[Chunk], list[str]]:
    """Every passage of `documents`, in index order, and the text retrieval scores for
    each (scoring_text)."""
    chunks = [
        c
        for d in documents
        for c in chunk_document(d, settings.chunk_words, settings.chunk_overlap)
    ]
    by_id = {d.id: d for d in documents}
    return chunks, [scoring_text(c, by_id[c.doc_id]) for c in chunks]


def build_index(
    documents: list[Document],
    settings: Settings,
    embedder: TextEncoder,
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
    chunks, texts = passages(documents, settings)
    vectors, todo = reuse_vectors(texts, previous, embedder.dimension)
    if todo:
        todo_texts = [texts[i] for i in todo]
        if progress:
            vectors[todo] = embed_with_progress(
                embedder,
                todo_texts,
                files=len({chunks[i].doc_id for i in todo}),
                reused=len(chunks) - len(todo),
                log=log or to_stderr,
                after_cost=after_embedding_cost(len(chunks), settings),
            )
        else:
            vectors[todo] = embedder.encode(todo_texts)
    # A generator: the token lists of all passages are never held at once.
    bm25 = SparseBM25.build(
        (tokenize(text) for text in texts),
        settings.bm25_variant,
        settings.bm25_k1,
        settings.bm25_b,
    )
    index = assemble(documents, chunks, vectors, bm25, all_acronyms(documents), settings, embedder)
    return index, len(chunks) - len(todo)


def reuse_vectors(
    texts: list[str], previous: Index | None, dimension: int
) -> tuple[np.ndarray, list[int]]:
    """(vectors, todo): one row per text, holding the vector `previous` has for that
    exact text, and the positions of the texts it has none for (zero rows, to embed)."""
    reusable = _reusable_vectors(previous)
    vectors = np.zeros((len(texts), dimension), dtype=np.float32)
    todo = []
    for i, text in enumerate(texts):
        vector = reusable.get(text)
        if vector is None:
            todo.append(i)
        else:
            vectors[i] = vector
    return vectors, todo


def assemble(
    documents: list[Document],
    chunks: list[Chunk],
    vectors: np.ndarray,
    bm25: SparseBM25,
    acronyms: dict[str, str],
    settings: Settings,
    embedder: TextEncoder,
) -> Index:
    """The Index of `documents`, from its passages (in index order), their vectors (row i
    = chunks[i]) and BM25: the last step of every build, in-process or on a cluster."""
    # Exact search up to settings.ann_threshold passages, an HNSW graph beyond.
    vector_index = build_vector_index(vectors, settings)
    # The ONNX export that embeds the questions (Manifest.encoder); stand-ins have none.
    encoder_record = getattr(embedder, "encoder_record", None)
    manifest = Manifest(
        format_version=INDEX_FORMAT_VERSION,
        model=embedder.name,
        model_path=str(embedder.model_path),
        dimension=embedder.dimension,
        settings=settings.index_params(),
        corpus_dir=str(settings.corpus_dir),
        documents={d.id: {"sha256": d.sha256, "path": d.path} for d in documents},
        chunks=len(chunks),
        acronyms=acronyms,
        encoder=encoder_record() if callable(encoder_record) else None,
    )
    return Index(
        manifest=manifest,
        documents={d.id: d for d in documents},
        chunks=chunks,
        vectors=vector_index,
        bm25=bm25,
        acronyms=acronyms,
    )


# embed_with_progress embeds this many batches at a time between two looks at the clock,
# and reports at most once per PROGRESS_EVERY_S seconds (and once after the first slice,
# so the first estimate comes early).
SLICE_BATCHES = 4
PROGRESS_EVERY_S = 10.0
_clock = time.monotonic

# What a text costs to embed (embedding_costs), in tokens' time: its word pieces, about
# one per 4 characters (3.8 in GNU manuals in HTML, 4.0 in man pages, 5 in the bundled
# corpus's news prose), up to the most the model reads (an encoder that does not say is
# taken to read 256, all-MiniLM-L6-v2's max_seq_length), and [CLS] and [SEP]; and
# attention, whose work per token grows with the text's length: a token of a 256-token
# text took about 1.25x one of a 128-token text (ONNX encoder, 2 cores), so a text of t
# tokens costs t * (1 + t / ATTENTION_TOKENS). Counted linearly, the estimate of 300 man
# pages (longest first) said 21-37% too much in its first minute (docs/BENCHMARKS.md).
CHARS_PER_TOKEN = 4
MAX_TOKENS = 256
TEXT_OVERHEAD_TOKENS = 2
ATTENTION_TOKENS = 512


# What the steps after embedding cost, for the time left (after_embedding_cost), in the
# units of embedding_costs (a token's embedding): so they are timed by the embedding's
# own measured rate, and a slower or faster machine slows or speeds both. Measured on man
# pages, 2 cores (docs/BENCHMARKS.md): BM25's weights 0.9-1.1 units a passage, the index
# written 0.3, the HNSW graph past Settings.ann_threshold about 0.9 a vector at 62,711
# (a passage is 144 units at the mean there). Counted in seconds (0.3 ms a passage, 0.15
# ms a vector), they said 29 s left at 98% of 62,711 passages where 13 s were.
BM25_COST_PER_PASSAGE = 1.1
WRITE_COST_PER_PASSAGE = 0.3
HNSW_COST_PER_VECTOR = 1.0


def after_embedding_cost(passages: int, settings: Settings, bm25: bool = True) -> float:
    """What the steps after embedding `passages` cost, in embedding_costs' units: BM25
    unless it is done already (the Ray build counts it before), the vector index, writing.
    """
    per_passage = WRITE_COST_PER_PASSAGE + (BM25_COST_PER_PASSAGE if bm25 else 0.0)
    graph = HNSW_COST_PER_VECTOR if passages > settings.ann_threshold else 0.0
    return (per_passage + graph) * passages


def embed_with_progress(
    embedder: TextEncoder,
    texts: list[str],
    files: int,
    reused: int,
    log: Callable[[str], None],
    after_cost: float = 0.0,
) -> np.ndarray:
    """`embedder.encode(texts)`, saying first how much there is to embed, then, while it
    runs, how far it got and how long it and the steps after it (costing `after_cost`,
    after_embedding_cost) have left (EmbeddingProgress).

    Texts are embedded longest first, as sentence-transformers orders them within one
    call, so the batches are the same as one call would make.
    """
    n = len(texts)
    dimension = embedder.dimension  # loads the model first, so its loading is not timed
    costs = embedding_costs(texts, embedder)
    report = EmbeddingProgress(n, sum(costs), files, reused, log, after_cost)
    vectors = np.zeros((n, dimension), dtype=np.float32)
    order = sorted(range(n), key=lambda i: -len(texts[i]))
    step = max(1, embedder.batch_size) * SLICE_BATCHES
    done_cost = 0.0
    report.begin()
    for begin in range(0, n, step):
        part = order[begin : begin + step]
        vectors[part] = embedder.encode([texts[i] for i in part])
        done_cost += sum(costs[i] for i in part)
        report.advance(begin + len(part), done_cost)
    report.finish()
    return vectors


def embedding_costs(texts: list[str], embedder: TextEncoder) -> list[float]:
    """What embedding each text costs, in tokens' time: its word pieces, estimated from
    its characters, up to the most the model reads (it truncates the rest), plus
    TEXT_OVERHEAD_TOKENS, weighed by attention's growth with length (ATTENTION_TOKENS).
    Texts are embedded longest first, so a cost per character would make the first
    (truncated) batches look cheap and the estimate short: 227 HTML manuals said 5 min
    25 s left for 15 min."""
    limit = getattr(embedder, "max_seq_length", MAX_TOKENS)
    tokens = [min(len(t) / CHARS_PER_TOKEN, limit) + TEXT_OVERHEAD_TOKENS for t in texts]
    return [t * (1 + t / ATTENTION_TOKENS) for t in tokens]


class EmbeddingProgress:
    """The lines a build prints while embedding `n` texts that cost `cost` in all
    (embedding_costs): how much there is, then how far it got and how long it has left.

    The estimate is measured, not assumed: the time taken since `begin` over the cost
    embedded in it, applied to the cost left, the steps after embedding (`after_cost`,
    after_embedding_cost: 1-2% of the whole) included.
    """

    def __init__(
        self,
        n: int,
        cost: float,
        files: int,
        reused: int,
        log: Callable[[str], None],
        after_cost: float = 0.0,
    ) -> None:
        self.n, self.cost, self.log, self.after_cost = n, cost or 1.0, log, after_cost
        unchanged = f", {reused:,} unchanged {plural(reused, 'passage')} reused" if reused else ""
        log(
            f"Embedding {n:,} {plural(n, 'passage')} from {files:,} {plural(files, 'file')}"
            f"{unchanged} ..."
        )
        self.start = _clock()
        self.start_cost = 0.0
        self.last_report: float | None = None

    def begin(self, done_cost: float = 0.0) -> None:
        """Start the clock, with `done_cost` embedded already (the model's loading, and
        what was embedded while it loaded, are not timed)."""
        self.start, self.start_cost = _clock(), done_cost

    def advance(self, done: int, done_cost: float) -> None:
        """`done` texts costing `done_cost` are embedded: report if it is time."""
        now = _clock()
        elapsed, measured = now - self.start, done_cost - self.start_cost
        if (
            done < self.n
            and elapsed > 0
            and measured > 0
            and (self.last_report is None or now - self.last_report >= PROGRESS_EVERY_S)
        ):
            left = (self.cost - done_cost + self.after_cost) * elapsed / measured
            self.log(
                f"Embedded {done:,} of {self.n:,} passages ({100 * done // self.n}%) in "
                f"{_duration(elapsed)}; about {_duration(left)} left ..."
            )
            self.last_report = now

    def finish(self) -> None:
        if self.last_report is not None:
            took = _duration(_clock() - self.start)
            self.log(f"Embedded {self.n:,} {plural(self.n, 'passage')} in {took}.")


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


def all_acronyms(documents: list[Document]) -> dict[str, str]:
    """The acronyms the documents spell out, a later document's spelling winning."""
    found: dict[str, str] = {}
    for d in documents:
        found.update(find_acronyms(d.text))
    return found


__all__ = [
    "EmbeddingProgress",
    "after_embedding_cost",
    "all_acronyms",
    "assemble",
    "build_index",
    "embed_with_progress",
    "embedding_costs",
    "passages",
    "reuse_vectors",
    "scoring_text",
]
