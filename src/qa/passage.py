"""The plain records every stage passes along: a passage (Chunk), as chunking cuts it and
the index stores it, and a retrieved passage (Hit), as search ranks it and the answer
step reads it. At the ground, so that no stage imports another only for a type."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Chunk:
    """A passage: whole sentences of one document.

    `offsets` holds each sentence's start and end in `text`, flat: (s0, e0, s1, e1, ...).
    `previous` is how many characters before `start` the sentence before the passage
    begins (0 for a document's first passage): `context(chunk, document)` gives that
    sentence with the title, used when scoring but never quoted. Plain ints rather than
    pairs and a context string save about 30 MiB at 100,000 passages (docs/BENCHMARKS.md).
    """

    id: str
    doc_id: str
    text: str
    start: int
    end: int
    offsets: tuple[int, ...]
    previous: int = 0

    @property
    def sentences(self) -> list[tuple[int, int]]:
        """Each sentence's (start, end) in `text`."""
        return list(zip(self.offsets[::2], self.offsets[1::2], strict=True))

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Chunk:
        """The inverse of `dataclasses.asdict` (a line of chunks.jsonl, a Ray shard's
        row). The id of its document is interned: every passage of a document shares it.

        Raises:
            KeyError, TypeError: the row is not a Chunk's.
        """
        return cls(**{**row, "doc_id": sys.intern(row["doc_id"]), "offsets": tuple(row["offsets"])})


@dataclass(frozen=True)
class Hit:
    """A retrieved passage. Ranks are 1-based among each retriever's candidates, None when
    that retriever did not return it; `score` is what the mode ranks by."""

    chunk: Chunk
    score: float
    bm25_rank: int | None
    dense_rank: int | None
    bm25_score: float
    dense_score: float
