"""The FAISS index over passage vectors: exact search up to a size, HNSW beyond it.

Exact search (`IndexFlatIP`) reads every vector for every question, so its time grows
with the corpus: about 0.4 ms at 10,000 passages, 5-6 ms at 100,000 and 55 ms at
1,000,000 on one core here (docs/BENCHMARKS.md). Past `Settings.ann_threshold` passages
the index is an HNSW graph (Malkov & Yashunin, "Efficient and robust approximate nearest
neighbor search using Hierarchical Navigable Small World graphs", TPAMI 2018), which
answers in well under a millisecond and, with the default parameters, finds at least 99%
of the exact top 10 up to 1,000,000 passages. IVF with product quantization, the index
for when memory is short, was measured there and not needed (config.py).

Exact search needs no FAISS: it is one matrix-vector product, which numpy does as fast at
these sizes, and a fresh `qa ask` over a small index then never imports FAISS (0.1-0.25 s
of its 0.5 here: docs/BENCHMARKS.md). So an exact index is the vectors themselves
(`ExactVectors`, saved as `vectors.npy`), and FAISS holds only the HNSW graph
(`VectorIndex`, `faiss.index`; an index saved as a FAISS flat index by an earlier version
still loads as one). A saved index is memory-mapped when loaded (`read_vector_index`).

Beyond the threshold the vectors are stored as float16 by default: half the memory and
disk (the vectors are most of an index), the same recall and speed as float32 on our
measurements, and a cosine off by about 1e-4, far below anything that decides a ranking
or an abstention. Every index can give back its vectors (`VectorIndex.take`, `.all`),
which incremental re-indexing and the scoring of passages found by BM25 alone rely on.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..config import Settings
from ..process import faiss_module

# The file each kind of index is saved as, in its folder (read_vector_index).
FAISS_FILE = "faiss.index"
EXACT_FILE = "vectors.npy"
VECTOR_FILES = (EXACT_FILE, FAISS_FILE)


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

    @property
    def file_name(self) -> str:
        return FAISS_FILE

    def write(self, folder: Path) -> None:
        """Save into `folder` (faiss.write_index), for read_vector_index.

        Raises:
            RuntimeError: the write failed (FAISS says so without an errno).
        """
        faiss_module().write_index(self.faiss, str(folder / FAISS_FILE))


class ExactVectors:
    """The passage vectors searched exactly by numpy: what FAISS's `IndexFlatIP` does,
    without importing FAISS. The same methods as VectorIndex."""

    def __init__(self, vectors: np.ndarray) -> None:
        self.vectors = vectors  # (n, dimension) float32, memory-mapped when loaded

    def __len__(self) -> int:
        return int(self.vectors.shape[0])

    @property
    def dimension(self) -> int:
        return int(self.vectors.shape[1])

    @property
    def file_name(self) -> str:
        return EXACT_FILE

    def search(self, vector: np.ndarray, depth: int) -> list[tuple[int, float]]:
        """The (id, inner product) of the `depth` passages nearest to `vector`, best
        first; of two that tie (passages of the same text), the earlier first."""
        n = len(self)
        if not n or depth <= 0:
            return []
        query = np.asarray(vector, dtype=np.float32).reshape(-1)
        similarities = self.vectors @ query
        if depth < n:
            top = np.argpartition(-similarities, depth - 1)[:depth]
        else:
            top = np.arange(n)
        top = top[np.lexsort((top, -similarities[top]))]
        return [(int(i), float(similarities[i])) for i in top]

    def take(self, ids: Sequence[int]) -> np.ndarray:
        return np.asarray(self.vectors[np.asarray(ids, dtype=np.int64)], dtype=np.float32)

    def all(self) -> np.ndarray:
        return np.array(self.vectors, dtype=np.float32)

    @property
    def faiss(self) -> Any:
        """The same vectors as a FAISS `IndexFlatIP`, for the benchmark and the tests
        that compare exact search with HNSW (built on each call)."""
        index = faiss_module().IndexFlatIP(self.dimension)
        if len(self):
            index.add(self.all())
        return index

    def write(self, folder: Path) -> None:
        np.save(folder / EXACT_FILE, np.ascontiguousarray(self.vectors), allow_pickle=False)


Vectors = VectorIndex | ExactVectors


def build_vector_index(vectors: np.ndarray, settings: Settings) -> Vectors:
    """An inner-product index holding `vectors`, row i with id i.

    Args:
        vectors: unit-length passage vectors, shape (n, dimension), float32.
        settings: `ann_threshold` (the most vectors searched exactly) and the HNSW
            parameters `hnsw_m`, `hnsw_ef_construction`, `hnsw_ef_search`.

    Returns:
        ExactVectors when n <= settings.ann_threshold, else a VectorIndex over an HNSW
        index with the inner-product metric, storing the vectors as float16
        (`IndexHNSWSQ`) or float32 (`IndexHNSWFlat`) as settings.hnsw_storage says.
        Inner product equals cosine similarity on unit-length vectors.
    """
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    if vectors.ndim != 2:
        raise ValueError(f"vectors must have shape (n, dimension), not {vectors.shape}")
    n, dimension = vectors.shape
    if n <= settings.ann_threshold:
        return ExactVectors(vectors)
    index = _hnsw(dimension, settings)
    if n:
        index.add(vectors)
    return VectorIndex(index)


def _hnsw(dimension: int, settings: Settings) -> Any:
    faiss = faiss_module()

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


def read_vector_index(folder: Path) -> Vectors:
    """The index saved in `folder` (`write`), memory-mapped: `vectors.npy` by numpy, or
    `faiss.index` by FAISS, as follows.

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
        ValueError: vectors.npy is not a 2-D float32 array.
        OSError: neither file can be read.
    """
    exact = folder / EXACT_FILE
    if exact.is_file():
        vectors = np.load(exact, mmap_mode="r", allow_pickle=False)
        if vectors.ndim != 2 or vectors.dtype != np.float32:
            raise ValueError(f"{EXACT_FILE} holds {vectors.dtype} {vectors.shape}")
        return ExactVectors(vectors)
    faiss = faiss_module()
    return VectorIndex(faiss.read_index(str(folder / FAISS_FILE), faiss.IO_FLAG_MMAP_IFC))


def vector_file(folder: Path) -> str | None:
    """The name of the vector file saved in `folder`, or None."""
    return next((name for name in VECTOR_FILES if (folder / name).is_file()), None)


__all__ = [
    "ExactVectors",
    "VectorIndex",
    "Vectors",
    "build_vector_index",
    "read_vector_index",
    "vector_file",
]
