"""File -> Extracted: the text and metadata of one file, read with the field's library.

One reader per format, chosen by suffix. Each returns the body as paragraphs (one per
line, joined by `corpus.py`) and whatever metadata the format carries: PDF and Word
keep a title, author and date in their properties, an HTML page in its markup, Markdown
in its front matter. Plain text carries none, so `corpus.py` reads its header lines.

A file that cannot be read raises `ReadError` with a reason fit for a one-line warning;
the rest of the folder is indexed either way.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


class ReadError(Exception):
    """This file cannot be read; the message says why, in a few words."""


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
    raw = path.read_bytes()
    try:
        content = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise ReadError(f"not UTF-8 text (byte {e.start:,})") from e
    if "\x00" in content:
        raise ReadError("binary content")
    return content.replace("\r\n", "\n").replace("\r", "\n")


def read_plain(path: Path) -> Extracted:
    return Extracted(paragraphs=read_text_file(path).split("\n"), has_header=True)


# --- Markdown -------------------------------------------------------------------------

_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?\n)(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.DOTALL)


def read_markdown(path: Path) -> Extracted:
    """Markdown through markdown-it (CommonMark): the text of each block, without
    heading marks, emphasis, link targets or list bullets. YAML front matter is metadata;
    the first level-1 heading is the title, unless the front matter names one."""
    from markdown_it import MarkdownIt

    content = read_text_file(path)
    meta: dict[str, Any] = {}
    if m := _FRONT_MATTER.match(content):
        meta = _front_matter(m.group(1))
        content = content[m.end() :]
    tokens = MarkdownIt("commonmark").enable("table").parse(content)
    paragraphs: list[str] = []
    heading_title: str | None = None
    level = ""
    for token in tokens:
        if token.type == "heading_open":
            level = token.tag
        elif token.type == "inline":
            text = _inline_text(token.children or [])
            if level == "h1" and heading_title is None:
                heading_title = text
            elif text:
                paragraphs.extend(text.split("\n"))
            level = ""
        elif token.type in ("fence", "code_block"):
            paragraphs.extend(token.content.split("\n"))
    title = _text(meta.get("title")) or heading_title
    if heading_title and title != heading_title:
        # The front matter titled the page; the heading is content.
        paragraphs.insert(0, heading_title)
    return Extracted(
        paragraphs=paragraphs,
        title=title,
        date=_iso_date(meta.get("date")),
        author=_text(meta.get("author")),
        source=_text(meta.get("source") or meta.get("site")),
        # With no front-matter title and no heading, the first lines may be a header.
        has_header=title is None,
    )


def _front_matter(block: str) -> dict[str, Any]:
    import yaml

    try:
        meta = yaml.safe_load(block)
    except yaml.YAMLError:
        return {}
    return meta if isinstance(meta, dict) else {}


def _inline_text(children: list[Any]) -> str:
    parts = []
    for child in children:
        if child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type == "softbreak":
            parts.append(" ")
        elif child.type == "hardbreak":
            parts.append("\n")
        elif child.type == "image":
            parts.append(_inline_text(child.children or []))
    return re.sub(r"[ \t]+", " ", "".join(parts)).strip()


# --- HTML -----------------------------------------------------------------------------


def read_html(path: Path) -> Extracted:
    """A saved web page through trafilatura: the main text only (no navigation, scripts,
    cookie banners or footers) and the page's title, date (from its markup, by htmldate),
    author and site name."""
    import trafilatura

    content = read_text_file(path)
    found = trafilatura.bare_extraction(
        content, with_metadata=True, include_comments=False, include_tables=True
    )
    # as_dict=False (the default) gives a trafilatura Document; mypy sees the union.
    if found is None or isinstance(found, dict) or not (found.text or "").strip():
        raise ReadError("no article text found in the page")
    paragraphs = (found.text or "").split("\n")
    title = _text(found.title)
    if paragraphs and title and paragraphs[0].strip() == title:
        paragraphs = paragraphs[1:]  # the headline, already the title
    return Extracted(
        paragraphs=paragraphs,
        title=title,
        date=_iso_date(found.date),
        author=_text(found.author),
        source=_text(found.sitename),
    )


# --- Word -----------------------------------------------------------------------------


def read_docx(path: Path) -> Extracted:
    """A Word file through python-docx: the body's paragraphs, headings and tables in the
    order they stand, each table row a line ("Treasurer | Maria Okafor") under the
    heading above it. The title is the document's core property, or else its first
    heading. Page headers and footers are parts of their own, outside the body: never
    read, so a running header is never text."""
    import docx
    from docx.opc.exceptions import PackageNotFoundError
    from docx.table import Table

    try:
        document = docx.Document(str(path))
        # Paragraphs and tables in body order (python-docx's `paragraphs` and `tables`
        # are two separate lists, which put every table after the last paragraph).
        blocks = list(document.iter_inner_content())
    except (PackageNotFoundError, KeyError, ValueError, OSError) as e:
        raise ReadError("not a readable Word file (damaged, or not .docx)") from e
    except Exception as e:  # zipfile.BadZipFile, lxml errors: a damaged file either way
        raise ReadError(f"not a readable Word file ({type(e).__name__})") from e
    paragraphs: list[str] = []
    heading: str | None = None
    for block in blocks:
        if isinstance(block, Table):
            paragraphs.extend(_table_rows(block))
            continue
        text = block.text.strip()
        style = (block.style.name if block.style is not None else "") or ""
        if text and heading is None and style.startswith(("Heading", "Title")):
            heading = text
            continue
        paragraphs.append(text)
    props = document.core_properties
    title = _text(props.title) or heading
    if heading and title != heading:
        paragraphs.insert(0, heading)
    return Extracted(
        paragraphs=paragraphs,
        title=title,
        date=_iso_date(props.created),
        author=_text(props.author),
    )


def _table_rows(table: Any) -> list[str]:
    """Each row of a Word table as one line, its cells joined by " | ". A merged cell
    appears once: python-docx repeats it in every grid column it spans."""
    rows = []
    for row in table.rows:
        # The cell elements themselves are kept: while a reference lives, lxml hands out
        # the same proxy for the same element, so `is` finds a repeat.
        seen: list[Any] = []
        cells = []
        for cell in row.cells:
            if any(cell._tc is element for element in seen):
                continue
            seen.append(cell._tc)
            text = " ".join(cell.text.split())
            if text:
                cells.append(text)
        if cells:
            rows.append(" | ".join(cells))
    return rows


# --- PDF ------------------------------------------------------------------------------


def read_pdf(path: Path) -> Extracted:
    """A PDF through pypdf: the text of each page, its lines joined into paragraphs.

    Raises ReadError for a file that is encrypted, damaged or truncated, or that has no
    text layer (a scan: its pages are images, and qa does no OCR)."""
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    # pypdf logs every repaired oddity of a file; the one warning that matters is ours.
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    try:
        reader = PdfReader(str(path))
        if reader.is_encrypted and not reader.decrypt(""):
            raise ReadError("encrypted (it needs a password)")
        printed = [
            (page.extract_text() or "").replace("\r", "\n").split("\n") for page in reader.pages
        ]
        info = reader.metadata
    except ReadError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError, AssertionError) as e:
        raise ReadError(f"damaged or truncated PDF ({_first_line(e)})") from e
    except Exception as e:  # pypdf raises many kinds on broken files
        if "decrypt" in str(e).lower() or "crypt" in type(e).__name__.lower():
            raise ReadError("encrypted (it needs a password)") from e
        raise ReadError(f"damaged or truncated PDF ({type(e).__name__})") from e
    if not printed:
        raise ReadError("a PDF with no pages")
    kept, running = _without_page_furniture(printed)
    pages = [_pdf_paragraphs("\n".join(lines)) for lines in kept]
    if not any(p for p in pages):
        raise ReadError("no text layer (a scanned PDF? qa does no OCR)")
    title = author = date = None
    if info is not None:
        title, author = _text(info.title), _text(info.author)
        try:
            date = _iso_date(info.creation_date)
        except (ValueError, TypeError):
            date = None
    # A running header is often the document's title: kept once, as its title.
    return Extracted(pages=pages, title=title or running, author=author, date=date)


# How many lines at the top and at the bottom of a page may be a running header or footer.
_EDGE_LINES = 3
_PAGE_NUMBER = re.compile(
    r"\s*[-–—|·•]*\s*\b(page|p\.)\s*\d+(\s*(of|/)\s*\d+)?\s*[-–—|·•]*\s*$|^\s*[-–—]?\s*\d{1,4}\s*[-–—]?\s*$",
    re.IGNORECASE,
)


_ENDS_SENTENCE = re.compile(r"[.!?。！？][\"'”’)]*\s*$")
# "... - Page 2 of 3" ending a line at a page's edge: a footer even on a one-page file.
_PAGE_OF = re.compile(r"\bpage\s+\d+\s+of\s+\d+\s*$", re.IGNORECASE)


def _without_page_furniture(pages: list[list[str]]) -> tuple[list[list[str]], str | None]:
    """Each page's printed lines without its running header and footer, and the running
    header with its page number cut off (a title, if the file names none).

    A line near the top or bottom of a page is furniture when it is a page number
    ("Page 2 of 3", "- 7 -", "12") or when the same line, digits aside, stands near the
    same edge of another page: a header or footer repeats, text does not."""

    def key(line: str) -> str:
        return re.sub(r"\d+", "#", " ".join(line.lower().split()))

    edges = []
    for lines in pages:
        # A line that ends a sentence is text, wherever it stands.
        filled = [i for i, line in enumerate(lines) if line.strip()]
        near = min(_EDGE_LINES, max(1, len(filled) // 3))
        edge = [i for i in filled[:near] + filled[-near:] if not _ENDS_SENTENCE.search(lines[i])]
        edges.append(
            ([i for i in edge if i in filled[:near]], [i for i in edge if i not in filled[:near]])
        )
    seen: dict[tuple[int, str], set[int]] = {}
    for p, (top, bottom) in enumerate(edges):
        for side, at in ((0, top), (1, bottom)):
            for i in at:
                seen.setdefault((side, key(pages[p][i])), set()).add(p)
    running = None
    kept = []
    for p, (top, bottom) in enumerate(edges):
        drop = set()
        for side, at in ((0, top), (1, bottom)):
            for i in at:
                line = pages[p][i]
                repeated = len(seen[(side, key(line))]) > 1
                if repeated or _PAGE_NUMBER.match(line.strip()) or _PAGE_OF.search(line):
                    drop.add(i)
                    if repeated and side == 0 and running is None:
                        running = _PAGE_NUMBER.sub("", line).strip(" -–—|·•") or None
        kept.append([line for i, line in enumerate(pages[p]) if i not in drop])
    return kept, running


def _pdf_paragraphs(text: str) -> list[str]:
    """pypdf gives one line per printed line. A line break inside a paragraph is joined
    (a hyphen at the break is the word's: "manu-\\nfacturing" -> "manufacturing"); a
    paragraph ends at a blank line, or at a line that ends a sentence well short of the
    page's measure (the ragged last line of a paragraph), or at a short line without
    sentence punctuation (a heading)."""
    lines = [line.strip() for line in text.split("\n")]
    width = max((len(line) for line in lines), default=0)
    paragraphs: list[str] = []
    current = ""
    for line in lines:
        if not line:
            if current:
                paragraphs.append(current)
            current = ""
            continue
        if current.endswith("-") and line[:1].islower():
            current = current[:-1] + line
        else:
            current = f"{current} {line}" if current else line
        short = len(line) < 0.75 * width
        if short and (line.endswith((".", "!", "?", ":", "。")) or len(line.split()) <= 8):
            paragraphs.append(current)
            current = ""
    if current:
        paragraphs.append(current)
    return paragraphs


# --- shared ---------------------------------------------------------------------------

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


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = " ".join(str(value).split())
    return text or None


def _iso_date(value: Any) -> str | None:
    """A date as YYYY-MM-DD, from a date, a datetime or an ISO-like string."""
    if isinstance(value, dt.datetime | dt.date):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, str) and (m := re.match(r"\s*(\d{4})-(\d{2})-(\d{2})", value)):
        return "-".join(m.groups())
    return None


def _first_line(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return lines[0][:120] if lines else type(error).__name__
