"""The two engines that run the model, behind one interface (interface.Engine):

    OnnxEngine    onnxruntime on the model's ONNX export (onnx_encoder.py): the default,
                  and the one that never imports torch (a child process exports)
    TorchEngine   sentence-transformers itself: torch, every time, for a model the
                  export cannot run (QA_ENCODER=torch)

Both give the same vectors (within onnx_encoder.TOLERANCE) and load the model on first
use, so that making one is free and `qa --help` never pays for it.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..config import Encoder
from ..errors import ModelError
from ..log import Log, to_stderr
from .interface import RawReading
from .model_folder import check_model_folder
from .onnx_encoder import EXPORT_ERROR, OnnxEncoder, load_or_export, record_of

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer


class TorchEngine:
    """sentence-transformers on torch; the model is loaded once and kept."""

    name: Encoder = "torch"

    def __init__(self, model_path: Path) -> None:
        self.model_path = model_path
        self._model: SentenceTransformer | None = None
        self._lock = threading.Lock()

    @property
    def model(self) -> SentenceTransformer:
        """The sentence-transformers model (imports torch)."""
        with self._lock:
            if self._model is None:
                self._model = load_model(self.model_path)
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

    @property
    def max_seq_length(self) -> int:
        # None: sentence-transformers sets no limit of its own, the tokenizer's holds.
        length = self.model.max_seq_length
        return int(length if length is not None else self.model.tokenizer.model_max_length)

    def encode(self, texts: list[str], batch_size: int, progress: bool) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self.model.encode(
            texts,
            batch_size=batch_size,
            show_progress_bar=progress,
            convert_to_numpy=True,
            normalize_embeddings=True,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def read(self, texts: list[str]) -> list[RawReading]:
        return [_torch_read(self.model, text) for text in texts]

    def record(self) -> None:
        """Nothing: vectors made by sentence-transformers need no export to reproduce."""
        return None


class OnnxEngine:
    """onnxruntime on the model's ONNX export, found in `cache` (onnx_encoder.cache_root(),
    beside the index; None: a temporary folder) or exported there first, by a child
    process (export_model): this one never imports torch."""

    name: Encoder = "onnx"

    def __init__(
        self,
        model_path: Path,
        cache: Path | None = None,
        log: Log = to_stderr,
    ) -> None:
        self.model_path = model_path
        self.cache = cache
        # What an index manifest recorded of its export (onnx_encoder.record_of): where
        # it is, and the model's hash while the model folder is unchanged.
        self.recorded: dict[str, Any] | None = None
        self.log = log
        self._encoder: OnnxEncoder | None = None
        self._lock = threading.Lock()

    def configure(
        self,
        cache: Path | None = None,
        record: dict[str, Any] | None = None,
        log: Log | None = None,
    ) -> None:
        """Where the export is cached and what an index recorded of it, until the
        export is loaded (later, they would describe another one); where the one line
        about exporting goes, at any time."""
        if self._encoder is None:
            self.cache = cache if cache is not None else self.cache
            self.recorded = record if record is not None else self.recorded
        if log is not None:
            self.log = log

    @property
    def encoder(self) -> OnnxEncoder:
        """The ONNX encoder: loaded from the cache, or exported into it first."""
        with self._lock:
            if self._encoder is None:
                check_model_folder(self.model_path)
                self._encoder = load_or_export(
                    self.model_path,
                    self.cache,
                    self.recorded,
                    log=self.log,
                    # Looked up now, not bound at import, so that tests can refuse it.
                    export=export_model,
                )
            return self._encoder

    @property
    def dimension(self) -> int:
        return self.encoder.dimension

    @property
    def max_seq_length(self) -> int:
        return self.encoder.max_seq_length

    def encode(self, texts: list[str], batch_size: int, progress: bool) -> np.ndarray:
        # No bar: the index build reports progress itself (index/build.py), in slices.
        return self.encoder.encode(list(texts), batch_size)

    def read(self, texts: list[str]) -> list[RawReading]:
        return self.encoder.read(texts)

    def record(self) -> dict[str, Any]:
        """The export the vectors were made with (onnx_encoder.record_of)."""
        return record_of(self.encoder, self.model_path)


def _torch_read(model: Any, text: str) -> RawReading:
    """OnnxEncoder.read under sentence-transformers: the same vectors and token vectors."""
    import torch

    marked = model.tokenizer(
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
    return vector, offsets[~special], tokens[~special]


def load_model(path: Path) -> SentenceTransformer:
    """The sentence-transformers model in `path`, from its files alone (imports torch)."""
    check_model_folder(path)
    from sentence_transformers import SentenceTransformer

    try:
        with _no_progress_bar():
            # local_files_only: never reach for a model hub, everything must already be
            # on disk; it also skips looking the base model up on the Hub for the model
            # card, which this argument alone turns off.
            return SentenceTransformer(str(path), device="cpu", local_files_only=True)
    except (OSError, ValueError) as e:
        raise ModelError(f"Could not load the model at {path}: {e}") from e


@contextlib.contextmanager
def _no_progress_bar() -> Iterator[None]:
    """transformers' "Loading weights" bar off, for the load only: it would clutter
    stderr on every load, but the process may be a program of its own that uses qa as
    a library and wants its bars."""
    from transformers.utils import logging as transformers_logging

    shown = transformers_logging.is_progress_bar_enabled()
    transformers_logging.disable_progress_bar()
    try:
        yield
    finally:
        if shown:
            transformers_logging.enable_progress_bar()


def export_model(model_path: Path, model_hash: str, folder: Path) -> None:
    """Export the model into `folder` and check it (onnx_export.py), in a child process:
    torch and its copy of the model, several hundred MB, leave with it, where importing
    them here would keep them for the life of a server that never needs them again.

    Raises:
        ModelError: the export failed or was refused (its reason, in one line).
    """
    # The child imports this same qa, wherever this process found it.
    source = str(Path(__file__).resolve().parents[2])
    path = os.environ.get("PYTHONPATH")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([source, path] if path else [source])}
    args = [str(Path(model_path).absolute()), model_hash, str(Path(folder).absolute())]
    done = subprocess.run(
        [sys.executable, "-m", "qa.encoder.onnx_export", *args],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        errors="replace",
    )
    if done.returncode == 0:
        return
    lines = [line.strip() for line in done.stderr.splitlines() if line.strip()]
    last = lines[-1] if lines else f"exit status {done.returncode}"
    if last.startswith(EXPORT_ERROR):  # refused in words (ModelError): as it is
        raise ModelError(last.removeprefix(EXPORT_ERROR))
    raise ModelError(f"Exporting the model at {model_path} to ONNX failed: {last}")
