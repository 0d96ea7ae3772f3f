"""Encoding without torch: the sentence-transformers model, exported once to ONNX.

A question is embedded by onnxruntime and the model's own tokenizer (the `tokenizers`
package), so `qa ask` never imports torch, transformers or sentence-transformers. The
export is made once per model, with torch, when an index is built (or on the first
question against an index that has none), and cached in a folder beside the index,
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
import contextlib
import hashlib
import io
import json
import logging
import os
import shutil
import tempfile
import threading
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from .errors import ModelError

# The cache folder beside the index folders (hidden: `ls index/` shows the indexes).
CACHE_DIRNAME = ".qa-onnx"
ONNX_FILE = "model.onnx"
TOKENIZER_FILE = "tokenizer.json"
CONFIG_FILE = "encoder.json"
# The layout of a cache folder; another value is exported again.
ENCODER_FORMAT = 1
# Largest difference allowed between an exported model's vectors and
# sentence-transformers' (max absolute difference per component, unit vectors).
TOLERANCE = 1e-5
# The sentence-transformers modules that the export reproduces in one graph.
SUPPORTED_MODULES = ("Transformer", "Pooling", "Dense", "Normalize")
INPUTS = ("input_ids", "attention_mask", "token_type_ids")
# Tokenize in parallel (the tokenizers package's own threads) from this many texts: for
# fewer it is no faster, and a process that has used those threads prints a warning in
# every child it forks.
PARALLEL_TOKENIZE = 64

# The most tokens (texts x the longest's tokens) in one batch. Measured on 2 cores
# (bench/encoder.py): onnxruntime embeds 2-4 passages or sentences at a time faster
# than 32 (0.24 s against 0.45 s for the 24 candidate sentences of a question, 60
# against 36 passages a second), while 32 short questions still go in one batch.
BATCH_TOKENS = 256

Log = Callable[[str], None]

# Exports this process made or loaded, by model hash: another index of the same model
# gets a copy (hard links) instead of a second export.
_KNOWN: dict[str, Path] = {}
_known_lock = threading.Lock()


def cache_root(index_dir: Path | str) -> Path:
    """Where the exports for the index in `index_dir` are cached: beside it, outside the
    folder that a rebuild swaps out."""
    return Path(index_dir).absolute().parent / CACHE_DIRNAME


def model_files(model_path: Path) -> list[Path]:
    """The files of a model folder, sorted, hidden ones (.git, .gitattributes) left out."""
    found = []
    for root, dirs, files in os.walk(model_path):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        found += [Path(root) / f for f in files if not f.startswith(".")]
    return sorted(found, key=lambda p: p.relative_to(model_path).as_posix())


def model_signature(model_path: Path) -> dict[str, list[int]]:
    """Each model file's size and modification time: a cheap stand-in for the content
    hash while the folder has not changed."""
    signature = {}
    for path in model_files(model_path):
        stat = path.stat()
        signature[path.relative_to(model_path).as_posix()] = [stat.st_size, stat.st_mtime_ns]
    return signature


def model_sha256(model_path: Path) -> str:
    """The content hash of a model folder: every file's relative name and bytes."""
    digest = hashlib.sha256()
    for path in model_files(model_path):
        digest.update(path.relative_to(model_path).as_posix().encode() + b"\0")
        digest.update(_file_sha256(path).encode())
    return digest.hexdigest()


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def check_modules(model_path: Path) -> None:
    """Refuse, in words, a model whose modules.json lists modules the export cannot run
    (read without importing torch)."""
    path = model_path / "modules.json"
    try:
        modules = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        modules = [{"type": "sentence_transformers.models.Transformer"}]  # a plain HF model
    except (OSError, ValueError) as e:
        raise ModelError(f"Cannot read {path}: {e}") from e
    kinds = [str(m.get("type", "")).rsplit(".", 1)[-1] for m in modules]
    unsupported = [k for k in kinds if k not in SUPPORTED_MODULES]
    if unsupported or not kinds or kinds[0] != "Transformer":
        raise ModelError(
            f"The model at {model_path} is made of {', '.join(kinds) or 'no modules'}; qa "
            f"can run only {', '.join(SUPPORTED_MODULES)} (a Transformer first) without "
            "torch. Set QA_ENCODER=torch to embed with sentence-transformers instead."
        )


def available_threads() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


class OnnxEncoder:
    """Texts -> L2-normalized float32 vectors, from one cache folder. Thread-safe:
    onnxruntime's InferenceSession.run and the tokenizer may be called from many threads.
    """

    def __init__(self, folder: Path | str, threads: int | None = None) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        self.folder = Path(folder)
        self.config: dict[str, Any] = json.loads(
            (self.folder / CONFIG_FILE).read_text(encoding="utf-8")
        )
        self.inputs: list[str] = list(self.config["inputs"])
        self.max_seq_length = int(self.config["max_seq_length"])
        self.dimension = int(self.config["dimension"])
        self.pad_id = int(self.config.get("pad_token_id", 0))
        self.pad_left = self.config.get("padding_side", "right") == "left"
        self.lower = bool(self.config.get("do_lower_case", False))

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
        self.session = ort.InferenceSession(
            str(self.folder / ONNX_FILE), options, providers=["CPUExecutionProvider"]
        )

    def token_ids(self, texts: list[str]) -> list[list[int]]:
        """Each text's token ids, truncated as the model reads them."""
        return [e.ids for e in self._tokenize(texts)]

    def _tokenize(self, texts: list[str]) -> list[Any]:
        if self.lower:
            texts = [t.lower() for t in texts]
        if len(texts) >= PARALLEL_TOKENIZE:
            return list(self.tokenizer.encode_batch(texts))
        return [self.tokenizer.encode(t) for t in texts]

    def encode(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        """Embed `texts` -> array (len(texts), dimension), unit-length rows.

        Texts are batched longest first (as sentence-transformers does), so one long
        passage does not pad a whole batch of short ones, and a batch holds at most
        `batch_size` texts and BATCH_TOKENS tokens.
        """
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        if not texts:
            return vectors
        encodings = self._tokenize(list(texts))
        order = sorted(range(len(texts)), key=lambda i: -len(encodings[i].ids))
        begin = 0
        while begin < len(order):
            width = len(encodings[order[begin]].ids)  # the longest of this batch
            size = max(1, min(batch_size, BATCH_TOKENS // max(width, 1)))
            part = order[begin : begin + size]
            vectors[part] = self._run([encodings[i] for i in part])
            begin += size
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return np.ascontiguousarray(vectors / np.maximum(norms, 1e-12), dtype=np.float32)

    def _run(self, encodings: list[Any]) -> np.ndarray:
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
        (out,) = self.session.run(None, {name: arrays[name] for name in self.inputs})
        return np.asarray(out, dtype=np.float32)


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
    load_model: Callable[[], Any],
    log: Log,
) -> OnnxEncoder:
    """The ONNX encoder of the model at `model_path`: from the cache, or exported now.

    Args:
        root: the cache folder (cache_root()); None: a temporary one, for this process.
        record: what the index manifest recorded (record_of), if anything. While the
            model folder's files keep their sizes and times, its hash is taken from
            there rather than computed again.
        load_model: returns the loaded SentenceTransformer; called only to export.
        log: where the one line about exporting goes.

    Raises:
        ModelError: the model cannot be exported, or its export does not reproduce it.
    """
    check_modules(model_path)
    model_hash = None
    if record and record.get("format") == ENCODER_FORMAT:
        try:
            if record.get("model_files") == model_signature(model_path):
                model_hash = record.get("model_sha256")
        except OSError:
            pass
        recorded = Path(str(record.get("path", "")))
        if model_hash and _valid(recorded, model_hash):
            encoder = _open(recorded)
            if encoder is not None:
                return encoder
    try:
        model_hash = model_hash or model_sha256(model_path)
    except OSError as e:
        raise ModelError(f"Cannot read the model at {model_path}: {e}") from e

    if root is None:
        root = _process_cache()
    target = root / model_hash[:16]
    if _valid(target, model_hash) and (encoder := _open(target)) is not None:
        return encoder
    with _known_lock:
        known = _KNOWN.get(model_hash)
    try:
        root.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.exporting-", dir=root))
    except OSError as e:
        # The cache cannot be written here: export for this process only.
        fallback = _process_cache()
        if root == fallback:
            raise ModelError(f"Cannot write the ONNX export at {root}/: {e}") from e
        log(
            f"Warning: {root}/ cannot be written ({(e.strerror or str(e)).lower()}), so the "
            "ONNX export of the model is made for this run only."
        )
        return load_or_export(model_path, fallback, None, load_model, log)
    try:
        if known is not None and _valid(known, model_hash):
            _link_files(known, tmp)
        else:
            log(f"Exporting the model at {model_path} to ONNX, once, into {target}/ ...")
            export(load_model(), model_path, model_hash, tmp)
        _swap_in(tmp, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    encoder = _open(target)
    if encoder is None:
        raise ModelError(f"onnxruntime cannot load the ONNX export at {target}/.")
    return encoder


def _open(folder: Path) -> OnnxEncoder | None:
    """The encoder in `folder`, or None when onnxruntime cannot load it (damaged)."""
    try:
        encoder = OnnxEncoder(folder)
    except Exception:  # onnxruntime's own errors for a truncated or corrupted file
        return None
    with _known_lock:
        _KNOWN[encoder.config["model_sha256"]] = folder
    return encoder


def _link_files(source: Path, target: Path) -> None:
    """Copy an export by hard links (its files are never changed in place)."""
    for path in source.iterdir():
        try:
            os.link(path, target / path.name)
        except OSError:
            shutil.copy2(path, target / path.name)


def _swap_in(tmp: Path, target: Path) -> None:
    """Rename `tmp` to `target`, replacing a damaged export there. When another process
    exported the same model meanwhile, its (equal) export is kept."""
    try:
        os.replace(tmp, target)
        return
    except OSError:
        if _valid(target, json.loads((tmp / CONFIG_FILE).read_text())["model_sha256"]):
            if _open(target) is not None:
                return
    old = target.with_name(f".{target.name}.old-{os.getpid()}")
    os.replace(target, old)
    os.replace(tmp, target)
    shutil.rmtree(old, ignore_errors=True)


_process_dir: Path | None = None


def _process_cache() -> Path:
    """A temporary cache for this process only, removed at exit."""
    global _process_dir
    if _process_dir is None:
        _process_dir = Path(tempfile.mkdtemp(prefix="qa-onnx-"))
        atexit.register(shutil.rmtree, _process_dir, True)
    return _process_dir


# Texts the export is checked on: cased and uncased, punctuation, digits, accents, CJK,
# emoji, empty, blank, and one longer than any max_seq_length, cut by truncation.
PROBES = (
    "How many workers does Liangjiang's digital economy park employ?",
    "THE QUICK BROWN FOX, jumped over 13 lazy dogs in 2021!",
    "Café déjà vu: naïve façade — résumé.",
    "重庆两江新区数字经济产业园 employs 3,000 people.",
    "Emoji 🚀 and symbols ©®™ at the end",
    "",
    "   ",
    " ".join(f"word{i} and more text" for i in range(400)),
)


def export(model: Any, model_path: Path, model_hash: str, folder: Path) -> None:
    """Export the loaded SentenceTransformer `model` into `folder`, and check that the
    export reproduces it on PROBES.

    Raises:
        ModelError: the model cannot be exported or its export does not reproduce it.
    """
    import torch

    if getattr(model, "default_prompt_name", None) and (model.prompts or {}).get(
        model.default_prompt_name
    ):
        raise ModelError(
            f"The model at {model_path} prepends a prompt to every text, which the ONNX "
            "export does not do. Set QA_ENCODER=torch to embed with sentence-transformers."
        )
    first = model[0]
    tokenizer = getattr(first, "tokenizer", None)
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is None:
        raise ModelError(
            f"The model at {model_path} has no fast tokenizer (tokenizer.json), which qa "
            "needs to encode without torch. Set QA_ENCODER=torch to use it."
        )
    preprocess = getattr(model, "preprocess", None) or model.tokenize
    features = preprocess(list(PROBES[:2]))
    names = [n for n in INPUTS if isinstance(features.get(n), torch.Tensor)]
    others = [k for k, v in features.items() if isinstance(v, torch.Tensor) and k not in names]
    if "input_ids" not in names or "attention_mask" not in names or others:
        raise ModelError(
            f"The model at {model_path} reads {', '.join(sorted(features))}; qa's ONNX export "
            f"feeds only {', '.join(INPUTS)}. Set QA_ENCODER=torch to use it."
        )
    constants = {k: v for k, v in features.items() if not isinstance(v, torch.Tensor)}
    max_seq_length = int(model.max_seq_length)
    reference = model.encode(
        list(PROBES), batch_size=len(PROBES), convert_to_numpy=True, normalize_embeddings=True
    )
    dimension = int(reference.shape[1])
    expected_ids = _reference_ids(preprocess(list(PROBES)))

    onnx_path = folder / ONNX_FILE
    exporter = _export_graph(model, names, constants, features, max_seq_length, onnx_path)
    config = {
        "format": ENCODER_FORMAT,
        "model_sha256": model_hash,
        "model_path": str(model_path),
        "onnx_sha256": _file_sha256(onnx_path),
        "exporter": exporter,
        "torch_version": torch.__version__,
        "inputs": names,
        "output": "sentence_embedding",
        "dimension": dimension,
        "max_seq_length": max_seq_length,
        "do_lower_case": bool(getattr(first, "do_lower_case", False)),
        "pad_token_id": int(getattr(tokenizer, "pad_token_id", 0) or 0),
        "padding_side": str(getattr(tokenizer, "padding_side", "right")),
        "truncation_side": str(getattr(tokenizer, "truncation_side", "right")),
        "modules": [type(m).__name__ for m in model],
    }
    (folder / CONFIG_FILE).write_text(json.dumps(config, indent=1), encoding="utf-8")

    # The model's own tokenizer.json if it tokenizes as sentence-transformers does, else
    # the tokenizer sentence-transformers built (from tokenizer_config.json, vocab.txt).
    candidates: list[Callable[[Path], object]] = []
    if (model_path / TOKENIZER_FILE).is_file():
        candidates.append(lambda p: shutil.copyfile(model_path / TOKENIZER_FILE, p))
    candidates.append(lambda p: backend.save(str(p)))
    for write in candidates:
        write(folder / TOKENIZER_FILE)
        encoder = OnnxEncoder(folder)
        if encoder.token_ids(list(PROBES)) == expected_ids:
            break
    else:
        raise ModelError(
            f"The tokenizer of the model at {model_path} cannot be reproduced without "
            "transformers. Set QA_ENCODER=torch to use it."
        )
    difference = float(np.abs(encoder.encode(list(PROBES)) - reference).max())
    if not difference <= TOLERANCE:
        raise ModelError(
            f"The ONNX export of the model at {model_path} differs from sentence-transformers "
            f"by {difference:.2g} (more than {TOLERANCE:g}). Set QA_ENCODER=torch to use it."
        )


def _reference_ids(features: dict[str, Any]) -> list[list[int]]:
    ids = features["input_ids"].tolist()
    mask = features["attention_mask"].tolist()
    return [
        [t for t, m in zip(row, keep, strict=True) if m]
        for row, keep in zip(ids, mask, strict=True)
    ]


@contextlib.contextmanager
def _quiet_logger(name: str) -> Iterator[None]:
    """The exporters log their progress and torchvision's absence through `logging`,
    whose handlers hold the real stderr: raise the level while exporting."""
    logger = logging.getLogger(name)
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def _export_graph(
    model: Any,
    names: list[str],
    constants: dict[str, Any],
    features: dict[str, Any],
    max_seq_length: int,
    path: Path,
) -> str:
    """Write the graph: torch.export (dynamo), else the TorchScript exporter. Returns
    which one wrote it."""
    import torch

    class Pipeline(torch.nn.Module):
        """The SentenceTransformer as a function of tensors: features in, sentence
        embedding out, through every module modules.json lists."""

        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(
            self,
            input_ids: torch.Tensor,
            attention_mask: torch.Tensor,
            token_type_ids: torch.Tensor | None = None,
        ) -> torch.Tensor:
            given = {"input_ids": input_ids, "attention_mask": attention_mask}
            if token_type_ids is not None:
                given["token_type_ids"] = token_type_ids
            return self.model({**constants, **given})["sentence_embedding"]

    pipeline = Pipeline().eval()
    args = tuple(features[n] for n in names)
    batch = torch.export.Dim("batch")
    tokens = torch.export.Dim("tokens", max=max(max_seq_length, 2))
    attempts: list[tuple[str, dict[str, Any]]] = [
        (
            "torch.onnx (dynamo)",
            {
                "dynamo": True,
                "external_data": False,
                "dynamic_shapes": {n: {0: batch, 1: tokens} for n in names},
            },
        ),
        (
            "torch.onnx (torchscript)",
            {
                "dynamo": False,
                "opset_version": 17,
                "dynamic_axes": {
                    **{n: {0: "batch", 1: "tokens"} for n in names},
                    "sentence_embedding": {0: "batch"},
                },
            },
        ),
    ]
    failures = []
    for exporter, options in attempts:
        chatter = io.StringIO()
        try:
            with (
                torch.no_grad(),
                warnings.catch_warnings(),
                contextlib.redirect_stdout(chatter),
                contextlib.redirect_stderr(chatter),
                _quiet_logger("torch.onnx"),
                _quiet_logger("torch.export"),
                _quiet_logger("onnxscript"),
            ):
                warnings.simplefilter("ignore")
                torch.onnx.export(
                    pipeline,
                    args,
                    str(path),
                    input_names=names,
                    output_names=["sentence_embedding"],
                    verbose=False,
                    **options,
                )
            if path.is_file():
                return exporter
        except Exception as e:  # each exporter fails in its own ways
            failures.append(f"{exporter}: {type(e).__name__}: {e}".splitlines()[0])
        path.unlink(missing_ok=True)
    raise ModelError("The model cannot be exported to ONNX (" + "; ".join(failures) + ").")
