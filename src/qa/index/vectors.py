"""The FAISS index over passage vectors: exact search up to a size, HNSW beyond it.

Exact search (`IndexFlatIP`) reads every vector for every question, so its time grows
with the corpus: about 0.4 ms at 10,000 passages, 5-6 ms at 100,000 and 55 ms at
1,000,000 on one core here (docs/BENCHMARKS.md). Past `Settings.ann_threshold` passages
the index is an HNSW graph (Malkov & Yashunin, "Efficient and robust approximate nearest
neighbor search using Hierarchical Navigable Small World graphs", TPAMI 2018), which
answers in well under a millisecond and, with the default parameters, finds at least 99%
of the exact top 10 up to 1,000,000 passages. IVF with product quantization, the index
for when memory is short, was measured there and not needed (config.py).

A saved index is memory-mapped when loaded (`read_vector_index`).

Beyond the threshold the vectors are stored as float16 by default: half the memory and
disk (the vectors are most of an index), the same recall and speed as float32 on our
measurements, and a cosine off by about 1e-4, far below anything that decides a ranking
or an abstention. Every index can give back its vectors (`VectorIndex.take`, `.all`),
which incremental re-indexing and the scoring of passages found by BM25 alone rely on.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..config import Settings


class VectorIndex:
    """The passage vectors, row i = passage i, and the FAISS index that searches them.

    The rest of the package asks only what is here (search, vectors by id, all of them),
    so which FAISS index holds them (exact or HNSW, float32 or float16) stays this
    module's choice. `faiss` is the FAISS index itself, for the benchmark and the tests
    that check its kind and parameters.
    """

    def __init__(self, index: Any) -> None:
        self.faiss = index

    def __len__(self) -> int:
        return int(self.faiss.ntotal)

    @property
    def dimension(self) -> int:
        return int(self.faiss.d)

    def search(self, vector: np.ndarray, depth: int) -> list[tuple[int, float]]:
        """The (id, inner product) of the `depth` passages nearest to `vector`, best
        first. Fewer when the index holds fewer, or when HNSW finds fewer (FAISS pads its
        answer with id -1, dropped here)."""
        query = np.asarray(vector).reshape(1, -1).astype(np.float32)
        similarities, ids = self.faiss.search(query, depth)
        return [(int(i), float(s)) for i, s in zip(ids[0], similarities[0], strict=True) if i >= 0]

    def take(self, ids: Sequence[int]) -> np.ndarray:
        """The vectors of passages `ids`, shape (len(ids), dimension): what fusion scores
        a passage by when dense search did not return it."""
        return self.faiss.reconstruct_batch(np.asarray(ids, dtype=np.int64))

    def all(self) -> np.ndarray:
        """Every vector, shape (len(self), dimension), float32 (re-indexing reuses them)."""
        if len(self) == 0:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return self.faiss.reconstruct_n(0, len(self))

    def write(self, path: str) -> None:
        """Save to `path` (faiss.write_index), for read_vector_index.

        Raises:
            RuntimeError: the write failed (FAISS says so without an errno).
        """
        import faiss

        faiss.write_index(self.faiss, path)


def build_vector_index(vectors: np.ndarray, settings: Settings) -> VectorIndex:
    """An inner-product index holding `vectors`, row i with id i.

    Args:
        vectors: unit-length passage vectors, shape (n, dimension), float32.
        settings: `ann_threshold` (the most vectors searched exactly) and the HNSW
            parameters `hnsw_m`, `hnsw_ef_construction`, `hnsw_ef_search`.

    Returns:
        A VectorIndex over an `IndexFlatIP` when n <= settings.ann_threshold, else over
        an HNSW index with the inner-product metric, storing the vectors as float16
        (`IndexHNSWSQ`) or float32 (`IndexHNSWFlat`) as settings.hnsw_storage says.
        Inner product equals cosine similarity on unit-length vectors.
    """
    import faiss

    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    if vectors.ndim != 2:
        raise ValueError(f"vectors must have shape (n, dimension), not {vectors.shape}")
    n, dimension = vectors.shape
    if n <= settings.ann_threshold:
        index = faiss.IndexFlatIP(dimension)
    else:
        index = _hnsw(dimension, settings)
    if n:
        index.add(vectors)
    return VectorIndex(index)


def _hnsw(dimension: int, settings: Settings) -> Any:
    import faiss

    metric = faiss.METRIC_INNER_PRODUCT
    index: Any
    if settings.hnsw_storage == "float16":
        # An enum value, which faiss's generated stubs mistype as the class itself.
        float16: Any = faiss.ScalarQuantizer.QT_fp16
        index = faiss.IndexHNSWSQ(dimension, float16, settings.hnsw_m, metric)
    else:
        index = faiss.IndexHNSWFlat(dimension, settings.hnsw_m, metric)
    index.hnsw.efConstruction = settings.hnsw_ef_construction
    # Saved with the index by faiss.write_index, so a loaded index searches the same way.
    index.hnsw.efSearch = settings.hnsw_ef_search
    return index


def read_vector_index(path: str) -> VectorIndex:
    """The index saved at `path` (VectorIndex.write), memory-mapped.

    `faiss.IO_FLAG_MMAP_IFC` maps the vectors of a flat index and both the vectors and
    the graph of an HNSW one, copying only HNSW's per-vector levels and offsets (12 bytes
    a vector); `faiss.IO_FLAG_MMAP` alone maps neither here (faiss 1.15: it is for IVF's
    inverted lists), nor does it make loading faster. Measured at 100,000 vectors
    (docs/BENCHMARKS.md): reading took 50-100 ms and 100-150 MiB, mapping 0.1-4 ms and
    nothing until searched. Searches run at the same speed once the pages are in memory;
    the first ones after a cold start read the file (1.9 ms against 0.5 ms for the first
    HNSW search here, from the page cache). Pages touched count in the process's RSS and
    the operating system can drop them under memory pressure.

    The mapping is read-only: the index must not be added to (nothing here does: indexing
    builds a new index). Its file must not be changed in place while it is mapped;
    save_index writes new files and swaps the folder, which leaves a mapped one intact.

    Raises:
        RuntimeError: the file is not a whole FAISS index.
    """
    import faiss

    return VectorIndex(faiss.read_index(path, faiss.IO_FLAG_MMAP_IFC))


__all__ = ["VectorIndex", "build_vector_index", "read_vector_index"]
