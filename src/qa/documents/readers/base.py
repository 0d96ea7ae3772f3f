"""What every reader shares: the record it returns (Extracted), the error it raises
(ReadError), a heading marked as one (Heading), and the small helpers for text and dates."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


class ReadError(Exception):
    """This file cannot be read; the message says why, in a few words."""


class Heading(str):
    """A paragraph that is a heading of the document's structure, with its level (1 for a
    chapter or a page's top heading, 2 below it, ...). It is a str, so everything that
    reads paragraphs reads it as text; `corpus.py` records where each stands, and every
    passage under it carries its section path ("4.3 Encoding functions")."""

    level: int

    def __new__(cls, text: str, level: int = 1) -> Heading:
        heading = super().__new__(cls, " ".join(text.split()))
        heading.level = max(1, int(level))
        return heading


@dataclass
class Extracted:
    """What a reader found. `pages` holds each page's paragraphs (PDF); other formats
    have one page, `paragraphs`. `has_header` says the text may open with a title and a
    dateline that are metadata, not body (a saved page as text)."""

    paragraphs: list[str] = field(default_factory=list)
    pages: list[list[str]] | None = None
    title: str | None = None
    date: str | None = None
    author: str | None = None
    source: str | None = None
    has_header: bool = False
    # What a page is, so a citation names it as the reader of the file would: "page" (PDF,
    # scan), "slide" (a presentation), "row" (a spreadsheet, each row a page of its own).
    # `page_labels`: the number each page is cited by where that is not its position (a
    # row's number in its sheet), else None.
    page_kind: str = "page"
    page_labels: list[int] | None = None
    # Files carried inside this one, read as documents of their own (an e-mail's
    # attachments): (file name, bytes).
    attachments: list[tuple[str, bytes]] = field(default_factory=list)


def read_text_file(path: Path) -> str:
    """A text file as str: UTF-8 (with or without BOM), newlines normalised."""
    return decode_text(path.read_bytes())


def decode_text(raw: bytes) -> str:
    """Bytes of a text file as str: UTF-8 (with or without BOM), newlines normalised.

    Raises ReadError for bytes that are not UTF-8 or hold NUL (binary content)."""
    try:
        content = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise ReadError(f"not UTF-8 text (byte {e.start:,})") from e
    if "\x00" in content:
        raise ReadError("binary content")
    return content.replace("\r\n", "\n").replace("\r", "\n")


def clean_text(value: Any) -> str | None:
    """A metadata value as one line of text, or None when it has none."""
    if value is None:
        return None
    text = " ".join(str(value).split())
    return text or None


def iso_date(value: Any) -> str | None:
    """A date as YYYY-MM-DD, from a date, a datetime or an ISO-like string."""
    if isinstance(value, dt.datetime | dt.date):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, str) and (m := re.match(r"\s*(\d{4})-(\d{2})-(\d{2})", value)):
        return "-".join(m.groups())
    return None


def first_line(error: BaseException) -> str:
    """The first line of an error's message (at most 120 characters), for a warning."""
    lines = str(error).strip().splitlines()
    return lines[0][:120] if lines else type(error).__name__


# An Office file is a zip; one that unpacks to more than this is a zip bomb, not a
# document (a 20 MB workbook of text unpacks to some 200 MB).
MAX_UNPACKED_BYTES = 1_000_000_000
# An Office file saved with a password is not a zip but an OLE compound file holding the
# encrypted package (MS-OFFCRYPTO), named in UTF-16 in its directory.
_OLE_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ENCRYPTED_PACKAGE = "EncryptedPackage".encode("utf-16-le")


def check_package(path: Path, kind: str) -> None:
    """Raise ReadError, naming `kind` ("presentation", "workbook", ...), for a zip-based
    file that is encrypted, an old binary Office file under a new suffix, not a zip at
    all, or a zip bomb: one line each, before the format's library sees it."""
    import zipfile

    with open(path, "rb") as f:
        head = f.read(8)
        if head == _OLE_SIGNATURE:
            if _ENCRYPTED_PACKAGE in f.read(4_000_000):
                raise ReadError(f"an encrypted {kind} (it needs a password)")
            raise ReadError(f"an old binary Office file, not a {path.suffix} {kind}")
    try:
        with zipfile.ZipFile(path) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError) as e:
        raise ReadError(f"a damaged {kind} (not a readable zip: {first_line(e)})") from e
    if unpacked > MAX_UNPACKED_BYTES:
        raise ReadError(f"a {kind} that unpacks to {unpacked / 1e9:,.1f} GB, too large")
