"""File -> Extracted: the text and metadata of one file, read with the field's library.

One reader per format, each in a module of its own (as LlamaIndex keeps its readers), so
each format's rules stand apart; chosen by suffix. Each returns the body as paragraphs
(one per line, joined by `corpus.py`; a `Heading` marks the document's structure), or as
pages (a PDF's pages, a presentation's slides, a spreadsheet's rows), and whatever
metadata the format carries: PDF, Word, PowerPoint, Excel, OpenDocument and EPUB keep a
title, author and date in their properties, an HTML page in its markup, Markdown in its
front matter, an e-mail in its headers. Plain text and CSV carry none, so `corpus.py`
reads a text's header lines and names a CSV after its file.

A file that cannot be read raises `ReadError` with a reason fit for a one-line warning;
the rest of the folder is indexed either way.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path

from .base import Extracted, Heading, ReadError, read_text_file

# Each suffix's reader, as "module.function" of this package. A module is imported when a
# file of its format is first read: lxml and pypdf cost about 250 ms to import, which
# `qa --help` and a corpus without HTML or PDF never need to pay.
READERS: dict[str, str] = {
    ".txt": "plain.read_plain",
    ".md": "markdown.read_markdown",
    ".markdown": "markdown.read_markdown",
    ".html": "html.read_html",
    ".htm": "html.read_html",
    ".pdf": "pdf.read_pdf",
    ".docx": "word.read_docx",
    ".pptx": "powerpoint.read_pptx",
    ".xlsx": "spreadsheet.read_xlsx",
    ".csv": "spreadsheet.read_csv",
    ".epub": "epub.read_epub",
    ".odt": "opendocument.read_odt",
    ".eml": "mail.read_eml",
    # Scans and photos of pages, read by OCR (ocr.py: Tesseract, an optional install).
    ".png": "image.read_image",
    ".jpg": "image.read_image",
    ".jpeg": "image.read_image",
    ".tif": "image.read_image",
    ".tiff": "image.read_image",
}


def reader_for(suffix: str) -> Callable[[Path], Extracted] | None:
    """The reader of files with `suffix` (lower case), or None for an unsupported one."""
    name = READERS.get(suffix)
    if name is None:
        return None
    module, function = name.rsplit(".", 1)
    reader: Callable[[Path], Extracted] = getattr(
        importlib.import_module(f".{module}", __name__), function
    )
    return reader


def read(path: Path) -> Extracted:
    """Read `path` with the reader for its suffix. Raises ReadError, or OSError when the
    file cannot be opened at all."""
    reader = reader_for(path.suffix.lower())
    if reader is None:
        raise ReadError(f"unsupported file type {path.suffix or '(none)'}")
    return reader(path)


__all__ = ["READERS", "Extracted", "Heading", "ReadError", "read", "read_text_file", "reader_for"]
