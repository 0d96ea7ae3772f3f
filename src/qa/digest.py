"""The SHA-256 of a file, read in blocks: the one helper for documents (corpus
fingerprints), model folders and their ONNX exports, and cited PDFs."""

from __future__ import annotations

import hashlib
from pathlib import Path


def file_sha256(path: Path | str) -> str:
    """The hex SHA-256 of the file at `path`. Raises OSError when it cannot be read."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()
