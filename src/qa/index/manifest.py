"""The manifest: what an index folder holds and what it was built from (manifest.json).

Read first and on its own (read_manifest): it decides whether the index on disk can be
used as it is (freshness.ensure_index) before any other file of it is opened.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..config import INDEX_FORMAT_VERSION
from ..errors import (
    REBUILD,
    IndexFormatError,
    IndexMismatchError,
    IndexNotFoundError,
    damaged,
    unreadable,
)

if TYPE_CHECKING:
    pass
from ..encoder.interface import TextEncoder


@dataclass(frozen=True)
class Manifest:
    """What manifest.json says, field by field and in its order (to_json writes them so).

    Frozen: an index's manifest is replaced (dataclasses.replace), never edited. Equal
    manifests (==) describe the same index.
    """

    format_version: int
    # The model's name and folder; an index is refused by a model matching neither.
    model: str
    model_path: str
    dimension: int
    # Settings.index_params(): a change of any of them rebuilds the index.
    settings: dict[str, Any]
    corpus_dir: str
    # {document id: {"sha256": its text's hash, "path": its file}}, in documents.jsonl's
    # line order (load_index reads the ids from here).
    documents: dict[str, dict[str, str]]
    chunks: int
    # Found once when building rather than on every load (it reads every document).
    acronyms: dict[str, str]
    # The ONNX export that embeds the questions (onnx_encoder.record_of): its folder, the
    # model's content hash, and the model files' sizes and times, which let a question
    # find it without hashing the model again. None: none was made (engine "torch").
    encoder: dict[str, Any] | None = None
    # The corpus folder's file fingerprints (corpus.fingerprint), set once the index is
    # built from them. None: an index saved before they were recorded.
    corpus: dict[str, Any] | None = None
    # The abstention threshold set from the user's verdicts (`qa calibrate`,
    # verdicts.calibration), kept across rebuilds. None: the answer model's own.
    calibration: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        """The JSON object of manifest.json; the optional fields only when set."""
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        return {k: v for k, v in values.items() if v is not None or k not in _OPTIONAL}

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> Manifest:
        """The manifest in `value`, a parsed manifest.json.

        Raises:
            ValueError: a field is missing or of the wrong type.
        """
        for name, kind in _TYPES.items():
            if name in _OPTIONAL and value.get(name) is None:
                continue
            if name not in value:
                raise ValueError(f"no {name!r}")
            field_value = value[name]
            if not isinstance(field_value, kind) or (kind is int and type(field_value) is bool):
                raise ValueError(f"{name!r} is not a {kind.__name__}")
        for entry in value["documents"].values():
            if not (
                isinstance(entry, dict)
                and isinstance(entry.get("sha256"), str)
                and isinstance(entry.get("path"), str)
            ):
                raise ValueError("a document without its sha256 and path")
        values: dict[str, Any] = {name: value.get(name) for name in _TYPES}
        return cls(**values)


# The JSON type of each field, and the fields that may be absent.
_TYPES: dict[str, type] = {
    "format_version": int,
    "model": str,
    "model_path": str,
    "dimension": int,
    "settings": dict,
    "corpus_dir": str,
    "documents": dict,
    "chunks": int,
    "acronyms": dict,
    "encoder": dict,
    "corpus": dict,
    "calibration": dict,
}
_OPTIONAL = frozenset({"encoder", "corpus", "calibration"})


def read_manifest(directory: Path | str, command: str = REBUILD) -> Manifest:
    """The manifest of the index in `directory`.

    Args:
        command: the rebuild command the error messages name.

    Raises:
        IndexNotFoundError: no index there.
        IndexFormatError: the index is in another format version.
        IndexCorruptError: the manifest is unreadable, or a field is missing or wrong.
    """
    root = Path(directory)
    path = root / "manifest.json"
    try:
        if not path.is_file():
            raise IndexNotFoundError(f'No index at {directory}/. Run "qa index" first.')
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except OSError as e:  # also from is_file, in a folder this user may not enter
        raise damaged(root, unreadable("manifest.json", e), command, "cannot be used") from e
    except ValueError as e:  # UnicodeDecodeError, json.JSONDecodeError
        raise damaged(root, "manifest.json is truncated or corrupted", command) from e
    if not isinstance(manifest, dict):
        raise damaged(root, "manifest.json is corrupted", command)
    if manifest.get("format_version") != INDEX_FORMAT_VERSION:
        raise IndexFormatError(
            f'The index at {directory}/ has another format version. Run "{command}" to rebuild it.'
        )
    try:
        return Manifest.from_json(manifest)
    except ValueError as e:
        raise damaged(root, "manifest.json is truncated or corrupted", command) from e


def check_model(manifest: Manifest, embedder: TextEncoder, command: str = REBUILD) -> None:
    """Refuse an index built with another model or dimension: its vectors mean nothing
    to this model."""
    if manifest.model_path != str(embedder.model_path) and manifest.model != embedder.name:
        raise IndexMismatchError(
            f"The index was built with model {manifest.model!r}, not {embedder.name!r}. "
            f'Run "{command}" to rebuild it with this model.'
        )
    if manifest.dimension != embedder.dimension:
        raise IndexMismatchError(
            f"The index holds {manifest.dimension}-dimensional vectors but the model makes "
            f'{embedder.dimension}-dimensional ones. Run "{command}" to rebuild it.'
        )


__all__ = ["Manifest", "check_model", "read_manifest"]
