"""Uploaded articles: checked (type, size, UTF-8, a safe name) and saved into the corpus.

Nothing here touches the index: the caller saves, then asks `QA.reindex()` to pick the
new files up. Every refusal is a UsageError whose message can be shown to the user as is.
"""

from __future__ import annotations

import os
import re
import tempfile
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from .corpus import SUPPORTED_SUFFIXES, parse_document
from .errors import UsageError

# News articles are a few kilobytes; a megabyte of text is a book, not an article, and
# refusing more keeps one upload from stalling the index for everybody.
MAX_NAME_CHARS = 100
# Letters, digits, spaces, dots, hyphens, underscores: nothing a shell, a URL or a path
# gives meaning to.
_SAFE_NAME = re.compile(r"[\w][\w .-]*")
# Names Windows refuses, so a corpus folder stays portable.
_RESERVED = frozenset(
    {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(10)), *(f"lpt{i}" for i in range(10))}
)


@dataclass(frozen=True)
class Upload:
    """A checked upload: the file name to save under and its text."""

    name: str
    text: str


def safe_name(name: str) -> str:
    """The file name an upload is saved under, or UsageError.

    Refused: anything with a path in it ("../x.txt", "a/b.txt", "C:\\x.txt"), hidden names
    (".x.txt"), control or unusual characters, over-long names, and suffixes other than
    .txt and .md. Spaces become hyphens and the suffix is lower-cased: "My Notes.TXT" is
    saved as "My-Notes.txt".
    """
    shown = name if len(name) <= MAX_NAME_CHARS else name[:MAX_NAME_CHARS] + "…"
    cleaned = unicodedata.normalize("NFC", name).strip()
    if not cleaned:
        raise UsageError("The file has no name. Give it a name ending in .txt or .md.")
    if "/" in cleaned or "\\" in cleaned or ".." in cleaned or ":" in cleaned:
        raise UsageError(
            f"{shown!r} is not a plain file name (no folders or '..'). Rename it, e.g. article.txt."
        )
    if cleaned.startswith("."):
        raise UsageError(
            f"{shown!r} is a hidden file name. Rename it so it does not start with a dot."
        )
    if len(cleaned) > MAX_NAME_CHARS:
        raise UsageError(
            f"The file name is {len(cleaned)} characters long; the limit is {MAX_NAME_CHARS}."
        )
    if not _SAFE_NAME.fullmatch(cleaned):
        raise UsageError(
            f"{shown!r} has characters that are not allowed in a file name here: "
            "use letters, digits, spaces, '.', '-' and '_'."
        )
    path = Path(cleaned)
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise UsageError(
            f"{shown!r} is not a .txt or .md file. Only plain-text articles can be added."
        )
    stem = path.stem.strip().replace(" ", "-")
    if not stem or stem.lower().split(".")[0] in _RESERVED:
        raise UsageError(f"{shown!r} is not a usable file name. Rename it, e.g. article.txt.")
    return stem + suffix


def read_upload(path: Path | str, name: str, max_bytes: int) -> Upload:
    """Check the uploaded file at `path`, sent under the name `name`.

    Args:
        path: where the web server stored the upload.
        name: the name the user's file had.
        max_bytes: size limit (Settings.max_upload_bytes).

    Raises:
        UsageError: bad name or type, too large, not UTF-8 text, or no article text.
    """
    target = safe_name(name)
    size = os.path.getsize(path)
    if size > max_bytes:
        raise UsageError(
            f"{target} is {size:,} bytes; the limit is {max_bytes:,}. Upload a shorter article."
        )
    raw = Path(path).read_bytes()
    try:
        content = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise UsageError(
            f"{target} is not UTF-8 text (byte {e.start:,}). Save it as UTF-8 and upload it again."
        ) from e
    if "\x00" in content:
        raise UsageError(f"{target} holds binary data, not text.")
    if not parse_document(Path(target).stem, content).text.strip():
        raise UsageError(f"{target} has no article text (a title alone is not enough).")
    return Upload(target, content)


def save_upload(upload: Upload, corpus_dir: Path | str) -> Path:
    """Write `upload` into `corpus_dir`, atomically, never replacing an existing file.

    The text is written to a hidden temporary file first (the corpus loader skips hidden
    files) and then linked into place, so a reindex running at the same moment sees
    either nothing or the whole file.

    Raises:
        UsageError: a file of that name is already in the corpus.
    """
    folder = Path(corpus_dir)
    target = folder / upload.name
    handle, temporary = tempfile.mkstemp(prefix=".upload-", suffix=".part", dir=folder)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as out:
            out.write(upload.text)
        try:
            # link() fails if the target exists, where rename() would silently replace it.
            os.link(temporary, target)
        except FileExistsError as e:
            raise UsageError(
                f"{upload.name} is already in the corpus. "
                "Rename your file to add it as a new article."
            ) from e
        except OSError:
            # A file system without hard links: check, then rename (a narrow race
            # between two uploads of one name, not a partial file).
            if target.exists():
                raise UsageError(
                    f"{upload.name} is already in the corpus. Rename your file."
                ) from None
            os.replace(temporary, target)
            return target
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)
    return target
