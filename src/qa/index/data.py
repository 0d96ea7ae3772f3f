"""The index in memory: what a question is answered from, and the tables that read a
loaded index's passages and documents from their JSONL lines when first asked for."""

from __future__ import annotations

import json
import os
import shlex
import threading
import weakref
from collections import OrderedDict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..config import Settings
from ..documents.corpus import Document
from ..errors import IndexCorruptError, damaged, unreadable
from ..passage import Chunk
from .bm25 import SparseBM25
from .vectors import Vectors

if TYPE_CHECKING:  # manifest.py builds its errors with this module's helpers
    from .manifest import Manifest


@dataclass
class Index:
    """Everything a question is answered from. Treated as immutable once built."""

    manifest: Manifest
    # dict and list when built; read on demand from the index folder when loaded.
    documents: Mapping[str, Document]
    chunks: Sequence[Chunk]
    vectors: Vectors  # the chunks' vectors, row i = chunks[i]
    bm25: SparseBM25
    acronyms: dict[str, str] = field(default_factory=dict)

    @property
    def dimension(self) -> int:
        return self.manifest.dimension

    def chunk_vectors(self) -> np.ndarray:
        """All passage vectors, shape (n_chunks, dimension)."""
        return self.vectors.all()


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
            problem = unreadable(offsets_name, e)
            raise damaged(root, problem, command, "cannot be used") from e
        except Exception as e:
            raise damaged(root, f"{offsets_name} is truncated or corrupted", command) from e
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
        return damaged(self.root, f"{self.name} is truncated or corrupted", self.command)

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
            return Chunk.from_row(row)
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
