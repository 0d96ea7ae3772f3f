"""What each format costs to read: seconds per MB of file, and per MB of text extracted.

    .venv/bin/python bench/formats.py [--mb 2]

Writes one file of about --mb megabytes per format (the same article text, repeated;
the formats of round 3 grown by their test makers' fillers), reads each with qa's reader
(best of 3, after one warm-up that pays the library import), and prints the table; then
a scanned page read by OCR (seconds a page, then from the OCR cache). Embedding, not
reading, is what indexing spends its time on: about 25 kB of text a second on 2 cores
(docs/BENCHMARKS.md); the last column puts the two side by side.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "src"), str(ROOT / "tests")]

import office_documents as od  # noqa: E402
from documents import write_docx, write_pdf  # noqa: E402

from qa.documents.corpus import read_document  # noqa: E402

EMBED_BYTES_PER_S = 25_000


def paragraphs(target: int) -> list[str]:
    article = (ROOT / "corpus" / "liangjiang-digital-industrial-hub.txt").read_text("utf-8")
    lines = [line.strip() for line in article.splitlines() if len(line.strip()) > 80]
    lines = [line.encode("latin-1", "ignore").decode("latin-1") for line in lines]
    out: list[str] = []
    while sum(map(len, out)) < target:
        out.extend(lines)
    return out


def make(folder: Path, mb: float) -> dict[str, Path]:
    text = paragraphs(int(mb * 1_000_000))
    files = {}
    files["txt"] = folder / "a.txt"
    files["txt"].write_text("A title\n\n" + "\n\n".join(text), encoding="utf-8")
    files["md"] = folder / "a.md"
    files["md"].write_text(
        "---\ntitle: A\n---\n# A\n\n" + "\n\n".join(f"Some **bold** {p}" for p in text),
        encoding="utf-8",
    )
    files["html"] = folder / "a.html"
    files["html"].write_text(
        "<html><head><title>A</title></head><body><nav><a href='/'>Home</a></nav><article>"
        + "".join(f"<p>{p}</p>" for p in text)
        + "</article><footer>Footer</footer></body></html>",
        encoding="utf-8",
    )
    files["docx"] = write_docx(folder / "a.docx", "A", "A", text)
    # PDF: about 40 lines of 90 characters a page, wrapped as a printed page is.
    words = " ".join(text).split()
    lines, line = [], ""
    for word in words:
        if len(line) + len(word) > 90:
            lines.append(line)
            line = ""
        line = f"{line} {word}".strip()
    pages = [lines[i : i + 40] for i in range(0, len(lines), 40)]
    files["pdf"] = write_pdf(folder / "a.pdf", pages)
    # The formats of round 3, grown to about `mb` of text by their makers' fillers
    # (tests/office_documents.py): counts from the text one unit of each adds.
    units = max(1, int(mb * 1_000_000))
    files["pptx"] = od.write_pptx(folder / "a.pptx", extra_slides=units // 400)
    files["xlsx"] = od.write_xlsx(folder / "a.xlsx", extra_rows=units // 60)
    files["csv"] = od.write_csv(folder / "a.csv", extra_rows=units // 60)
    files["epub"] = od.write_epub(folder / "a.epub", filler=text)
    files["odt"] = od.write_odt(folder / "a.odt", filler=text[: len(text) // 4])
    files["eml"] = od.write_eml(folder / "a.eml", attachment=files["csv"])
    return files


def ocr_seconds_per_page(folder: Path) -> tuple[float, float]:
    """(first reading, cached reading) of a one-page scan at 200 dpi, in seconds: the
    first runs Tesseract, the second takes the page's words from the OCR cache."""
    import os

    os.environ["QA_OCR_CACHE"] = str(folder / "ocr-cache")
    source = od.write_scan_source(folder / "scan-source.pdf")
    scan = od.write_scanned_pdf(folder / "scan.pdf", source)
    times = []
    for _ in range(2):
        started = time.perf_counter()
        read_document(scan, "scan")
        times.append(time.perf_counter() - started)
    return times[0], times[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=2.0, help="text per file (default 2)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        files = make(Path(tmp), args.mb)
        print(
            f"{'format':6} {'file MB':>8} {'text MB':>8} {'read s':>8} {'s/MB file':>10} "
            f"{'s/MB text':>10} {'embed s':>8}"
        )
        for name, path in files.items():
            read_document(path, name)  # warm-up: imports the library
            best = float("inf")
            for _ in range(3):
                started = time.perf_counter()
                document = read_document(path, name)
                best = min(best, time.perf_counter() - started)
            size = path.stat().st_size / 1e6
            text = len(document.text.encode("utf-8")) / 1e6
            print(
                f"{name:6} {size:8.2f} {text:8.2f} {best:8.2f} {best / size:10.3f} "
                f"{best / text:10.3f} {text * 1e6 / EMBED_BYTES_PER_S:8.0f}"
            )
        first, cached = ocr_seconds_per_page(Path(tmp))
        print(
            f"\nscanned PDF page (200 dpi scan, OCR at 300 dpi): {first:.2f} s a page; "
            f"from the OCR cache {cached:.3f} s"
        )


if __name__ == "__main__":
    main()
