"""A cited PDF page as printed: the page rendered to a PNG by pdfium, with the quoted
text highlighted over the characters that print it; a scanned page (or an image of one)
is marked over the words OCR read on it, from the OCR cache (documents/ocr.py).

The quote comes from the index, whose text pypdf extracted (line breaks joined, a
hyphen at a line break dropped, running headers removed), while pdfium reports the page
character by character as printed. The two are matched with whitespace and hyphens left
out and case folded, through a map back to pdfium's character indices. A quote that is
not found in full leaves the page unmarked rather than marking a guess.

Nothing here raises for a bad file: a PDF that is missing, changed since it was indexed,
unreadable, or lacks the page gives None, and the caller shows the text alone.
"""

from __future__ import annotations

import base64
import ctypes
import functools
import io
import logging
import os
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ..digest import file_sha256
from ..documents.ocr import PDFIUM_LOCK, OcrPage, cached_page

log = logging.getLogger(__name__)

# The sources panel is about this wide; more pixels only make the page heavier to send.
WIDTH_PX = 900
# A very tall page (a receipt, a poster) is drawn smaller rather than as a huge image.
MAX_HEIGHT_PX = 2400
HIGHLIGHT_RGB = (255, 214, 0)
HIGHLIGHT_ALPHA = 0.35
# Rendered pages kept: the panel is redrawn for every answer clicked in the chat, and a
# page's PNG is tens of kilobytes, so a few dozen cost little memory.
CACHE_PAGES = 32
# Left out of the comparison: pdfium reports the line breaks and the hyphen at a broken
# word that pypdf joined (U+0002 is pdfium's mark for a generated hyphen).
_SKIPPED = frozenset("-\u00ad\u2010\u2011\x02")

Box = tuple[float, float, float, float]  # left, bottom, right, top in PDF points

# pdfium may not be called from two threads at once, even on two documents (it crashes
# or corrupts the process: pypdfium2's "Incompatibility with Threading"), and the UI
# answers several questions in parallel threads, and reads uploads (whose scans are
# rendered for OCR). One call at a time, process-wide: the lock the readers take too.
_PDFIUM = PDFIUM_LOCK

# Images of pages (scans, photos), drawn from the file and marked over their OCR'd words.
IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".tif", ".tiff"})


@dataclass(frozen=True)
class PageImage:
    """One page as printed: PNG bytes, pixel size, and whether the quote was marked."""

    png: bytes
    width: int
    height: int
    highlighted: bool

    @property
    def data_uri(self) -> str:
        """The PNG as a data: URI, for an <img> that needs no request of its own."""
        return "data:image/png;base64," + base64.b64encode(self.png).decode("ascii")


def page_image(path: str, page: int, quote: str, sha256: str = "") -> PageImage | None:
    """Page `page` of the PDF at `path`, with `quote` highlighted where it is printed.

    Args:
        path: the PDF's path, as recorded when it was indexed.
        page: 1-based page number.
        quote: the text to highlight (the answering sentence), as the index holds it.
        sha256: the file's SHA-256 when indexed; a file that no longer matches is not
            drawn, since its page may no longer be the one cited. "" skips the check.

    Returns:
        The page image (unmarked when the quote is not found on the page), or None when
        the file is missing, changed, unreadable, or has no page `page`.
    """
    try:
        info = os.stat(path)
    except OSError as e:
        log.debug("No page image for %s: %s", path, e)
        return None
    return _cached_page(path, info.st_mtime_ns, info.st_size, page, quote, sha256)


@functools.lru_cache(maxsize=CACHE_PAGES)
def _cached_page(
    path: str, mtime_ns: int, size: int, page: int, quote: str, sha256: str
) -> PageImage | None:
    """`page_image` for one version of the file: its time and size make a changed file
    a new key, so an old render is never shown for it."""
    actual = _file_sha256(path, mtime_ns, size)
    if sha256 and actual != sha256:
        log.debug("No page image for %s: the file changed since it was indexed", path)
        return None
    try:
        if os.path.splitext(path)[1].lower() in IMAGE_SUFFIXES:
            return _render_image(path, page, quote, actual or "")
        return _render(path, page, quote, actual or "")
    except Exception as e:  # pdfium and Pillow raise many kinds on broken files
        log.debug("No page image for %s, page %d: %r", path, page, e)
        return None


@functools.lru_cache(maxsize=CACHE_PAGES)
def _file_sha256(path: str, mtime_ns: int, size: int) -> str | None:
    """The file's SHA-256 (None if unreadable); time and size key the cache only."""
    try:
        return file_sha256(path)
    except OSError:
        return None


def _render(path: str, page_number: int, quote: str, sha256: str) -> PageImage | None:
    """Draw the page about WIDTH_PX wide and mark the quote (None: no such page): over
    the characters that print it, or on a scanned page over the words OCR read there."""
    import pypdfium2 as pdfium

    with _PDFIUM:
        pdf = pdfium.PdfDocument(path)
        try:
            if not 1 <= page_number <= len(pdf):
                log.debug("No page image for %s: it has no page %d", path, page_number)
                return None
            page = pdf[page_number - 1]
            width, height = page.get_size()
            scale = min(WIDTH_PX / width, MAX_HEIGHT_PX / height)
            # A copy: the bitmap's memory goes when the document is closed.
            image = page.render(scale=scale).to_pil().convert("RGB")
            textpage = page.get_textpage()
            boxes = _quote_lines(textpage, quote)
            rects = [_to_pixels(page, image.size, box) for box in boxes]
            scanned = textpage.count_chars() == 0
        finally:
            pdf.close()
    if scanned and (read := cached_page(sha256, page_number)) is not None:
        rects = _scaled(quote_boxes(read, quote), read, image.size)
    if rects:
        _highlight(image, rects)
    return PageImage(_png(image), image.width, image.height, bool(rects))


def _render_image(path: str, page_number: int, quote: str, sha256: str) -> PageImage | None:
    """An image of a page (frame `page_number` of it) about WIDTH_PX wide, the quote
    marked over the words OCR read there."""
    from PIL import Image

    with Image.open(path) as opened:
        if page_number > getattr(opened, "n_frames", 1):
            return None
        opened.seek(page_number - 1)
        image = opened.convert("RGB")
    scale = min(WIDTH_PX / image.width, MAX_HEIGHT_PX / image.height)
    image = image.resize((max(1, round(image.width * scale)), max(1, round(image.height * scale))))
    read = cached_page(sha256, page_number)
    rects = _scaled(quote_boxes(read, quote), read, image.size) if read is not None else []
    if rects:
        _highlight(image, rects)
    return PageImage(_png(image), image.width, image.height, bool(rects))


def quote_boxes(page: OcrPage, quote: str) -> list[tuple[int, int, int, int]]:
    """The boxes (left, top, right, bottom in pixels of the image OCR read), one per
    printed line, of the OCR'd words that print `quote`; [] when the quote is not on the
    page in full. Matched as `_quote_lines` matches characters."""
    chars: list[str] = []
    word_of: list[int] = []
    for i, word in enumerate(page.words):
        chars.extend(word.text + " ")
        word_of.extend([i] * (len(word.text) + 1))
    page_key, at = _key(chars)
    quote_key, _ = _key(quote)
    found = page_key.find(quote_key) if quote_key else -1
    if found < 0:
        return []
    first, last = word_of[at[found]], word_of[at[found + len(quote_key) - 1]]
    lines: dict[tuple[int, int, int], list[int]] = {}
    for word in page.words[first : last + 1]:
        x, y, w, h = word.box
        box = lines.setdefault((*word.paragraph, word.line), [x, y, x + w, y + h])
        box[:] = [min(box[0], x), min(box[1], y), max(box[2], x + w), max(box[3], y + h)]
    return [(a, b, c, d) for a, b, c, d in lines.values()]


def _scaled(
    rects: list[tuple[int, int, int, int]], read: OcrPage, size: tuple[int, int]
) -> list[tuple[int, int, int, int]]:
    """Boxes in pixels of the image OCR read, as pixels of the image drawn (`size`)."""
    sx, sy = size[0] / read.width, size[1] / read.height
    return [(round(a * sx), round(b * sy), round(c * sx), round(d * sy)) for a, b, c, d in rects]


def _quote_lines(textpage: Any, quote: str) -> list[Box]:
    """The boxes, one per printed line, of the characters that print `quote` on the page
    ([] when the quote is not on it in full)."""
    import pypdfium2.raw as raw

    count = textpage.count_chars()
    printed = [chr(raw.FPDFText_GetUnicode(textpage, i)) for i in range(count)]
    page_key, at = _key(printed)
    quote_key, _ = _key(quote)
    found = page_key.find(quote_key) if quote_key else -1
    if found < 0:
        return []
    first, last = at[found], at[found + len(quote_key) - 1]
    boxes = []
    for i in range(first, last + 1):
        if printed[i].isspace():
            continue
        try:
            box = textpage.get_charbox(i, loose=True)
        except Exception:  # a character pdfium generated has no box of its own
            continue
        if box[2] > box[0] and box[3] > box[1]:
            boxes.append(box)
    return _lines(boxes)


def _key(chars: Iterable[str]) -> tuple[str, list[int]]:
    """The characters compared when matching (NFKC, case folded, whitespace and hyphens
    out), and for each one the index of the character it came from."""
    key: list[str] = []
    at: list[int] = []
    for i, char in enumerate(chars):
        for part in unicodedata.normalize("NFKC", char).casefold():
            if not part.isspace() and part not in _SKIPPED:
                key.append(part)
                at.append(i)
    return "".join(key), at


def _lines(boxes: list[Box]) -> list[Box]:
    """Character boxes in reading order merged into one box per printed line: a box whose
    middle lies within the current line's height, not to its left, continues it."""
    lines: list[Box] = []
    for left, bottom, right, top in boxes:
        if lines:
            l0, b0, r0, t0 = lines[-1]
            if b0 <= (bottom + top) / 2 <= t0 and left >= l0:
                lines[-1] = (l0, min(b0, bottom), max(r0, right), max(t0, top))
                continue
        lines.append((left, bottom, right, top))
    return lines


def _to_pixels(page: Any, size: tuple[int, int], box: Box) -> tuple[int, int, int, int]:
    """A box in PDF points (origin bottom left) as pixels of the rendered image (origin
    top left), through pdfium's own mapping so a rotated or cropped page maps as drawn."""
    import pypdfium2.raw as raw

    corners = []
    for x, y in ((box[0], box[1]), (box[2], box[3])):
        dx, dy = ctypes.c_int(), ctypes.c_int()
        raw.FPDF_PageToDevice(page, 0, 0, size[0], size[1], 0, x, y, dx, dy)
        corners.append((dx.value, dy.value))
    (x0, y0), (x1, y1) = corners
    return min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)


def _highlight(image: Any, rects: list[tuple[int, int, int, int]]) -> None:
    """Blend the highlight colour into `image` over `rects`, once per pixel however the
    rects overlap."""
    from PIL import Image, ImageDraw

    mask = Image.new("L", image.size, 0)
    draw = ImageDraw.Draw(mask)
    for rect in rects:
        draw.rectangle(rect, fill=255)
    tinted = Image.blend(image, Image.new("RGB", image.size, HIGHLIGHT_RGB), HIGHLIGHT_ALPHA)
    image.paste(tinted, mask=mask)


def _png(image: Any) -> bytes:
    """The image as a PNG of at most 256 colours: a printed page has few, and the palette
    makes it about four times smaller than true colour. The fast octree quantizer takes
    a quarter of median cut's time for the same size."""
    from PIL import Image

    out = io.BytesIO()
    image.quantize(colors=256, method=Image.Quantize.FASTOCTREE).save(out, "PNG")
    return out.getvalue()
