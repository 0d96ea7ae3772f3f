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
