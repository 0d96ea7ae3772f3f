"""Files on disk: the SHA-256 of a file, read in blocks (the one helper for corpus
fingerprints, model folders, their ONNX exports and cited PDFs), a folder swapped in by
renames (the index, an ONNX export), and the visible files of a folder (uploads)."""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path


def file_sha256(path: Path | str) -> str:
    """The hex SHA-256 of the file at `path`. Raises OSError when it cannot be read."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def swap_folder(new: Path, target: Path) -> None:
    """Put the folder `new` in the place of `target` by renames, so that no moment
    leaves a half-written folder there: the old one is moved aside, then removed; if
    the second rename fails, it is moved back."""
    if not target.exists():
        os.replace(new, target)
        return
    old = target.with_name(f".{target.name}.old-{os.getpid()}")
    os.replace(target, old)
    try:
        os.replace(new, target)
    except BaseException:
        os.replace(old, target)
        raise
    shutil.rmtree(old, ignore_errors=True)


def visible_files(folder: Path | str) -> list[Path]:
    """The files in `folder` (not its subfolders), by name, hidden names left out as the
    corpus walk leaves them (an upload being written is one); none when it does not
    exist."""
    try:
        entries = list(Path(folder).iterdir())
    except OSError:
        return []
    return sorted(p for p in entries if p.is_file() and not p.name.startswith("."))
