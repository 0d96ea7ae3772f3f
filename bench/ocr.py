"""How well and how fast scanned pages are read by OCR: word accuracy against the known
text, and seconds a page, per scan resolution, noise and OCR resolution.

    .venv/bin/python bench/ocr.py             # 2 pages: about 5 minutes on 2 cores
    .venv/bin/python bench/ocr.py --pages 6 --full --ocrmypdf /tmp/ocrvenv/bin/ocrmypdf
                                              # what docs/OCR.md reports (about 25 minutes)

ocrmypdf goes in a venv of its own (python3 -m venv /tmp/ocrvenv && /tmp/ocrvenv/bin/pip
install ocrmypdf); it uses the same Tesseract, and here no Ghostscript (--output-type pdf).

Source pages whose text is known: the bundled news articles (corpus/*.txt, latin-1 only,
wrapped at 90 characters, 40 lines a page) written to a text PDF by tests/documents.py
`write_pdf`, and pages of a committed manual (data/manuals/manuals/gnu/bc.pdf) whose text
layer (pypdf, layout mode, which keeps the spaces around the typewriter font) is the
reference. Each page is scanned by tests/office_documents.py `write_scanned_pdf` at 150
and 300 dpi, "noisy" (0.7 degrees, 4% salt and pepper, the makers' defaults) and
"clean" (no rotation, no salt and pepper; the grain every scan has stays; by default
read at 300 dpi only, --full at every OCR dpi).

Each scan is read through the product's path, `read_pdf` (pdfium draws the scan at its own
resolution, at most Settings.ocr_dpi; median filter 3; Tesseract), with QA_OCR_CACHE at a
fresh folder so that it really OCRs; Settings.ocr_dpi (300) has no environment variable, so
`ocr.cache` is wrapped to hand out settings at 150, 200 and 300 dpi. Then: each noisy scan
drawn at exactly 150, 200 and 300 dpi whatever its own resolution (what read_pdf did
before), read with the median filter (ocr.read_image) and without (pytesseract called
directly); Tesseract's OpenMP threads (OMP_THREAD_LIMIT not set, which qa makes 1, vs 2
and 1); `qa index` of a folder of the noisy 300 dpi scans twice with one OCR cache (the
index deleted between); and, given --ocrmypdf, ocrmypdf's text layer on the noisy scans.

Word accuracy is 1 - word error rate: the word-level Levenshtein distance between the
reference and the OCR text (lowercased, punctuation stripped, a word broken by a hyphen at
a line's end joined), over the reference's words, summed over pages. Its 95% interval is
Wilson's over words (errors capped at the word count), which treats words as independent:
errors cluster on a page, so the true interval is wider. Seconds are wall time a page on
this machine (os.cpu_count() cores), mean over pages.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import math
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "src"), str(ROOT / "tests")]

from documents import write_pdf  # noqa: E402
from office_documents import write_scanned_pdf  # noqa: E402

from qa.documents import ocr  # noqa: E402
from qa.documents.readers.pdf import read_pdf  # noqa: E402

MANUAL = ROOT / "data" / "manuals" / "manuals" / "gnu" / "bc.pdf"
MANUAL_PAGES = (3, 4)  # 0-based: "2 Basic Elements", "3 Expressions"
SCAN_DPIS = (150, 300)
OCR_DPIS = (150, 200, 300)
# name -> (angle, noise) for write_scanned_pdf; "noisy" is the makers' default.
VARIANTS = {"noisy": (0.7, 0.04), "clean": (0.0, 0.0)}
QUOTES = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u2013": "-",
        "\u2014": "-",
        "\u00a0": " ",
    }
)


# ------------------------------------------------------------------ source pages


@dataclass(frozen=True)
class Source:
    name: str  # "news-1", "bc-4"
    kind: str  # "news" or "manual"
    pdf: Path  # the text PDF
    page: int  # 0-based page of `pdf`
    text: str  # the reference text


def article_pages(folder: Path) -> list[Source]:
    """All articles, wrapped at 90 characters, 40 lines a page, in one text PDF."""
    lines: list[str] = []
    for path in sorted((ROOT / "corpus").glob("*.txt")):
        text = path.read_text("utf-8").translate(QUOTES)
        text = text.encode("latin-1", "ignore").decode("latin-1")
        for paragraph in (p.strip() for p in text.split("\n\n")):
            line = ""
            for word in paragraph.split():
                if line and len(line) + 1 + len(word) > 90:
                    lines.append(line)
                    line = ""
                line = f"{line} {word}".strip()
            if line:
                lines.extend([line, ""])
    pages = [lines[i : i + 40] for i in range(0, len(lines), 40)]
    pages = [page for page in pages if sum(map(len, page)) > 2000]  # full pages only
    pdf = write_pdf(folder / "news.pdf", pages, title="News")
    return [
        Source(f"news-{i + 1}", "news", pdf, i, "\n".join(page)) for i, page in enumerate(pages)
    ]


def manual_pages() -> list[Source]:
    from pypdf import PdfReader

    reader = PdfReader(str(MANUAL))
    return [
        Source(
            f"bc-{p + 1}",
            "manual",
            MANUAL,
            p,
            reader.pages[p].extract_text(extraction_mode="layout"),
        )
        for p in MANUAL_PAGES
    ]


def sources(folder: Path, n: int) -> list[Source]:
    """n pages: a third (at least one, at most two) from the manual, the rest news."""
    manual = manual_pages()[: min(len(MANUAL_PAGES), max(1, n // 3))]
    news = article_pages(folder)[: n - len(manual)]
    return news + manual


# ------------------------------------------------------------------ scoring


def words(text: str) -> list[str]:
    """Lowercased words without punctuation; "pre-\\ncision" is one word."""
    text = re.sub(r"(\w)-\s*\n\s*([a-z])", r"\1\2", text)
    out = (re.sub(r"\W+", "", token) for token in text.lower().split())
    return [w for w in out if w]


def edit_distance(a: list[str], b: list[str]) -> int:
    """Levenshtein distance between two word sequences (two rows of the DP)."""
    previous = list(range(len(b) + 1))
    for i, x in enumerate(a, start=1):
        current = [i]
        for j, y in enumerate(b, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (x != y)))
        previous = current
    return previous[-1]


def wilson(successes: int, n: int, z: float = 1.96) -> tuple[float, float]:
    if n == 0:
        return (0.0, 1.0)
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return (max(0.0, centre - half), min(1.0, centre + half))


@dataclass
class Score:
    """Errors and seconds summed over pages; per kind of page too."""

    words: int = 0
    errors: int = 0
    seconds: list[float] = field(default_factory=list)  # wall
    cpu: list[float] = field(default_factory=list)  # this process's and its children's
    by_kind: dict[str, list[int]] = field(default_factory=dict)

    def add(self, source: Source, text: str, seconds: tuple[float, float]) -> None:
        reference = words(source.text)
        errors = min(edit_distance(reference, words(text)), len(reference))
        self.words += len(reference)
        self.errors += errors
        self.seconds.append(seconds[0])
        self.cpu.append(seconds[1])
        kind = self.by_kind.setdefault(source.kind, [0, 0])
        kind[0] += len(reference)
        kind[1] += errors

    def accuracy(self) -> str:
        if not self.words:
            return "-"
        low, high = wilson(self.words - self.errors, self.words)
        return f"{1 - self.errors / self.words:6.1%} [{low:.1%}, {high:.1%}]"

    def kind(self, kind: str) -> str:
        n, errors = self.by_kind.get(kind, (0, 0))
        return f"{1 - errors / n:6.1%}" if n else "-"

    def per_page(self) -> str:
        return f"{statistics.mean(self.seconds):6.1f}" if self.seconds else "-"

    def cpu_per_page(self) -> str:
        return f"{statistics.mean(self.cpu):6.1f}" if self.cpu else "-"


# ------------------------------------------------------------------ reading


@contextlib.contextmanager
def ocr_at(dpi: int, cache_dir: Path) -> Iterator[None]:
    """The product's OCR at `dpi`, with a fresh cache folder: QA_OCR_CACHE for the folder,
    and `ocr.cache` wrapped for the dpi (Settings.ocr_dpi has no environment variable)."""
    original = ocr.cache
    before = os.environ.get("QA_OCR_CACHE")

    def cache() -> tuple[ocr.OcrCache, Any]:
        store, settings = original()
        settings = settings.replace(ocr_dpi=dpi)
        return ocr.OcrCache(store.folder, ocr.cache_key(settings)), settings

    os.environ["QA_OCR_CACHE"] = str(cache_dir)
    ocr.cache = cache
    try:
        yield
    finally:
        ocr.cache = original  # type: ignore[assignment]
        if before is None:
            os.environ.pop("QA_OCR_CACHE", None)
        else:
            os.environ["QA_OCR_CACHE"] = before


class Clock:
    """Wall seconds, and CPU seconds of this process and of its finished children
    (Tesseract, `qa`, ocrmypdf), since it was made."""

    def __init__(self) -> None:
        self.wall, self.cpu = time.perf_counter(), self._cpu()

    @staticmethod
    def _cpu() -> float:
        t = os.times()
        return t.user + t.system + t.children_user + t.children_system

    def read(self) -> tuple[float, float]:
        return time.perf_counter() - self.wall, self._cpu() - self.cpu


def product_read(
    scan: Path, dpi: int, cache_dir: Path, threads: str | None = None
) -> tuple[str, tuple[float, float]]:
    """The scan through read_pdf at OCR dpi `dpi`: its text, and the seconds it took.
    `threads`: OMP_THREAD_LIMIT for Tesseract (None: unset, as the product runs it)."""
    before = os.environ.pop("OMP_THREAD_LIMIT", None)
    if threads:
        os.environ["OMP_THREAD_LIMIT"] = threads
    try:
        with ocr_at(dpi, cache_dir), contextlib.redirect_stderr(io.StringIO()):
            clock = Clock()
            extracted = read_pdf(scan)
            seconds = clock.read()
    finally:
        os.environ.pop("OMP_THREAD_LIMIT", None)
        if before is not None:
            os.environ["OMP_THREAD_LIMIT"] = before
    return "\n".join(p for page in extracted.pages or [] for p in page), seconds


def drawn_at(scan: Path, dpi: int) -> Any:
    """Page 1 of the scan drawn at exactly `dpi`, whatever the scan's own resolution (what
    read_pdf did before it drew a scan at its own resolution)."""
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(str(scan))
    try:
        return pdf[0].render(scale=dpi / 72, grayscale=True).to_pil().convert("L")
    finally:
        pdf.close()


def forced_read(scan: Path, dpi: int, median: bool) -> tuple[str, tuple[float, float]]:
    """The scan drawn at exactly `dpi` and read as ocr.read_image reads it: with its median
    filter, or without (pytesseract on the drawing, the same confidence floor)."""
    import pytesseract

    clock = Clock()
    image = drawn_at(scan, dpi)
    if median:
        page = ocr.read_image(image, "eng")
        return "\n".join(page.paragraphs()), clock.read()
    data = pytesseract.image_to_data(image, lang="eng", output_type=pytesseract.Output.DICT)
    found = []
    for i, raw in enumerate(data["text"]):
        word = " ".join(str(raw).split())
        if word and float(data["conf"][i]) >= ocr.MIN_CONFIDENCE:
            paragraph = (data["block_num"][i], data["par_num"][i])
            found.append(ocr.Word(word, (0, 0, 0, 0), paragraph, int(data["line_num"][i])))
    page = ocr.OcrPage(image.width, image.height, tuple(found))
    return "\n".join(page.paragraphs()), clock.read()


# ------------------------------------------------------------------ the benchmark


def table(title: str, header: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(str(c)) for c in column) for column in zip(header, *rows, strict=True)]
    print(f"\n{title}")
    print("  ".join(h.rjust(w) for h, w in zip(header, widths, strict=True)))
    for row in rows:
        print("  ".join(str(c).rjust(w) for c, w in zip(row, widths, strict=True)), flush=True)


Pages = list[Source]
Scans = dict[tuple[str, int, str], Path]  # (source page, scan dpi, variant) -> scan
Reader = Callable[[Path], tuple[str, tuple[float, float]]]
LOAD: list[float] = []  # the 1-minute load average after each page read
SCORE_HEADER = ["words", "word accuracy [95%]", "news", "manual", "s/page", "CPU s/page"]


@dataclass(frozen=True)
class Read:
    """One way of reading one kind of scan: (what, variant, scan dpi, OCR dpi, threads)."""

    key: tuple[str, str, int, int, str]
    read: Reader


def plan(tmp: Path, skip: list[str], full: bool) -> list[Read]:
    """The reads to make of each page: read_pdf at each OCR dpi (the clean scans unless
    skipped, at 300 dpi only unless `full`), pytesseract without the filter, and read_pdf
    with Tesseract's threads limited."""
    reads = []

    def product(variant: str, scan_dpi: int, dpi: int, threads: str = "unset") -> None:
        cache = Path(tempfile.mkdtemp(dir=tmp, prefix="cache-"))  # fresh: it really OCRs
        limit = None if threads == "unset" else threads
        read = partial(product_read, dpi=dpi, cache_dir=cache, threads=limit)
        reads.append(Read(("read_pdf", variant, scan_dpi, dpi, threads), read))

    for scan_dpi in SCAN_DPIS:
        for dpi in OCR_DPIS:
            if "noisy" not in skip:
                product("noisy", scan_dpi, dpi)
            if "drawn" not in skip:
                for what, median in (("drawn, median 3", True), ("drawn, no filter", False)):
                    read = partial(forced_read, dpi=dpi, median=median)
                    reads.append(Read((what, "noisy", scan_dpi, dpi, "unset"), read))
    if "clean" not in skip:
        for scan_dpi in SCAN_DPIS:
            for dpi in OCR_DPIS if full else (300,):
                product("clean", scan_dpi, dpi)
    if "threads" not in skip:
        for threads in ("2", "1"):
            for dpi in (200, 300) if full else (300,):
                product("noisy", 300, dpi, threads)
    return reads


def measure(pages: Pages, scans: Scans, reads: list[Read]) -> dict[tuple, Score]:
    """Every read of every page, page by page (all the ways of reading page 1, then page
    2, ...): a change in the machine's load falls on all of them alike."""
    scores: dict[tuple, Score] = {read.key: Score() for read in reads}
    clock = Clock()
    for n, source in enumerate(pages, start=1):
        for read in reads:
            what, variant, scan_dpi, _, _ = read.key
            text, seconds = read.read(scans[(source.name, scan_dpi, variant)])
            scores[read.key].add(source, text, seconds)
            LOAD.append(os.getloadavg()[0])
        print(
            f"  page {n} of {len(pages)} read {len(reads)} ways, {clock.read()[0]:.0f} s so far",
            file=sys.stderr,
            flush=True,
        )
    return scores


def row(label: list[str], score: Score) -> list[str]:
    return [
        *label,
        str(score.words),
        score.accuracy(),
        score.kind("news"),
        score.kind("manual"),
        score.per_page(),
        score.cpu_per_page(),
    ]


def tables(scores: dict[tuple, Score]) -> None:
    rows = [
        row([variant, str(scan_dpi), str(dpi)], score)
        for (what, variant, scan_dpi, dpi, threads), score in sorted(
            scores.items(), key=lambda kv: (kv[0][1] != "noisy", kv[0][2:])
        )
        if what == "read_pdf" and threads == "unset"
    ]
    table(
        "Word accuracy, read_pdf (the scan drawn at its own dpi, at most Settings.ocr_dpi; "
        "median 3; Tesseract)",
        ["scan", "scan dpi", "ocr_dpi", *SCORE_HEADER],
        rows,
    )
    rows = []
    for scan_dpi in SCAN_DPIS:
        for dpi in OCR_DPIS:
            for what, name in (("drawn, no filter", "none"), ("drawn, median 3", "median 3")):
                if score := scores.get((what, "noisy", scan_dpi, dpi, "unset")):
                    rows.append(row([str(scan_dpi), str(dpi), name], score))
    if rows:
        table(
            "Noisy scans drawn at exactly the OCR dpi, whatever their own (as read_pdf did "
            "before it drew a scan at its own resolution); the median filter, or none",
            ["scan dpi", "drawn at", "filter", *SCORE_HEADER],
            rows,
        )
    rows = []
    for dpi in OCR_DPIS:
        for threads in ("unset", "2", "1"):
            if (threads != "unset" or ("read_pdf", "noisy", 300, dpi, "2") in scores) and (
                score := scores.get(("read_pdf", "noisy", 300, dpi, threads))
            ):
                rows.append(
                    row(["not set (qa: 1)" if threads == "unset" else threads, str(dpi)], score)
                )
    if rows:
        table(
            "Tesseract's OpenMP threads, noisy 300 dpi scans, read_pdf",
            ["OMP_THREAD_LIMIT", "OCR dpi", *SCORE_HEADER],
            rows,
        )


def index_table(pages: Pages, scans: Scans, tmp: Path) -> None:
    folder = tmp / "scans-folder"
    folder.mkdir()
    for source in pages:
        shutil.copy(scans[(source.name, 300, "noisy")], folder / f"{source.name}.pdf")
    env = {**os.environ, "QA_OCR_CACHE": str(tmp / "index-cache")}
    qa = ROOT / ".venv" / "bin" / "qa"
    # The first index next to `tmp / "index"` exports the encoder to ONNX once (about
    # 20 s here, kept in tmp/.qa-onnx): paid by a warm-up build of one text file.
    warm = tmp / "warm-up"
    warm.mkdir()
    (warm / "a.txt").write_text("A title\n\n" + pages[0].text, "utf-8")
    runs = [("warm-up: 1 text file", warm)] + [(b, folder) for b in ("first build", "rebuild")]
    index = tmp / "index"
    rows = []
    for build, corpus in runs:
        shutil.rmtree(index, ignore_errors=True)
        clock = Clock()
        done = subprocess.run(
            [str(qa), "index", str(corpus), "--index-dir", str(index)],
            env=env,
            capture_output=True,
            text=True,
        )
        seconds, cpu = clock.read()
        said = done.stdout + done.stderr
        if done.returncode:
            print(said, file=sys.stderr)
        # "OCR of a.pdf: page 2 read (2 of 3) in 17 s; ...": the time so far for that file.
        per_file: dict[str, int] = {}
        for name, m, sec in re.findall(
            r"^OCR of (.*?): page .* in (?:(\d+) min )?(\d+) s", said, re.MULTILINE
        ):
            per_file[name] = max(per_file.get(name, 0), 60 * int(m or 0) + int(sec))
        ocr_seconds = sum(per_file.values())
        rows.append(
            [
                build,
                str(len(list(corpus.iterdir()))),
                f"{seconds:.1f}",
                f"{cpu:.1f}",
                str(said.count("OCR of")),
                str(ocr_seconds),
                "yes" if "to ONNX" in said else "no",
                str(done.returncode),
            ]
        )
    table(
        f"qa index of {len(pages)} noisy 300 dpi scans (one a file), one OCR cache, the index "
        "deleted before each build",
        ["build", "files", "seconds", "CPU s", '"OCR of" lines', "their s", "ONNX export", "exit"],
        rows,
    )


def ocrmypdf_table(pages: Pages, scans: Scans, tmp: Path, program: Path) -> None:
    from pypdf import PdfReader

    site = next(program.resolve().parent.parent.glob("lib/python*/site-packages"), None)
    size = 0
    if site is not None:
        for path in site.iterdir():
            if not path.name.startswith(("pip", "setuptools", "_distutils")):
                files = [path] if path.is_file() else path.rglob("*")
                size += sum(f.stat().st_size for f in files if f.is_file())
    version = subprocess.run([str(program), "--version"], capture_output=True, text=True)
    rows = []
    for scan_dpi in SCAN_DPIS:
        score = Score()
        for source in pages:
            out = tmp / f"ocrmypdf-{source.name}-{scan_dpi}.pdf"
            clock = Clock()
            done = subprocess.run(
                [
                    str(program),
                    "-l",
                    "eng",
                    "--output-type",
                    "pdf",
                    "--optimize",
                    "0",
                    str(scans[(source.name, scan_dpi, "noisy")]),
                    str(out),
                ],
                capture_output=True,
                text=True,
            )
            seconds = clock.read()
            text = PdfReader(str(out)).pages[0].extract_text() if done.returncode == 0 else ""
            if done.returncode:
                print(done.stderr[-2000:], file=sys.stderr)
            score.add(source, text, seconds)
        rows.append(row([str(scan_dpi)], score))
    table(
        f"ocrmypdf {version.stdout.strip()} (its text layer through pypdf), noisy scans; "
        f"site-packages {size / 1e6:.0f} MB without pip; s/page includes its start",
        ["scan dpi", *SCORE_HEADER],
        rows,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=2, help="source pages (default 2; 6 max)")
    parser.add_argument(
        "--full",
        action="store_true",
        help="clean scans and threads at every OCR dpi, not only at 300",
    )
    parser.add_argument("--ocrmypdf", type=Path, help="an ocrmypdf to compare, e.g. in a venv")
    parser.add_argument(
        "--skip",
        nargs="*",
        default=[],
        choices=["noisy", "clean", "drawn", "threads", "index"],
        help="parts to skip",
    )
    args = parser.parse_args()
    if reason := ocr.missing():
        sys.exit(f"OCR cannot run: {reason}")
    load = os.getloadavg()[0]
    print(f"{os.cpu_count()} cores, load {load:.1f} at start; Tesseract {ocr._version()}")
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        pages = sources(tmp, args.pages)
        print(
            f"pages: {', '.join(p.name for p in pages)} "
            f"({sum(len(words(p.text)) for p in pages)} words)"
        )
        scans = {}
        for n, source in enumerate(pages):
            for dpi in SCAN_DPIS:
                for variant, (angle, noise) in VARIANTS.items():
                    path = tmp / f"{source.name}-{dpi}-{variant}.pdf"
                    write_scanned_pdf(path, source.pdf, source.page, dpi, angle, noise, seed=n)
                    scans[(source.name, dpi, variant)] = path
        start = time.perf_counter()
        os.environ.pop("OMP_THREAD_LIMIT", None)  # Tesseract as the product runs it
        reads = plan(tmp, args.skip, args.full)
        if reads:
            tables(measure(pages, scans, reads))
        if "index" not in args.skip:
            index_table(pages, scans, tmp)
        if args.ocrmypdf:
            ocrmypdf_table(pages, scans, tmp, args.ocrmypdf)
        print(
            f"\n{time.perf_counter() - start:.0f} s in all; 1-minute load after each page read: "
            f"median {statistics.median(LOAD or [0]):.1f}, max {max(LOAD, default=0):.1f}"
        )


if __name__ == "__main__":
    main()
