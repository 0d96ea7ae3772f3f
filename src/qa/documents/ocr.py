"""Scanned pages -> words: a page image read by Tesseract (through pytesseract), each
word with its box, kept in a cache by the file's SHA-256.

Used by the PDF reader for a page without a text layer, by the image reader for a PNG,
JPEG or TIFF, and by the page viewer (ui/pdf_page.py), which highlights the cited
sentence over the words' boxes. pytesseract was chosen over ocrmypdf (docs/OCR.md): it
gives each word's box directly, page by page, which is what both the cache and the viewer
need, without writing a second PDF of every scan; and with the median filter it read 99.4%
of a noisy scan's words where ocrmypdf read 76%.

OCR takes seconds a page, so each page read is reported with the time left for its file,
and its words are written to the cache at once: a rebuild, an interrupted build taken up
again, or the upload check followed by the index build never read a page twice.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..log import Log, to_stderr
from .readers.base import ReadError
from .readers.pdf_paragraphs import is_title_line

# pdfium may not be called from two threads at once, even on two documents (it crashes
# or corrupts the process: pypdfium2's "Incompatibility with Threading"), and the UI
# reads an upload while it draws a cited page in another thread. One call at a time,
# process-wide: the reader's renders of scans and the viewer's share this lock.
PDFIUM_LOCK = threading.Lock()

INSTALL_HINT = (
    "install Tesseract to read scans: `make ocr-deps`, or `apt install tesseract-ocr "
    "tesseract-ocr-eng` and `pip install 'qa[ocr]'`"
)

# A word Tesseract is less sure of than this (0-100) is noise read off a smudge or the
# page's edge, not text.
MIN_CONFIDENCE = 30
# The side of the median filter that clears specks before OCR (read_image).
MEDIAN_FILTER = 3


@dataclass(frozen=True)
class Word:
    """One word as Tesseract read it: its text, its box in pixels of the page image
    (left, top, width, height), and the paragraph and line it stands in."""

    text: str
    box: tuple[int, int, int, int]
    paragraph: tuple[int, int]  # (block, paragraph)
    line: int


@dataclass(frozen=True)
class OcrPage:
    """A page read by OCR: the image's size in pixels and its words in reading order."""

    width: int
    height: int
    words: tuple[Word, ...]

    def paragraphs(self) -> list[str]:
        """The page's text, one paragraph (as Tesseract grouped its lines) a string; a word
        broken by a hyphen at a line's end is joined again."""
        out: list[str] = []
        current: list[str] = []
        key: tuple[int, int] | None = None
        for word in self.words:
            if word.paragraph != key and current:
                out.append(_joined(current))
                current = []
            key = word.paragraph
            current.append(word.text)
        if current:
            out.append(_joined(current))
        return [p for p in out if p]

    def title(self) -> str | None:
        """The page's first paragraph when it is one short line that ends no sentence
        and text follows it: a scanned page's printed title ("Beekeeping Club
        Newsletter"), as a text PDF's first short line is (readers/pdf.py)."""
        if not self.words:
            return None
        first = self.words[0].paragraph
        head = [w for w in self.words if w.paragraph == first]
        if len(head) == len(self.words) or len({w.line for w in head}) > 1:
            return None
        text = _joined([w.text for w in head])
        return text if is_title_line(text) else None

    def to_json(self) -> dict[str, Any]:
        return {
            "width": self.width,
            "height": self.height,
            "words": [[w.text, *w.box, *w.paragraph, w.line] for w in self.words],
        }

    @classmethod
    def from_json(cls, row: dict[str, Any]) -> OcrPage:
        words = tuple(
            Word(str(t), (int(x), int(y), int(w), int(h)), (int(b), int(p)), int(n))
            for t, x, y, w, h, b, p, n in row["words"]
        )
        return cls(int(row["width"]), int(row["height"]), words)


def _joined(words: list[str]) -> str:
    """Words of one paragraph as a line of text: "inter-" then "national" is one word."""
    text = ""
    for word in words:
        if text.endswith("-") and len(text) > 1 and text[-2].isalpha() and word[:1].islower():
            text = text[:-1] + word
        else:
            text = f"{text} {word}" if text else word
    return text


def missing() -> str | None:
    """Why OCR cannot run here (Tesseract or pytesseract not installed), or None."""
    if shutil.which("tesseract") is None:
        return "Tesseract is not installed"
    try:
        import pytesseract  # noqa: F401
    except ImportError:
        return "pytesseract is not installed"
    return None


def read_image(image: Any, language: str = "eng") -> OcrPage:
    """One page image (a PIL image) read by Tesseract."""
    import pytesseract
    from PIL import ImageFilter

    # A scan's specks (dust, noise) break Tesseract's page layout analysis: on a noisy test
    # scan at 300 dpi it found no text at all, and after a 3x3 median filter all of it
    # (docs/OCR.md). Strokes of print are wider than 3 pixels at 150 dpi and up.
    image = image.convert("L").filter(ImageFilter.MedianFilter(MEDIAN_FILTER))
    with _one_thread():
        data = pytesseract.image_to_data(image, lang=language, output_type=pytesseract.Output.DICT)
    words = []
    for i, raw in enumerate(data["text"]):
        word = " ".join(str(raw).split())
        if not word or float(data["conf"][i]) < MIN_CONFIDENCE:
            continue
        box = (data["left"][i], data["top"][i], data["width"][i], data["height"][i])
        paragraph = (data["block_num"][i], data["par_num"][i])
        words.append(Word(word, tuple(map(int, box)), paragraph, int(data["line_num"][i])))  # type: ignore[arg-type]
    return OcrPage(image.width, image.height, tuple(words))


class _OneThread:
    """Tesseract run on one OpenMP thread, unless the user set OMP_THREAD_LIMIT: on 2 cores
    its own threads only contend, 8.7 s a page against 5.2 s on one, the same words read
    (docs/OCR.md). pytesseract hands the child process os.environ, so it is set there
    while any call is under way (two threads may OCR at once) and taken away after the
    last one."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._users = 0  # calls under way that set OMP_THREAD_LIMIT

    @contextlib.contextmanager
    def __call__(self) -> Iterator[None]:
        with self._lock:
            ours = self._users > 0 or "OMP_THREAD_LIMIT" not in os.environ
            if ours:
                self._users += 1
                os.environ["OMP_THREAD_LIMIT"] = "1"
        try:
            yield
        finally:
            if ours:
                with self._lock:
                    self._users -= 1
                    if not self._users:
                        os.environ.pop("OMP_THREAD_LIMIT", None)


_one_thread = _OneThread()


class OcrCache:
    """Each file's OCR'd pages, in one JSON file per file SHA-256 under `folder`. A cache
    made by another Tesseract, language or resolution is not used: it would not be what
    this one reads."""

    def __init__(self, folder: Path, key: str):
        self.folder, self.key = Path(folder), key

    def _file(self, sha256: str) -> Path:
        return self.folder / f"{sha256}.json"

    def pages(self, sha256: str) -> dict[int, OcrPage]:
        try:
            saved = json.loads(self._file(sha256).read_text("utf-8"))
            if saved.get("key") != self.key:
                return {}
            return {int(n): OcrPage.from_json(row) for n, row in saved["pages"].items()}
        except (OSError, ValueError, KeyError, TypeError):
            return {}  # none yet, or damaged: read the pages again

    def save(self, sha256: str, pages: dict[int, OcrPage]) -> None:
        """Write the file's pages, atomically (a build stopped mid-write loses nothing
        saved before). A cache that cannot be written only costs a second reading."""
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            target = self._file(sha256)
            temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
            rows = {str(n): page.to_json() for n, page in sorted(pages.items())}
            temporary.write_text(json.dumps({"key": self.key, "pages": rows}), "utf-8")
            os.replace(temporary, target)
        except OSError:
            pass


def cache() -> tuple[OcrCache, Any]:
    """The cache of this user's settings, and those settings (dpi, language)."""
    from ..config import Settings

    settings = Settings.from_env()
    return OcrCache(settings.ocr_cache_path(), cache_key(settings)), settings


def cache_key(settings: Any) -> str:
    """What the words cached depend on: a page read another way is read again."""
    return (
        f"tesseract {_version()} {settings.ocr_language}, at most {settings.ocr_dpi} dpi, "
        f"median {MEDIAN_FILTER}"
    )


def _version() -> str:
    try:
        import pytesseract

        return str(pytesseract.get_tesseract_version())
    except Exception:  # not installed: a cache can still be read by the viewer
        return "unknown"


def cached_page(sha256: str, page: int) -> OcrPage | None:
    """Page `page` (1-based) of the file with this SHA-256 as OCR read it, or None."""
    if not sha256:
        return None
    return cache()[0].pages(sha256).get(page)


def ocr_pages(
    name: str,
    sha256: str,
    pages: Iterable[int],
    render: Callable[[int, int], Any],
    log: Log = to_stderr,
) -> dict[int, OcrPage]:
    """The pages (1-based) of one file read by OCR: from the cache, else rendered by
    `render(page, dpi)` (a PIL image) and read, each reported with the time left.

    Raises:
        ReadError: a page must be read and Tesseract is not installed.
    """
    store, settings = cache()
    known = store.pages(sha256)
    wanted = list(pages)
    todo = [p for p in wanted if p not in known]
    if todo and (reason := missing()):
        raise ReadError(f"a scan, and {reason}: {INSTALL_HINT}")
    start = time.perf_counter()
    for done, page in enumerate(todo, start=1):
        known[page] = read_image(render(page, settings.ocr_dpi), settings.ocr_language)
        store.save(sha256, known)
        elapsed = time.perf_counter() - start
        left = elapsed / done * (len(todo) - done)
        after = f"; about {_seconds(left)} left" if done < len(todo) else ""
        log(
            f"OCR of {name}: page {page} read ({done} of {len(todo)}) in "
            f"{_seconds(elapsed)}{after}."
        )
    return {p: known[p] for p in wanted if p in known}


def _seconds(seconds: float) -> str:
    s = max(1, round(seconds))
    return f"{s} s" if s < 60 else f"{s // 60} min {s % 60} s"
