"""Encoding without torch: the sentence-transformers model, exported once to ONNX.

A question is embedded by onnxruntime and the model's own tokenizer (the `tokenizers`
package), so `qa ask` never imports torch, transformers or sentence-transformers. The
export is made once per model, with torch in a child process, when an index is built
(or on the first question against an index that has none), and cached beside the index,
named by the model folder's content hash:

    <index parent>/.qa-onnx/<sha256 of the model folder, 16 hex digits>/
        model.onnx       the whole sentence-transformers pipeline that modules.json
                         lists (Transformer, Pooling, Dense, Normalize), one graph
        tokenizer.json   the tokenizer that sentence-transformers itself uses
        encoder.json     what encoding needs besides: input names, max_seq_length,
                         padding, dimension; and where it came from (model hash, files)

The export is checked when it is made: its vectors must equal sentence-transformers'
within TOLERANCE on probe texts, and its token ids must be the same, or it is refused.
Writes are atomic (a temporary sibling folder renamed into place), so a crash or a
second process exporting at the same time never leaves a half-written cache.
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..digest import swap_folder
from ..errors import ModelError
from ..log import Log
from .model_folder import (  # noqa: F401 (re-exported: the export and tests use them)
    check_modules,
    model_files,
    model_sha256,
    model_signature,
)

# The cache folder beside the index folders (hidden: `ls index/` shows the indexes).
CACHE_DIRNAME = ".qa-onnx"
ONNX_FILE = "model.onnx"
TOKENIZER_FILE = "tokenizer.json"
CONFIG_FILE = "encoder.json"
# The layout of a cache folder; another value is exported again. 2: the graph also
# outputs the token vectors.
# 3: the graph fused by onnxruntime's transformer optimiser where it can be (onnx_export).
ENCODER_FORMAT = 3
# Largest difference allowed between an exported model's vectors and
# sentence-transformers' (max absolute difference per component, unit vectors).
TOLERANCE = 1e-5
INPUTS = ("input_ids", "attention_mask", "token_type_ids")
# How the exporting child process (python -m qa.encoder.onnx_export) opens the line that
# says why it refused a model, so that the parent shows that line as it is.
EXPORT_ERROR = "Error: "
# Tokenize in parallel (the tokenizers package's own threads) from this many texts: for
# fewer it is no faster, and a process that has used those threads prints a warning in
# every child it forks.
PARALLEL_TOKENIZE = 64

# The most tokens (texts x the longest's tokens) in one batch. Measured on 2 cores
# (bench/encoder.py): onnxruntime embeds 2-4 passages or sentences at a time faster
# than 32 (0.24 s against 0.45 s for the 24 candidate sentences of a question, 60
# against 36 passages a second), while 32 short questions still go in one batch.
BATCH_TOKENS = 256


class Exports:
    """What a process knows of the ONNX exports on disk: where each model's export is
    (by model hash), so that another index of the same model gets a copy (hard links)
    instead of a second export; and a temporary cache for exports that have no cache
    folder, made on first use and removed at exit."""

    def __init__(self) -> None:
        self._known: dict[str, Path] = {}
        self._temporary: Path | None = None
        self._lock = threading.Lock()

    def find(self, model_hash: str) -> Path | None:
        with self._lock:
            return self._known.get(model_hash)

    def remember(self, model_hash: str, folder: Path) -> None:
        with self._lock:
            self._known[model_hash] = folder

    def temporary_root(self) -> Path:
        """A cache folder for this process only, removed when it exits."""
        with self._lock:
            if self._temporary is None:
                self._temporary = Path(tempfile.mkdtemp(prefix="qa-onnx-"))
                atexit.register(shutil.rmtree, self._temporary, True)
            return self._temporary


# The process's own, module-level on purpose: what it knows is about this process's
# files, so every Embedder in it (one per index: the CLI's, the UI's for each corpus, a
# benchmark's) must share it, or a second index of one model would be exported again
# (seconds of torch), and the temporary folder is this process's, removed at its exit.
# load_or_export reads it at call time, so a test can put a fresh one in its place.
PROCESS_EXPORTS = Exports()


def cache_root(index_dir: Path | str) -> Path:
    """Where the exports for the index in `index_dir` are cached: beside it, outside the
    folder that a rebuild swaps out."""
    return Path(index_dir).absolute().parent / CACHE_DIRNAME


def available_threads() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


class OnnxEncoder:
    """Texts -> L2-normalized float32 vectors, from one cache folder. Thread-safe:
    onnxruntime's InferenceSession.run and the tokenizer may be called from many threads.
    """

    def __init__(
        self,
        folder: Path | str,
        threads: int | None = None,
        providers: Sequence[str] = ("CPUExecutionProvider",),
        files: Mapping[str, bytes] | None = None,
    ) -> None:
        """threads: onnxruntime's (default all cores); providers: by preference; files:
        the folder's files by name, sent to a Ray worker rather than on its disk."""
        import onnxruntime as ort
        from tokenizers import Tokenizer

        self.folder = Path(folder)
        sent = files or {}
        self.config: dict[str, Any] = json.loads(
            sent.get(CONFIG_FILE) or (self.folder / CONFIG_FILE).read_bytes()
        )
        self.inputs: list[str] = list(self.config["inputs"])
        self.max_seq_length = int(self.config["max_seq_length"])
        self.dimension = int(self.config["dimension"])
        self.pad_id = int(self.config.get("pad_token_id", 0))
        self.pad_left = self.config.get("padding_side", "right") == "left"
        self.lower = bool(self.config.get("do_lower_case", False))

        if TOKENIZER_FILE in sent:
            tokenizer = Tokenizer.from_str(sent[TOKENIZER_FILE].decode("utf-8"))
        else:
            tokenizer = Tokenizer.from_file(str(self.folder / TOKENIZER_FILE))
        # tokenizer.json may carry its own padding and truncation (all-MiniLM-L6-v2's
        # pads and cuts at 128): sentence-transformers truncates at max_seq_length and
        # pads each batch to its longest text, as encode() below does.
        tokenizer.no_padding()
        tokenizer.enable_truncation(
            max_length=self.max_seq_length,
            strategy="longest_first",
            direction=self.config.get("truncation_side", "right"),
        )
        self.tokenizer = tokenizer

        options = ort.SessionOptions()
        # One question is a few milliseconds on 1-2 threads; the UI's answer workers run
        # questions side by side on the same session, so threads must not spin between
        # runs and take the cores from each other (and from BM25 and FAISS).
        options.intra_op_num_threads = threads or available_threads()
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.log_severity_level = 3  # errors only: never clutter stderr
        model = sent.get(ONNX_FILE) or str(self.folder / ONNX_FILE)
        self.session = ort.InferenceSession(model, options, providers=list(providers))

    def token_ids(self, texts: list[str]) -> list[list[int]]:
        """Each text's token ids, truncated as the model reads them."""
        return [e.ids for e in self._tokenize(texts)]

    def _tokenize(self, texts: list[str]) -> list[Any]:
        if self.lower:
            texts = [t.lower() for t in texts]
        if len(texts) >= PARALLEL_TOKENIZE:
            return list(self.tokenizer.encode_batch(texts))
        return [self.tokenizer.encode(t) for t in texts]

    def encode(
        self, texts: list[str], batch_size: int = 32, batch_tokens: int | None = None
    ) -> np.ndarray:
        """Embed `texts` -> array (len(texts), dimension), unit-length rows.

        Texts are batched longest first (as sentence-transformers does), so one long
        passage does not pad a whole batch of short ones, and a batch holds at most
        `batch_size` texts and `batch_tokens` tokens (default BATCH_TOKENS).
        """
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        if not texts:
            return vectors
        encodings = self._tokenize(list(texts))
        for part, _ in _batches(encodings, batch_size, batch_tokens):
            vectors[part] = self._run([encodings[i] for i in part])
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return np.ascontiguousarray(vectors / np.maximum(norms, 1e-12), dtype=np.float32)

    def _run(self, encodings: list[Any]) -> np.ndarray:
        return self._outputs(encodings, ["sentence_embedding"])[0]

    def read(self, texts: list[str]) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """Each text's unit sentence vector and contextual token vectors, from one run of
        the model: [(vector (d,), offsets (n, 2), tokens (n, d))] for the n tokens that are
        not special ([CLS], [SEP]). Token vectors are the model's last layer before
        pooling, as they come (not normalized: their mean is the text's pooled vector).
        Batched and truncated as encode() is."""
        if not texts:
            return []
        encodings = self._tokenize(list(texts))
        result: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = [None] * len(texts)  # type: ignore[list-item]
        for part, width in _batches(encodings, 32):
            pooled, tokens = self._outputs(
                [encodings[i] for i in part], ["sentence_embedding", "token_embeddings"]
            )
            for row, i in enumerate(part):
                e = encodings[i]
                n = len(e.ids)
                cols = np.arange(width - n, width) if self.pad_left else np.arange(n)
                keep = np.array([not s for s in e.special_tokens_mask], dtype=bool)
                offsets = np.asarray(e.offsets, dtype=np.int64).reshape(-1, 2)[keep]
                vector = pooled[row] / max(float(np.linalg.norm(pooled[row])), 1e-12)
                result[i] = (vector, offsets, tokens[row, cols][keep])
        return result

    def _outputs(self, encodings: list[Any], names: list[str]) -> list[np.ndarray]:
        width = max(len(e.ids) for e in encodings)
        ids = np.full((len(encodings), width), self.pad_id, dtype=np.int64)
        mask = np.zeros_like(ids)
        types = np.zeros_like(ids)
        for row, e in enumerate(encodings):
            n = len(e.ids)
            cols = slice(width - n, width) if self.pad_left else slice(0, n)
            ids[row, cols] = e.ids
            mask[row, cols] = 1
            types[row, cols] = e.type_ids
        arrays = {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
        out = self.session.run(names, {name: arrays[name] for name in self.inputs})
        return [np.asarray(o, dtype=np.float32) for o in out]


def _batches(
    encodings: list[Any], batch_size: int, batch_tokens: int | None = None
) -> Iterator[tuple[list[int], int]]:
    """(positions, width) of each batch: the texts longest first, as sentence-transformers
    batches them, so one long passage does not pad a whole batch of short ones; a batch
    holds at most `batch_size` texts and `batch_tokens` tokens (default BATCH_TOKENS, read
    at call time), and `width` is its longest text's tokens."""
    order = sorted(range(len(encodings)), key=lambda i: -len(encodings[i].ids))
    begin = 0
    while begin < len(order):
        width = len(encodings[order[begin]].ids)
        size = max(1, min(batch_size, (batch_tokens or BATCH_TOKENS) // max(width, 1)))
        yield order[begin : begin + size], width
        begin += size


def record_of(encoder: OnnxEncoder, model_path: Path) -> dict[str, Any]:
    """What an index manifest records of the export its vectors were made with."""
    config = encoder.config
    return {
        "engine": "onnx",
        "format": ENCODER_FORMAT,
        "path": str(encoder.folder),
        "model_sha256": config["model_sha256"],
        "onnx_sha256": config["onnx_sha256"],
        "model_path": str(model_path),
        "model_files": model_signature(model_path),
        "exporter": config.get("exporter"),
    }


def _valid(folder: Path, model_hash: str) -> bool:
    try:
        config = json.loads((folder / CONFIG_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return (
        isinstance(config, dict)
        and config.get("format") == ENCODER_FORMAT
        and config.get("model_sha256") == model_hash
        and (folder / ONNX_FILE).is_file()
        and (folder / TOKENIZER_FILE).is_file()
    )


def load_or_export(
    model_path: Path,
    root: Path | None,
    record: dict[str, Any] | None,
    log: Log,
    export: Callable[[Path, str, Path], None],
    exports: Exports | None = None,
) -> OnnxEncoder:
    """The ONNX encoder of the model at `model_path`: from the cache, or exported now.

    Args:
        root: the cache folder (cache_root()); None: a temporary one, for this process.
        record: what the index manifest recorded (record_of), if anything. While the
            model folder's files keep their sizes and times, its hash is taken from
            there rather than computed again.
        log: where the one line about exporting goes.
        export: makes the export from (model_path, model hash, folder)
            (engines.export_model: onnx_export, with torch, in a child process); passed
            in so that this runtime never imports the exporter.
        exports: what is known of the exports on disk; None: PROCESS_EXPORTS.

    Raises:
        ModelError: the model cannot be exported, or its export does not reproduce it.
    """
    check_modules(model_path)
    exports = exports if exports is not None else PROCESS_EXPORTS
    model_hash = None
    if record and record.get("format") == ENCODER_FORMAT:
        try:
            if record.get("model_files") == model_signature(model_path):
                model_hash = record.get("model_sha256")
        except OSError:
            pass
        recorded = Path(str(record.get("path", "")))
        if model_hash and _valid(recorded, model_hash):
            encoder = _open(recorded, exports)
            if encoder is not None:
                return encoder
    try:
        model_hash = model_hash or model_sha256(model_path)
    except OSError as e:
        raise ModelError(f"Cannot read the model at {model_path}: {e}") from e

    if root is None:
        root = exports.temporary_root()
    target = root / model_hash[:16]
    if _valid(target, model_hash) and (encoder := _open(target, exports)) is not None:
        return encoder
    known = exports.find(model_hash)
    try:
        root.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.exporting-", dir=root))
    except OSError as e:
        # The cache cannot be written here: export for this process only.
        fallback = exports.temporary_root()
        if root == fallback:
            raise ModelError(f"Cannot write the ONNX export at {root}/: {e}") from e
        log(
            f"Warning: {root}/ cannot be written ({(e.strerror or str(e)).lower()}), so the "
            "ONNX export of the model is made for this run only."
        )
        return load_or_export(model_path, fallback, None, log, export, exports)
    try:
        if known is not None and _valid(known, model_hash):
            _link_files(known, tmp)
        else:
            log(f"Exporting the model at {model_path} to ONNX, once, into {target}/ ...")
            export(model_path, model_hash, tmp)
        _swap_in(tmp, target, exports)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    encoder = _open(target, exports)
    if encoder is None:
        raise ModelError(f"onnxruntime cannot load the ONNX export at {target}/.")
    return encoder


def _open(folder: Path, exports: Exports) -> OnnxEncoder | None:
    """The encoder in `folder`, or None when onnxruntime cannot load it (damaged)."""
    try:
        encoder = OnnxEncoder(folder)
    except Exception:  # onnxruntime's own errors for a truncated or corrupted file
        return None
    exports.remember(encoder.config["model_sha256"], folder)
    return encoder


def _link_files(source: Path, target: Path) -> None:
    """Copy an export by hard links (its files are never changed in place)."""
    for path in source.iterdir():
        try:
            os.link(path, target / path.name)
        except OSError:
            shutil.copy2(path, target / path.name)


def _swap_in(tmp: Path, target: Path, exports: Exports) -> None:
    """Rename `tmp` to `target`, replacing a damaged export there. When another process
    exported the same model meanwhile, its (equal) export is kept."""
    try:
        os.replace(tmp, target)
        return
    except OSError:
        if _valid(target, json.loads((tmp / CONFIG_FILE).read_text())["model_sha256"]):
            if _open(target, exports) is not None:
                return
    swap_folder(tmp, target)
