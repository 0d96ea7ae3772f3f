"""PDF through pypdf: page by page, printed lines joined into paragraphs, running
headers and footers dropped."""

from __future__ import annotations

import logging
import re
from pathlib import Path

from .base import Extracted, ReadError, clean_text, first_line, iso_date


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
        raise ReadError(f"damaged or truncated PDF ({first_line(e)})") from e
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
        title, author = clean_text(info.title), clean_text(info.author)
        try:
            date = iso_date(info.creation_date)
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
