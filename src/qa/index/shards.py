"""What the workers of a Ray build run (distributed.py drives them), and the rows they
send back: plain Arrow columns (strings, ints, lists of them), never pickled objects.

    read_files      corpus files -> one row per file: the Document (JSON) or the warning
                    `load_documents` gives for it
    passage_shard   a run of consecutive documents -> one row: their passages (Chunk
                    JSON), the texts retrieval scores, their acronyms and the BM25
                    counts of those texts (bm25_build.BM25Shard)
    PassageEncoder  texts -> vectors, with the model's ONNX export loaded once per worker
                    from files sent through Ray's object store (no torch, no shared disk)

Imports nothing heavy: a worker needs numpy, pyarrow, onnxruntime, tokenizers
and the document readers, never torch or faiss.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..config import Settings
from ..documents.corpus import CorpusFile, Document, read_file
from ..encoder.onnx_encoder import CONFIG_FILE, ONNX_FILE, TOKENIZER_FILE, OnnxEncoder
from ..errors import CorpusError, ModelError
from ..passage import Chunk
from ..text import tokenize
from .bm25_build import BM25Shard
from .build import all_acronyms, passages

if TYPE_CHECKING:
    import pyarrow as pa

# The columns of the rows each stage reads (pyarrow types by name).
FILE_COLUMNS = {
    "position": "int64",
    "path": "string",
    "opened": "string",
    "name": "string",
    "size": "int64",
    "sha256": "string",
}
DOCUMENT_COLUMNS = {"position": "int64", "document": "string"}
TEXT_COLUMNS = {"position": "int64", "text": "string"}
# Everything an encoder is loaded from: what the driver sends each embedding worker.
ENCODER_FILES = (ONNX_FILE, TOKENIZER_FILE, CONFIG_FILE)
CUDA = "CUDAExecutionProvider"


def read_files(batch: pa.Table, folders: list[str], max_file_bytes: int | None) -> pa.Table:
    """Read the files of `batch` (columns position, path, opened, name, size, sha256: the
    driver's listing and fingerprint) -> a table of position, document (JSON or null),
    warning (or null).

    `path` is a file as the driver names it, `opened` its absolute path, in one of
    `folders` (the corpus and uploads folders, absolute), which every node must see (a
    shared file system): a node that does not, or that sees other files there, is an
    error rather than an index of the wrong files.
    """
    import pyarrow as pa

    for folder in folders:
        if not os.path.isdir(folder):
            raise CorpusError(
                f"The corpus folder {folder}/ is not on the Ray node {_node()}: every node "
                "must see the corpus at the same path (a shared file system)."
            )
    documents: list[str | None] = []
    warnings: list[str | None] = []
    for shown, opened, name, size, sha256 in zip(
        *(batch.column(c).to_pylist() for c in ("path", "opened", "name", "size", "sha256")),
        strict=True,
    ):
        read = read_file(CorpusFile(Path(shown), size, name), max_file_bytes, Path(opened))
        if not isinstance(read, str) and sha256 not in (None, "unreadable", read[0].sha256):
            raise CorpusError(
                f"{shown} on the Ray node {_node()} is not the file the driver read (its "
                "SHA-256 differs): every node must see the same corpus folder."
            )
        # The file's documents (an e-mail's attachments are documents of their own).
        documents.append(None if isinstance(read, str) else json.dumps([asdict(d) for d in read]))
        warnings.append(read if isinstance(read, str) else None)
    return pa.table(
        {
            "position": batch.column("position"),
            "document": pa.array(documents, pa.string()),
            "warning": pa.array(warnings, pa.string()),
        }
    )


@dataclass(frozen=True)
class PassageShard:
    """The passages of documents first..first+documents-1 (in index order)."""

    first: int
    documents: int
    chunks: list[Chunk]
    texts: list[str]
    acronyms: dict[str, str]
    bm25: BM25Shard


def passage_shard(batch: pa.Table, settings: Settings) -> pa.Table:
    """The documents of `batch` (columns position, document JSON; consecutive) -> a
    one-row table: their PassageShard (`shard_from_row` reads it back)."""
    import pyarrow as pa

    documents = [document_from_json(text) for text in batch.column("document").to_pylist()]
    chunks, texts = passages(documents, settings)
    bm25 = BM25Shard.count(tokenize(text) for text in texts)
    row = {
        "first": pa.array([batch.column("position")[0].as_py()], pa.int64()),
        "documents": pa.array([len(documents)], pa.int64()),
        "chunks": pa.array([[json.dumps(asdict(c)) for c in chunks]], pa.list_(pa.string())),
        "texts": pa.array([texts], pa.list_(pa.string())),
        "acronyms": pa.array([json.dumps(all_acronyms(documents))], pa.string()),
        "terms": pa.array([bm25.terms], pa.list_(pa.string())),
    }
    for name, kind in (("term_ids", pa.uint32()), ("tfs", pa.uint32())):
        row[name] = pa.array([getattr(bm25, name)], pa.list_(kind))
    for name in ("widths", "lengths", "df"):
        row[name] = pa.array([getattr(bm25, name)], pa.list_(pa.int64()))
    return pa.table(row)


def shard_from_row(table: pa.Table, i: int) -> PassageShard:
    """Row `i` of a table of `passage_shard` rows."""

    def values(name: str) -> Any:
        return table.column(name)[i].values

    def array(name: str) -> np.ndarray:
        return values(name).to_numpy(zero_copy_only=False)

    chunks = [Chunk.from_row(json.loads(text)) for text in values("chunks").to_pylist()]
    bm25 = BM25Shard(
        terms=values("terms").to_pylist(),
        term_ids=array("term_ids"),
        tfs=array("tfs"),
        widths=array("widths"),
        lengths=array("lengths"),
        df=array("df"),
    )
    return PassageShard(
        first=table.column("first")[i].as_py(),
        documents=table.column("documents")[i].as_py(),
        chunks=chunks,
        texts=values("texts").to_pylist(),
        acronyms=json.loads(table.column("acronyms")[i].as_py()),
        bm25=bm25,
    )


def document_from_json(text: str) -> Document:
    return Document(**json.loads(text))


def documents_from_json(text: str) -> list[Document]:
    """A file's documents, as `read_files` writes them."""
    return [Document(**row) for row in json.loads(text)]


class PassageEncoder:
    """The embedding worker: a callable class for Ray Data's map_batches, so the model
    is loaded once per worker, not once per batch.

    Args:
        files: an object reference to the export's files ({name: bytes}, ENCODER_FILES).
        threads: onnxruntime's threads (the CPUs the worker holds).
        batch_size: texts per batch, as the in-process build batches them.
    """

    def __init__(self, files: Any, threads: int, batch_size: int) -> None:
        import onnxruntime as ort
        import ray

        self.batch_size = batch_size
        self.batch_tokens: int | None = None
        # Raised by the first batch: Ray keeps a task's exception, while an actor that
        # fails to start leaves only its traceback, as text.
        self.error: ModelError | None = None
        gpu = CUDA in ort.get_available_providers()
        providers = (CUDA, "CPUExecutionProvider") if gpu else ("CPUExecutionProvider",)
        try:
            # The folder is only a name here: the files come from the driver.
            self.encoder = OnnxEncoder("sent", threads, providers, files=ray.get(files))
        except Exception as e:  # onnxruntime's and tokenizers' own errors
            self.error = ModelError(
                f"The Ray worker on {_node()} cannot load the model's ONNX export: {e}"
            )
            self.error.__cause__ = e
            return
        # On a GPU a batch of `batch_size` long passages is what keeps it busy; the CPU
        # limit on tokens a batch (onnx_encoder.BATCH_TOKENS) would starve it.
        self.batch_tokens = batch_size * self.encoder.max_seq_length if gpu else None

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        if self.error is not None:
            raise self.error
        texts = [str(t) for t in batch["text"]]
        vectors = self.encoder.encode(texts, self.batch_size, self.batch_tokens)
        return {"position": batch["position"], "vector": vectors}


def _node() -> str:
    import ray

    return str(ray.util.get_node_ip_address())
