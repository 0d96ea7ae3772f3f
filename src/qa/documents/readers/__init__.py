"""File -> Extracted: the text and metadata of one file, read with the field's library.

One reader per format, each in a module of its own (as LlamaIndex keeps its readers), so
each format's rules stand apart; chosen by suffix. Each returns the body as paragraphs
(one per line, joined by `corpus.py`; a `Heading` marks the document's structure) and
whatever metadata the format carries: PDF and Word keep a title, author and date in their
properties, an HTML page in its markup, Markdown in its front matter. Plain text carries
none, so `corpus.py` reads its header lines.

A file that cannot be read raises `ReadError` with a reason fit for a one-line warning;
the rest of the folder is indexed either way.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from .base import Extracted, Heading, ReadError, read_text_file
from .html import read_html
from .markdown import read_markdown
from .pdf import read_pdf
from .plain import read_plain
from .word import read_docx

READERS: dict[str, Callable[[Path], Extracted]] = {
    ".txt": read_plain,
    ".md": read_markdown,
    ".markdown": read_markdown,
    ".html": read_html,
    ".htm": read_html,
    ".pdf": read_pdf,
    ".docx": read_docx,
}


def read(path: Path) -> Extracted:
    """Read `path` with the reader for its suffix. Raises ReadError, or OSError when the
    file cannot be opened at all."""
    reader = READERS.get(path.suffix.lower())
    if reader is None:
        raise ReadError(f"unsupported file type {path.suffix or '(none)'}")
    return reader(path)


__all__ = ["READERS", "Extracted", "Heading", "ReadError", "read", "read_text_file"]
