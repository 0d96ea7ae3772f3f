"""The encoder's two seams, as types, and what reading a text gives (Reading: the
answer step needs only this plain module, not the engines).

TextEncoder: what the index needs of an encoder, met by the Embedder and by the stand-ins
that tests and benchmarks pass instead (a counting wrapper, synthetic vectors, a fake
clock), so that building an index can be checked without the model. Engine: what the
Embedder needs of the engine that runs the model (engines.py: ONNX or torch), chosen
once by name."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from ..config import Encoder

# One text as an engine reads it: its unit vector (d,), and the character offsets (n, 2)
# and contextual vectors (n, d) of its n tokens that are not special ([CLS], [SEP]).
RawReading = tuple[np.ndarray, np.ndarray, np.ndarray]


@dataclass(frozen=True)
class Reading:
    """A text as the model reads it: its unit vector, and its contextual token vectors
    (the last layer before pooling, as they come) with each token's character offsets in
    the text. Special tokens ([CLS], [SEP]) are left out."""

    vector: np.ndarray
    offsets: np.ndarray
    tokens: np.ndarray


class TextEncoder(Protocol):
    """Embeds texts into unit vectors of `dimension`, `batch_size` at a time; `name` and
    `model_path` say which model, as the index's manifest records it."""

    @property
    def name(self) -> str: ...

    @property
    def model_path(self) -> Path: ...

    @property
    def dimension(self) -> int: ...

    @property
    def batch_size(self) -> int: ...

    def encode(self, texts: list[str], progress: bool = False) -> np.ndarray:
        """(len(texts), dimension) float32, unit-length rows."""
        ...


class Engine(Protocol):
    """Runs the model: embeds texts and reads their token vectors. Loads it on first use,
    so that making one is free. `name` is the QA_ENCODER value that chooses it."""

    @property
    def name(self) -> Encoder: ...

    @property
    def dimension(self) -> int: ...

    @property
    def max_seq_length(self) -> int:
        """The most tokens of a text the model reads (it truncates the rest)."""
        ...

    def encode(self, texts: list[str], batch_size: int, progress: bool) -> np.ndarray:
        """(len(texts), dimension) float32, unit-length rows; texts batched longest
        first, so that one long passage does not pad a whole batch of short ones."""
        ...

    def read(self, texts: list[str]) -> list[RawReading]:
        """Each text's vector and token vectors, from one run of the model."""
        ...

    def record(self) -> dict[str, Any] | None:
        """What the index manifest records of this engine (None: nothing to record)."""
        ...
