"""`qa index --ray ADDRESS`: the index built on a Ray cluster, the same index (manifest,
files, scores) that `build_index` makes in one process.

What runs where:

    this process (the driver)   lists and fingerprints the corpus and decides whether to
                                build (freshness.ensure_index, as without Ray); reuses
                                the previous index's vectors by text; merges the shards;
                                builds FAISS, writes the manifest and swaps the index in
    Ray Data tasks              read the files (shards.read_files); chunk documents and
                                count BM25 terms, a shard of documents each
                                (shards.passage_shard)
    Ray Data actors             embed the passages that were not reused (map_batches
                                with shards.PassageEncoder): the ONNX export, loaded
                                once per worker, on a GPU where the worker has one

Only this module, ray_cluster.py and shards.py import Ray, and only `qa index --ray`
imports them. A task whose process dies (a node lost, memory run out) is run again, and
an embedding worker that dies is restarted and its batches run again, as Ray Data does
by default; a Python error in a task is not retried (it would fail again) and fails the
build. Nothing is saved until the whole index is built, so a build that fails, or is
interrupted, leaves the previous index in place.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import asdict
from types import TracebackType
from typing import Any, TypeVar

import numpy as np

from ..config import Settings
from ..documents.corpus import Document, corpus_files, sorted_documents
from ..encoder.embedding import Embedder
from ..encoder.interface import TextEncoder
from ..errors import ClusterError, UsageError
from ..log import Log
from .bm25 import SparseBM25
from .build import (
    SLICE_BATCHES,
    EmbeddingProgress,
    after_embedding_cost,
    assemble,
    embedding_costs,
    reuse_vectors,
)
from .data import Index
from .ray_cluster import blocks, connect, run
from .shards import (
    DOCUMENT_COLUMNS,
    ENCODER_FILES,
    FILE_COLUMNS,
    TEXT_COLUMNS,
    PassageEncoder,
    PassageShard,
    documents_from_json,
    passage_shard,
    read_files,
    shard_from_row,
)

# Files read by one task: enough that a task outlasts its scheduling (a few ms), few
# enough that a corpus of 1,000 files spreads over 16 tasks.
FILES_PER_TASK = 64
# Documents chunked and counted by one task: a shard of some 2,500 passages (news
# articles), which the driver decodes and merges in about 65 ms (26 µs a passage).
DOCUMENTS_PER_SHARD = 256
# Texts sent to the embedding workers in blocks of this many, about 8 a worker (a worker
# that drew the longest texts is not left running alone at the end), at most MAX.
BLOCKS_PER_WORKER = 8
MIN_BLOCK, MAX_BLOCK = 64, 4096


class RayBuild:
    """A freshness.Builder that reads and builds on a Ray cluster.

    Args:
        address: "local" (start a cluster on this machine, stopped when done), "auto"
            (the cluster `ray start` runs here), HOST:PORT of a head node (6379), or
            ray://HOST:PORT (Ray Client, 10001). When this process has joined one
            already (ray.init), that one is used and left running.
        workers: embedding workers (default: one per Settings.ray_worker_cpus CPUs of
            the cluster, or one per GPU when it has GPUs).
        num_cpus: the CPUs of a "local" cluster (default: all).
    """

    def __init__(self, address: str, workers: int | None = None, num_cpus: int | None = None):
        if workers is not None and workers < 1:
            raise UsageError(f"--workers must be at least 1, not {workers}.")
        self.address, self.workers, self.num_cpus = address, workers, num_cpus
        self._ray: Any = None
        self._joined = False

    def __enter__(self) -> RayBuild:
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        """Leave the cluster if this build joined it (a "local" one stops)."""
        if self._joined:
            self._ray.shutdown()
            self._joined = False

    def read_corpus(self, settings: Settings, corpus: dict[str, Any], log: Log) -> list[Document]:
        """The documents `load_documents` reads, each file read by a Ray task; the
        warnings in the same order, logged once."""
        uploads = settings.indexed_uploads()
        root, files, warnings = corpus_files(settings.corpus_dir, uploads)  # missing: no Ray
        if not files:
            # load_documents' error, without Ray
            return sorted_documents(root, [], warnings, settings.corpus_dir)
        ray = self._connect()
        expected = corpus.get("files", {})
        columns: dict[str, list[Any]] = {
            "position": list(range(len(files))),
            "path": [str(file.path) for file in files],
            "opened": [os.path.abspath(file.path) for file in files],
            "name": [file.name for file in files],
            "size": [file.size for file in files],
            "sha256": [expected.get(file.name) for file in files],
        }
        folders = [root]
        if uploads is not None and uploads.is_dir():
            folders.append(uploads)
        dataset = blocks(ray, columns, FILE_COLUMNS, FILES_PER_TASK).map_batches(
            read_files,
            fn_kwargs={
                "folders": [os.path.abspath(folder) for folder in folders],
                "max_file_bytes": settings.max_file_bytes(),
            },
            batch_size=None,
            batch_format="pyarrow",
        )
        results: list[tuple[int, str | None, str | None]] = []
        for table in run(ray, dataset):
            results += zip(*(table.column(c).to_pylist() for c in table.column_names), strict=True)
        documents = []
        for _, document, warning in sorted(results, key=lambda r: r[0]):
            if document is not None:
                documents.extend(documents_from_json(document))
            elif warning is not None:
                warnings.append(warning)
        documents = sorted_documents(root, documents, warnings, settings.corpus_dir)
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
        """What build_index returns, built on the cluster: (index, passages reused)."""
        ray = self._connect()
        shards = self._passage_shards(ray, documents, settings)
        chunks = [c for shard in shards for c in shard.chunks]
        texts = [t for shard in shards for t in shard.texts]
        acronyms: dict[str, str] = {}
        for shard in shards:
            acronyms.update(shard.acronyms)  # document order: a later spelling wins
        counts = [shard.bm25 for shard in shards]
        del shards
        bm25 = SparseBM25.merge(
            _drain(counts), settings.bm25_variant, settings.bm25_k1, settings.bm25_b
        )
        vectors, todo = reuse_vectors(texts, previous, embedder.dimension)
        if todo:
            report = None
            if progress:
                files = len({chunks[i].doc_id for i in todo})
                cost = sum(embedding_costs([texts[i] for i in todo], embedder))
                after = after_embedding_cost(len(chunks), settings, bm25=False)
                report = EmbeddingProgress(
                    len(todo), cost, files, len(chunks) - len(todo), log, after
                )
            vectors[todo] = self._embed(ray, [texts[i] for i in todo], embedder, settings, report)
        index = assemble(documents, chunks, vectors, bm25, acronyms, settings, embedder)
        return index, len(chunks) - len(todo)

    def _passage_shards(
        self, ray: Any, documents: list[Document], settings: Settings
    ) -> list[PassageShard]:
        """The documents' passages, a shard of consecutive documents per task, in order."""
        columns: dict[str, list[Any]] = {
            "position": list(range(len(documents))),
            "document": [json.dumps(asdict(d)) for d in documents],
        }
        dataset = blocks(
            ray, columns, DOCUMENT_COLUMNS, DOCUMENTS_PER_SHARD, same=[d.id for d in documents]
        )
        dataset = dataset.map_batches(
            passage_shard,
            fn_kwargs={"settings": settings.replace(auth="")},  # the UI's password stays here
            batch_size=None,
            batch_format="pyarrow",
        )
        shards = [shard_from_row(t, i) for t in run(ray, dataset) for i in range(t.num_rows)]
        shards.sort(key=lambda s: s.first)
        ends = np.cumsum([s.documents for s in shards])
        if [s.first for s in shards] != [0, *ends[:-1]] or ends[-1] != len(documents):
            raise ClusterError("The Ray cluster lost or repeated the passages of some documents.")
        return shards

    def _embed(
        self,
        ray: Any,
        texts: list[str],
        embedder: TextEncoder,
        settings: Settings,
        report: EmbeddingProgress | None,
    ) -> np.ndarray:
        """Vectors of `texts`, embedded by a pool of workers (map_batches with a callable
        class: the model is loaded once per worker)."""
        if not isinstance(embedder, Embedder):
            # The workers run the model's ONNX export, which only an Embedder has.
            raise UsageError("The Ray build embeds with the model itself, not a stand-in.")
        encoder = embedder.encoder  # exported here first if it never was (by a child process)
        files = ray.put({name: (encoder.folder / name).read_bytes() for name in ENCODER_FILES})
        gpus = int(ray.cluster_resources().get("GPU", 0))
        cpus = settings.ray_worker_cpus
        workers = self.workers or gpus or max(1, int(ray.cluster_resources().get("CPU", 1)) // cpus)
        # Longest first, as the in-process build embeds them: a batch holds texts of
        # about one length, so few are padded.
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        columns: dict[str, list[Any]] = {"position": order, "text": [texts[i] for i in order]}
        block = min(MAX_BLOCK, max(MIN_BLOCK, len(texts) // (workers * BLOCKS_PER_WORKER)))
        workers = min(workers, -(-len(texts) // block))  # no more workers than blocks
        dataset = blocks(ray, columns, TEXT_COLUMNS, block).map_batches(
            PassageEncoder,
            fn_constructor_args=(files, cpus, embedder.batch_size),
            batch_size=max(1, embedder.batch_size) * SLICE_BATCHES,
            batch_format="numpy",
            compute=ray.data.ActorPoolStrategy(size=workers),
            num_cpus=cpus,
            num_gpus=1 if gpus else None,
        )
        vectors = np.zeros((len(texts), encoder.dimension), dtype=np.float32)
        costs = embedding_costs(texts, embedder)
        done, done_cost = 0, 0.0
        for batch in run(ray, dataset, batch_format="numpy"):
            positions = batch["position"]
            vectors[positions] = batch["vector"]
            first = done == 0
            done += len(positions)
            done_cost += sum(costs[i] for i in positions.tolist())
            if report is None:
                continue
            # The clock starts with the first vectors back: the workers' start and the
            # model's loading are not embedding time.
            if first:
                report.begin(done_cost)
            else:
                report.advance(done, done_cost)
        if report is not None:
            report.finish()
        del files  # held until every worker is done: a restarted worker loads it again
        return vectors

    def _connect(self) -> Any:
        if self._ray is None or not self._ray.is_initialized():
            self._ray, self._joined = connect(self.address, self.num_cpus)
        return self._ray


T = TypeVar("T")


def _drain(items: list[T]) -> Iterator[T]:
    """The items in order, each let go by the list as it is taken (the BM25 counts of
    every shard need not be held once merged)."""
    items.reverse()
    while items:
        yield items.pop()
