"""What the index needs of an encoder, as a type: the Embedder, and the stand-ins that
tests and benchmarks pass instead (a counting wrapper, synthetic vectors, a fake clock),
so that building an index can be checked without the model."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import numpy as np


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
