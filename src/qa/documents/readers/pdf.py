"""PDF through pypdf, page by page: each page's printed lines (`pdf_layout`) without what
the page prints around its text (a running header or footer, a page number) and without
navigation (a table of contents, an index), joined into paragraphs and headings
(`pdf_paragraphs`); and the title the document gives itself."""

from __future__ import annotations

import logging
import re
from collections import Counter
from pathlib import Path
from typing import Any

from ...language import ENDS_SENTENCE
from ...log import to_stderr
from .base import Extracted, ReadError, clean_text, first_line, iso_date
from .pdf_layout import Line, PageLines, page_lines
from .pdf_paragraphs import (
    LARGER,
    Style,
    is_numbered_heading,
    is_title_line,
    paragraphs,
    style_of,
)


def read_pdf(path: Path) -> Extracted:
    """A PDF through pypdf: the text of each page, its lines joined into paragraphs.

    A page without a text layer that prints an image is a scan, read by OCR (ocr.py).

    Raises ReadError for a file that is encrypted, damaged or truncated, or that has no
    text on any page (nor a scan that OCR could read)."""
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    # pypdf logs every repaired oddity of a file; the one warning that matters is ours.
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    try:
        reader = PdfReader(str(path))
        if reader.is_encrypted and not reader.decrypt(""):
            raise ReadError("encrypted (it needs a password)")
        printed = [page_lines(page) for page in reader.pages]
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
    kept, running = _without_furniture(printed)
    kept = [_without_navigation(lines) for lines in kept]
    style = style_of(kept)
    title = author = date = None
    if info is not None:
        title, author = _own_title(info.title, path), clean_text(info.author)
        try:
            date = iso_date(info.creation_date)
        except (ValueError, TypeError):
            date = None
    title = title or _outline_title(reader)
    heading = _first_page_heading(kept, style)
    # The page that prints the title in its largest font is a title page: its title,
    # subtitle and authors are no headings of sections (see `paragraphs`).
    title_page = next((p for p, lines in enumerate(kept) if lines), -1) if heading else -1
    pages = [paragraphs(lines, style, title_page=p == title_page) for p, lines in enumerate(kept)]
    scan_title = _read_scans(path, pages, [i for i, page in enumerate(printed) if not page.lines])
    if not any(p for p in pages):
        raise ReadError("no text layer, and no scanned image on its pages")
    title = title or heading or running or scan_title or _first_page_line(kept)
    return Extracted(pages=pages, title=title, author=author, date=date)


def _read_scans(path: Path, pages: list[list[str]], textless: list[int]) -> str | None:
    """Fill in `pages` (0-based) without a text layer that print an image: a scan, read
    by OCR (ocr.py). Without Tesseract a wholly scanned file is skipped, saying how to
    install it; a file that has text on other pages is read without its scans, saying so.
    Returns the title the first page prints when that page is a scan (OcrPage.title).
    """
    from ...digest import file_sha256
    from ..ocr import INSTALL_HINT, ocr_pages
    from ..ocr import missing as ocr_missing

    scanned = _image_pages(path, textless)
    if not scanned:
        return None
    if any(pages) and (reason := ocr_missing()):
        to_stderr(
            f"Reading {path.name} without its {len(scanned)} scanned "
            f"{'page' if len(scanned) == 1 else 'pages'}: {reason}; {INSTALL_HINT}."
        )
        return None
    read = ocr_pages(path.name, file_sha256(path), [i + 1 for i in scanned], _renderer(path))
    for i in scanned:
        if i + 1 in read:
            pages[i] = read[i + 1].paragraphs()
    first = next((i for i, page in enumerate(pages) if page), None)
    return read[first + 1].title() if first is not None and first + 1 in read else None


def _image_pages(path: Path, candidates: list[int]) -> list[int]:
    """The pages among `candidates` (0-based) that print an image: a page with neither
    text nor image is blank, and not worth OCR's seconds."""
    if not candidates:
        return []
    import pypdfium2 as pdfium
    import pypdfium2.raw as raw

    from ..ocr import PDFIUM_LOCK

    with PDFIUM_LOCK:
        try:
            pdf = pdfium.PdfDocument(str(path))
        except Exception:  # pdfium refuses a file pypdf read: nothing to OCR then
            return []
        try:
            return [
                i
                for i in candidates
                if i < len(pdf)
                and next(
                    iter(pdf[i].get_objects(filter=(raw.FPDF_PAGEOBJ_IMAGE,), max_depth=3)), None
                )
                is not None
            ]
        finally:
            pdf.close()


def _renderer(path: Path) -> Any:
    """page (1-based), dpi -> the page drawn in grey (a PIL image) at the resolution of the
    scan it prints, at most `dpi`. Drawing a 150-dpi scan at 300 dpi doubles each speck of
    its noise into a blob the median filter no longer removes: on test scans 66% of words
    read against 97% at the scan's own 150 dpi (docs/OCR.md)."""

    def render(page: int, dpi: int) -> Any:
        import pypdfium2 as pdfium

        from ..ocr import PDFIUM_LOCK

        with PDFIUM_LOCK:
            pdf = pdfium.PdfDocument(str(path))
            try:
                drawn = pdf[page - 1]
                scale = min(dpi, _scan_dpi(drawn) or dpi) / 72
                return drawn.render(scale=scale, grayscale=True).to_pil().convert("L")
            finally:
                pdf.close()

    return render


# Below this a page's image is a logo or a thumbnail, not the scan of the page.
_MIN_SCAN_DPI = 72


def _scan_dpi(page: Any) -> float | None:
    """The resolution of the finest image a pdfium page prints at its printed size, in
    dots per inch; None without one (or only coarser than _MIN_SCAN_DPI)."""
    import pypdfium2.raw as raw

    found = []
    for image in page.get_objects(filter=(raw.FPDF_PAGEOBJ_IMAGE,), max_depth=3):
        try:
            found.append(float(image.get_metadata().horizontal_dpi))
        except Exception:  # an image pdfium cannot describe: it says nothing of the scan
            continue
    best = max(found, default=0.0)
    return best if best >= _MIN_SCAN_DPI else None


# Page furniture. A header or footer stands in the page's top or bottom margin band (this
# share of the page's height); in a file whose pages have no margins to speak of, it is
# one of the first or last lines of the page (at most this many).
_BAND = 0.12
_EDGE_LINES = 3
# The share of pages a line outside the bands repeats on, to be a header or footer.
_OUTER_REPEATS = 0.3
_PAGE_NUMBER = re.compile(
    r"\s*[-–—|·•]*\s*\b(page|p\.)\s*\d+(\s*(of|/)\s*\d+)?\s*[-–—|·•]*\s*$|^\s*[-–—]?\s*\d{1,4}\s*[-–—]?\s*$",
    re.IGNORECASE,
)
# "... - Page 2 of 3" ending a line at a page's edge: a footer even on a one-page file.
_PAGE_OF = re.compile(r"\bpage\s+\d+\s+of\s+\d+\s*$", re.IGNORECASE)
# Front matter is numbered i, ii, iii, ...
_ROMAN = re.compile(
    r"^\s*[-–—]?\s*(?=[ivxlcdm])m{0,3}(cm|cd|d?c{0,3})(xc|xl|l?x{0,3})(ix|iv|v?i{0,3})\s*[-–—]?\s*$",
    re.IGNORECASE,
)
# A header that prints its page number at its start or end: "Chapter 2: Naming 5".
_NUMBERED_END = re.compile(r"^\s*\d{1,4}\s|\s\d{1,4}\s*$")
# A man page's header, its name at both ends: "LS(1) User Commands LS(1)".
_MAN_HEADER = re.compile(r"^(\S+ ?\(\d\w*\))\s.*\s\1$")


def _without_furniture(pages: list[PageLines]) -> tuple[list[list[Line]], str | None]:
    """Each page's lines without its running header and footer, and the running header
    that may be the document's title (see `_running_title`).

    A line in the top or bottom margin band of a page (or among its first or last lines,
    on a page with nothing in that band) is furniture when it is a page number ("Page 2 of
    3", "- 7 -", "12", "iv"), when the same line, digits aside, stands at the same edge of
    another page in the same size (a header or footer repeats, text does not; outside
    the bands it must repeat on a third of the pages), when it prints a number where
    another page prints its furniture (the header of a chapter one page long, the footer
    of a two-page man page), or when it is a man page's header ("LS(1) User Commands
    LS(1)"). A line that ends a sentence is text, wherever it stands."""
    edges = [_edge_lines(page) for page in pages]
    seen: dict[tuple[int, str], set[int]] = {}
    for p, edge in enumerate(edges):
        for i, (side, _) in edge.items():
            seen.setdefault((side, _key(pages[p].lines[i])), set()).add(p)
    # Outside the margin bands a line must repeat on more pages: two pages of a manual
    # may well end on the same line of code ("}").
    often = max(2, round(_OUTER_REPEATS * sum(1 for page in pages if page.lines)))
    dropped: list[set[int]] = [set() for _ in pages]
    slots: dict[tuple[int, int], set[int]] = {}
    for p, edge in enumerate(edges):
        for i, (side, banded) in edge.items():
            line = pages[p].lines[i]
            repeats = len(seen[(side, _key(line))]) >= (2 if banded else often)
            if repeats or _is_page_number(line.text):
                dropped[p].add(i)
                if banded:
                    slots.setdefault((side, round(line.y)), set()).add(p)
    for p, edge in enumerate(edges):
        for i, (side, banded) in edge.items():
            line = pages[p].lines[i]
            if not banded or i in dropped[p]:
                continue
            at = round(line.y)
            elsewhere = set().union(*(slots.get((side, y), set()) for y in (at - 1, at, at + 1)))
            if _MAN_HEADER.match(line.text) or (
                _NUMBERED_END.search(line.text) and elsewhere - {p}
            ):
                dropped[p].add(i)
    kept = [
        [line for i, line in enumerate(page.lines) if i not in dropped[p]]
        for p, page in enumerate(pages)
    ]
    headers = [
        [page.lines[i].text for i in sorted(dropped[p]) if edges[p][i][0] == 0]
        for p, page in enumerate(pages)
    ]
    return kept, _running_title(headers, sum(1 for page in pages if page.lines))


def _edge_lines(page: PageLines) -> dict[int, tuple[int, bool]]:
    """The lines of a page that may be furniture: index -> (0 at the top, 1 at the
    bottom; whether it stands in the margin band)."""
    lines = page.lines
    height = page.top - page.bottom
    order = sorted(range(len(lines)), key=lambda i: -lines[i].y)
    near = min(_EDGE_LINES, max(1, len(lines) // 3))
    top = [i for i in order if lines[i].y >= page.top - _BAND * height]
    bottom = [i for i in order if lines[i].y <= page.bottom + _BAND * height]
    edge: dict[int, tuple[int, bool]] = {}
    for side, banded, outer in ((0, top, order[:near]), (1, bottom, order[-near:])):
        for i in banded or outer:
            if not ENDS_SENTENCE.search(lines[i].text):
                edge.setdefault(i, (side, bool(banded)))
    return edge


def _key(line: Line) -> str:
    """What two pages' furniture share: the words, digits aside, in the same size (a
    title printed large on the first page is not the header that repeats it)."""
    return f"{round(line.size)} " + re.sub(r"\d+", "#", " ".join(line.text.lower().split()))


def _is_page_number(line: str) -> bool:
    text = line.strip()
    return bool(_PAGE_NUMBER.match(text) or _PAGE_OF.search(text) or _ROMAN.match(text))


def _running_title(headers: list[list[str]], pages: int) -> str | None:
    """A running header printed the same (its page number aside) on at least half of the
    pages with text, which does not name a chapter or a section: a document's name, as
    report tools print it on every page. Digits that are the same on every page ("Annual
    Report 2024") are the title's; those that change are page numbers. A man page's
    header names its page ("LS(1)") even when it is printed once."""
    for text in (text for on_page in headers for text in on_page):
        if man := _MAN_HEADER.match(text):
            return man.group(1)
    for strip in (False, True):
        counts: Counter[str] = Counter()
        for on_page in headers:
            counts.update({_without_page_number(t) if strip else t for t in on_page} - {""})
        if not counts:
            return None
        header, n = counts.most_common(1)[0]
        if n >= 2 and n * 2 >= pages:
            return None if is_numbered_heading(header) else header
    return None


def _without_page_number(header: str) -> str:
    text = _PAGE_OF.sub("", header)
    text = re.sub(r"^\s*\d{1,4}\s+|\s+\d{1,4}\s*$|\b(page|p\.)\s*\d+\s*$", "", text, flags=re.I)
    return " ".join(text.strip(" -–—|·•").split())


# Navigation: a table of contents or an index points into the document and says nothing.
# Dot leaders ("Introduction . . . . . 1", "Header file libtasn1.h ........ 4").
_LEADERS = re.compile(r"(?:\.\s?){4,}\.|…{2,}")
# A line that ends in the pages it points to, after its term: "asn1_create_element: 12",
# "gzip, options of 7, 12-14", "2.1 ASN.1 syntax 3", "Preface iii".
_PAGES = r"\d{1,4}(?:\s*[-–]\s*\d{1,4})?(?:\s*,\s*\d{1,4}(?:\s*[-–]\s*\d{1,4})?)*"
_ENTRY = re.compile(rf"^(?P<term>.*?[^\d\s,:.])[\s,:.]+(?P<pages>{_PAGES}|[ivxlc]{{1,6}})$")
# An index's letter ("A", "B", ...) and page numbers alone, one or a run of them.
_LETTER = re.compile(r"^[A-Z]$")
_NUMBERS = re.compile(r"^\d{1,4}(?:[\s,]+\d{1,4})*$")
_NUMBER_RUN = re.compile(r"^\d{1,4}(?:[\s,]+\d{1,4}){2,}$")
# A page is navigation when at least this share of its lines are entries, letters or page
# numbers, and its entries are a contents' or an index's: three with dot leaders, or five
# or more whose pages (a table of contents) or terms (an index) mostly come in order. A
# table of figures ("Revenue 48", "Costs 41") is in neither order, and stays.
_NAVIGATION_SHARE = 0.6
_IN_ORDER = 0.8


def _without_navigation(lines: list[Line]) -> list[Line]:
    """A page's lines without its navigation: no line with dot leaders or that is only
    a run of page numbers, and nothing at all of a page that is mostly navigation (a
    table of contents, an index)."""
    led = [bool(_LEADERS.search(line.text)) for line in lines]
    entries = []
    others = 0  # lines with leaders but no page, letters, page numbers
    for line, with_leaders in zip(lines, led, strict=True):
        text = _LEADERS.sub(" ", line.text).rstrip() if with_leaders else line.text
        if text and (text[-1].isdigit() or text[-1] in "ivxlc") and (entry := _ENTRY.match(text)):
            entries.append(entry)
        elif with_leaders or len(text) == 1 and _LETTER.match(text) or _NUMBERS.match(text):
            others += 1
    leaders = sum(led)
    if len(entries) + others >= _NAVIGATION_SHARE * len(lines) and (
        leaders >= 3
        or len(entries) >= 5
        and (
            _in_order([_first_page(e["pages"]) for e in entries])
            or _in_order([re.sub(r"\W+", "", e["term"].casefold()) for e in entries])
        )
    ):
        return []
    return [
        line
        for line, with_leaders in zip(lines, led, strict=True)
        if not (with_leaders or _NUMBER_RUN.match(line.text))
    ]


def _first_page(pages: str) -> int:
    number = re.match(r"\d+", pages)
    return int(number.group(0)) if number else 0  # front matter (i, ii, ...) comes first


def _in_order(keys: list[Any]) -> bool:
    steps = list(zip(keys, keys[1:], strict=False))
    return sum(1 for a, b in steps if a <= b) >= _IN_ORDER * len(steps)


# Titles that name the file or nothing ("report.docx", "Microsoft Word - memo.doc",
# "Untitled"), as tools write them.
_NOT_A_TITLE = re.compile(
    r"^(untitled|document\d*|.*\.(docx?|odt|rtf|pdf|tex|dvi|ps|indd|pages|txt|html?))$",
    re.IGNORECASE,
)


def _own_title(value: Any, path: Path) -> str | None:
    """The Title property, unless it only names a file or nothing: Pillow, for one, writes
    the file's own name ("newsletter-scan") as the title of the PDF it saves."""
    title = clean_text(value)
    if title is None or _NOT_A_TITLE.match(title) or _bare(title) == _bare(path.stem):
        return None
    return title


def _bare(name: str) -> str:
    return re.sub(r"[\W_]+", "", name).casefold()


def _outline_title(reader: Any) -> str | None:
    """The title of an outline whose one root entry holds all the others and points at
    the first pages (a manual's outline whose first entry is chapter 1 names no title)."""
    try:
        outline = reader.outline
        roots = [entry for entry in outline if not isinstance(entry, list)]
        if len(roots) != 1 or not any(isinstance(entry, list) for entry in outline):
            return None
        title = clean_text(roots[0].title)
        page = reader.get_destination_page_number(roots[0])
    except Exception:  # an outline is optional and often damaged: it only offers a title
        return None
    if title is None or page is None or page > 1 or is_numbered_heading(title):
        return None
    return title


def _first_page_heading(pages: list[list[Line]], style: Style) -> str | None:
    """The first page's heading: its lines in the largest font, when that font is
    clearly larger than the body's (a title set over two lines is one title)."""
    first = next((lines for lines in pages if lines), [])
    if not first:
        return None
    largest = max(line.size for line in first)
    if largest < LARGER * style.body:
        return None
    at = next(i for i, line in enumerate(first) if line.size > largest - 0.5)
    parts = [first[at].text]
    for above, line in zip(first[at:], first[at + 1 :], strict=False):
        if line.size < largest - 0.5 or not 0 < above.y - line.y <= 1.6 * line.size:
            break
        parts.append(line.text)
    title = " ".join(parts)
    if is_numbered_heading(title) or len(title.split()) > 20 or title.isdigit():
        return None
    return title


def _first_page_line(pages: list[list[Line]]) -> str | None:
    """The first line of the first page, when it is short, is no sentence and no
    numbered heading, and text follows it (a title in the body's font)."""
    first = next((lines for lines in pages if lines), [])
    if len(first) < 2:
        return None
    text = first[0].text
    return text if is_title_line(text) else None
