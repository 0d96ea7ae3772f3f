"""Uploaded documents: checked (type, size, a safe name, readable by the same reader the
index uses), saved into the uploads folder (Settings.uploads_path, never the corpus
folder), and removed from it.

Nothing here touches the index: the caller saves or removes, then asks `QA.reindex()`
to catch up. Every refusal is a UsageError whose message can be shown to the user as is.
"""

from __future__ import annotations

import os
import re
import tempfile
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from ..digest import visible_files
from ..documents.corpus import SUPPORTED_SUFFIXES, read_document
from ..documents.readers import ReadError
from ..errors import UsageError

# Longer names are refused: no one types them, and some file systems cap a name at 255
# bytes (UTF-8 letters take up to 4).
MAX_NAME_CHARS = 100
# Letters, digits, spaces, dots, hyphens, underscores: nothing a shell, a URL or a path
# gives meaning to.
_SAFE_NAME = re.compile(r"[\w][\w .-]*")
# Names Windows refuses, so a corpus folder stays portable.
_RESERVED = frozenset(
    {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(10)), *(f"lpt{i}" for i in range(10))}
)


_BINARY_UNITS = ("KiB", "MiB", "GiB", "TiB")


def format_size(size: int) -> str:
    """`size` bytes for people, in binary units with one decimal: "976.6 KiB" for
    1,000,000 bytes, "1.0 MiB" for 1,048,576, "512 bytes".

    The one formatter for upload sizes: the upload label, the refusal below, and Gradio's
    own check in the browser (which refuses a file before it is sent, worded as
    "976.6 Kb") all show the same number in the same units.
    """
    if size < 1024:
        return f"{size:,} bytes"
    value = float(size)
    for unit in _BINARY_UNITS:
        value /= 1024
        if value < 1024 or unit == _BINARY_UNITS[-1]:
            break
    return f"{value:.1f} {unit}"


@dataclass(frozen=True)
class Upload:
    """A checked upload: the file name to save under and its bytes, as sent."""

    name: str
    data: bytes

    @property
    def text(self) -> str:
        """The bytes as text (for the text formats)."""
        return self.data.decode("utf-8-sig")


_KINDS = ", ".join(SUPPORTED_SUFFIXES)


def safe_name(name: str) -> str:
    """The file name an upload is saved under, or UsageError.

    Refused: anything with a path in it ("../x.txt", "a/b.txt", "C:\\x.txt"), hidden names
    (".x.txt"), control or unusual characters, over-long names, and suffixes the corpus
    does not read (corpus.SUPPORTED_SUFFIXES). Spaces become hyphens and the suffix is
    lower-cased: "My Notes.TXT" is saved as "My-Notes.txt".
    """
    shown = name if len(name) <= MAX_NAME_CHARS else name[:MAX_NAME_CHARS] + "…"
    cleaned = unicodedata.normalize("NFC", name).strip()
    if not cleaned:
        raise UsageError(f"The file has no name. Give it a name ending in one of {_KINDS}.")
    if "/" in cleaned or "\\" in cleaned or ".." in cleaned or ":" in cleaned:
        raise UsageError(
            f"{shown!r} is not a plain file name (no folders or '..'). Rename it, e.g. notes.txt."
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
        raise UsageError(f"{shown!r} is not a file type qa reads ({_KINDS}).")
    stem = path.stem.strip().replace(" ", "-")
    if not stem or stem.lower().split(".")[0] in _RESERVED:
        raise UsageError(f"{shown!r} is not a usable file name. Rename it, e.g. notes.txt.")
    return stem + suffix


def read_upload(path: Path | str, name: str, max_bytes: int) -> Upload:
    """Check the uploaded file at `path`, sent under the name `name`: it must be read by
    the same reader, with the same result, as when the index reads the corpus.

    Args:
        path: where the web server stored the upload.
        name: the name the user's file had.
        max_bytes: size limit (Settings.max_upload_bytes).

    Raises:
        UsageError: bad name or type, too large, unreadable (not UTF-8 text, a scanned
            or damaged PDF, ...), or no text.
    """
    target = safe_name(name)
    size = os.path.getsize(path)
    if size > max_bytes:
        limit, shown = format_size(max_bytes), format_size(size)
        # A file a few bytes over the limit rounds to the limit's own figure.
        over = f"just over the {limit}" if shown == limit else f"{shown}, over the {limit}"
        raise UsageError(f"{target} is {over} limit. Upload a shorter document.")
    raw = Path(path).read_bytes()
    # The reader picks the format by suffix, so read a copy under the name it will have.
    with tempfile.TemporaryDirectory(prefix="qa-upload-") as folder:
        copy = Path(folder) / target
        copy.write_bytes(raw)
        try:
            document = read_document(copy, copy.stem)
        except ReadError as e:
            # One check for every format, the same as indexing makes (readers.py).
            raise UsageError(f"{target} cannot be read: {e}.") from e
    if not document.text.strip():
        raise UsageError(f"{target} has no text.")
    return Upload(target, raw)


def save_upload(upload: Upload, folder: Path | str) -> Path:
    """Write `upload` into the uploads `folder` (made if missing), atomically, never
    replacing an existing file.

    The text is written to a hidden temporary file first (the corpus loader skips hidden
    files) and then linked into place, so a reindex running at the same moment sees
    either nothing or the whole file.

    Raises:
        UsageError: an upload of that name, or of that name with another suffix (the two
            would be one document), is there already.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / upload.name
    stem = target.stem.casefold()
    for other in visible_files(folder):
        if other.stem.casefold() == stem and other.name != upload.name:
            raise UsageError(
                f"{upload.name} has the name of the upload {other.name} (only the suffix "
                "differs). Rename your file, or remove the other first."
            )
    handle, temporary = tempfile.mkstemp(prefix=".upload-", suffix=".part", dir=folder)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(upload.data)
        try:
            # link() fails if the target exists, where rename() would silently replace it.
            os.link(temporary, target)
        except FileExistsError as e:
            raise _already(upload.name) from e
        except OSError:
            # A file system without hard links: check, then rename (a narrow race
            # between two uploads of one name, not a partial file).
            if target.exists():
                raise _already(upload.name) from None
            os.replace(temporary, target)
            return target
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)
    return target


def _already(name: str) -> UsageError:
    return UsageError(
        f"{name} has been uploaded already. Rename your file to add it as a new document."
    )


def remove_upload(name: str, folder: Path | str) -> Path:
    """Delete the upload `name` from the uploads `folder`. Only a file listed there is
    removed: a name with a path in it, or the name of a corpus file, is refused.

    Raises:
        UsageError: there is no upload of that name.
    """
    for path in visible_files(folder):
        if path.name == name:
            path.unlink()
            return path
    raise UsageError(f"{name or 'That file'} is not an uploaded document, so nothing was removed.")
