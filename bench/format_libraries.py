"""The one-library route (kreuzberg, markitdown) against the field libraries (python-pptx,
openpyxl, csv, zipfile + lxml, odfpy, email, python-docx, pypdf, tesseract) on the files
of tests/office_documents.py: what each reads, how fast, what it does with a damaged or
encrypted file, and what it costs to import. Figures and verdict: docs/FORMAT_LIBRARIES.md.

    python3 -m venv /tmp/libvenv
    /tmp/libvenv/bin/pip install kreuzberg==4.10.4 'markitdown[all]==0.1.9'
    .venv/bin/python bench/format_libraries.py [--libvenv /tmp/libvenv] [--json FILE]

Run it with the project's .venv (it writes the files with the test makers and reads them
with the field libraries, which also needs msoffcrypto-tool for the encrypted files); it
runs itself again under the libvenv's python (`--worker NAME --plan FILE`) for the
one-library side, so neither venv needs the other's packages. It prints Markdown tables
and writes every figure to --json. Timings: best of 3 after one warm-up, kreuzberg with
its result cache off (it caches by default in ~/.cache/kreuzberg). Not used by the tests.
Install sizes (docs) were measured separately: a fresh venv per package, `du` of
site-packages before and after `pip install --no-cache-dir`, and `pip download`.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# kreuzberg: its defaults; kreuzberg-md: output_format="markdown"; kreuzberg-ocr: the
# scans only, with force_ocr=True (by default kreuzberg does not OCR an image-only PDF).
ONE_LIBRARY = ["kreuzberg", "kreuzberg-md", "kreuzberg-ocr", "markitdown"]
TIME_REPEAT = 3
SLOW_S = 10.0  # a reader whose warm-up takes longer is timed once more, not 3 times

# --------------------------------------------------------------------------- readers
# Each returns {"text": what a caller gets as the document's text, "extra": what only a
# further API call gives (metadata, attachments' own results)}.


def read_kreuzberg(path: str, markdown: bool = False, force_ocr: bool = False) -> dict:
    import kreuzberg

    ocr = kreuzberg.OcrConfig(
        backend="tesseract",
        language="eng",
        tesseract_config=kreuzberg.TesseractConfig(use_cache=False),  # its OCR cache
    )
    config = kreuzberg.ExtractionConfig(
        use_cache=False,  # its result cache
        ocr=ocr,
        force_ocr=force_ocr,
        output_format="markdown" if markdown else "plain",
    )
    result = kreuzberg.extract_file_sync(path, config=config)
    extra = [json.dumps(dict(result.metadata), default=str)]
    for child in result.children or []:
        extra.append(f"[child {child.get('path')}] " + child["result"].content)
    return {"text": result.content, "extra": "\n".join(extra)}


def read_markitdown(path: str) -> dict:
    from markitdown import MarkItDown

    global _MARKITDOWN
    if _MARKITDOWN is None:
        _MARKITDOWN = MarkItDown(enable_plugins=False)
    result = _MARKITDOWN.convert(path)
    return {"text": result.markdown, "extra": f"title={result.title}"}


_MARKITDOWN: Any = None


def _markdown_table(rows: list[list[str]]) -> list[str]:
    if not rows:
        return []
    out = ["| " + " | ".join(rows[0]) + " |", "| " + " | ".join("---" for _ in rows[0]) + " |"]
    out += ["| " + " | ".join(row) + " |" for row in rows[1:]]
    return out


def field_pptx(path: str) -> dict:
    from pptx import Presentation

    deck = Presentation(path)
    out = [f"# {deck.core_properties.title}"]
    for number, slide in enumerate(deck.slides, start=1):
        out.append(f"[slide {number}]")
        for shape in slide.shapes:
            if shape.has_text_frame and shape.text_frame.text:
                out.append(shape.text_frame.text)
            elif getattr(shape, "has_table", False) and shape.has_table:
                rows = [[cell.text for cell in row.cells] for row in shape.table.rows]
                out += _markdown_table(rows)
        if slide.has_notes_slide:
            notes = slide.notes_slide.notes_text_frame.text
            if notes:
                out.append(f"Notes: {notes}")
    return {"text": "\n".join(out), "extra": ""}


def _header_index(rows: list[list[str]]) -> int:
    """The first row with at least two cells, all of them text: the header."""
    for i, row in enumerate(rows):
        filled = [c for c in row if c]
        if len(filled) >= 2 and len(filled) == len(row) and not any(_is_number(c) for c in row):
            return i
    return 0


def _is_number(text: str) -> bool:
    return bool(re.fullmatch(r"-?[\d.,]+", text))


def _table_text(rows: list[list[str]]) -> list[str]:
    rows = [row for row in rows if any(row)]
    if not rows:
        return []
    width = max(len(row) for row in rows)
    rows = [row + [""] * (width - len(row)) for row in rows]
    header = _header_index(rows)
    return [*(" ".join(c for c in row if c) for row in rows[:header])] + _markdown_table(
        rows[header:]
    )


def field_xlsx(path: str) -> dict:
    import openpyxl

    book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    out = []
    for sheet in book.worksheets:
        rows = [
            ["" if v is None else str(v) for v in row] for row in sheet.iter_rows(values_only=True)
        ]
        out.append(f"## {sheet.title}")
        out += _table_text(rows)
    book.close()
    return {"text": "\n".join(out), "extra": ""}


def field_csv(path: str) -> dict:
    import csv

    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    return {"text": "\n".join(_table_text(rows)), "extra": ""}


def field_epub(path: str) -> dict:
    import posixpath
    import zipfile

    from lxml import etree

    ns = {
        "c": "urn:oasis:names:tc:opendocument:xmlns:container",
        "opf": "http://www.idpf.org/2007/opf",
        "dc": "http://purl.org/dc/elements/1.1/",
    }
    with zipfile.ZipFile(path) as archive:
        container = etree.fromstring(archive.read("META-INF/container.xml"))
        opf_path = container.xpath("//c:rootfile/@full-path", namespaces=ns)[0]
        opf = etree.fromstring(archive.read(opf_path))
        base = posixpath.dirname(opf_path)
        title = opf.xpath("string(//dc:title)", namespaces=ns)
        creator = opf.xpath("string(//dc:creator)", namespaces=ns)
        hrefs = {
            item.get("id"): item.get("href")
            for item in opf.xpath("//opf:manifest/opf:item", namespaces=ns)
        }
        out = [f"# {title}", f"by {creator}"]
        blocks = {"h1", "h2", "h3", "h4", "h5", "h6", "p", "li", "td", "th", "pre"}
        for idref in opf.xpath("//opf:spine/opf:itemref/@idref", namespaces=ns):
            tree = etree.fromstring(archive.read(posixpath.join(base, hrefs[idref])))
            for element in tree.iter():
                if isinstance(element.tag, str) and etree.QName(element).localname in blocks:
                    text = " ".join("".join(element.itertext()).split())
                    if text:
                        out.append(text)
    return {"text": "\n".join(out), "extra": ""}


def field_odt(path: str) -> dict:
    from odf import teletype
    from odf.dc import Title
    from odf.opendocument import load
    from odf.table import TableCell, TableRow

    document = load(path)
    titles = document.meta.getElementsByType(Title)
    out = [f"# {teletype.extractText(titles[0])}"] if titles else []
    for node in document.text.childNodes:
        kind = getattr(node, "qname", (None, None))[1]
        if kind in ("h", "p"):
            text = teletype.extractText(node)
            if text:
                out.append(text)
        elif kind == "table":
            rows = [
                [teletype.extractText(cell) for cell in row.getElementsByType(TableCell)]
                for row in node.getElementsByType(TableRow)
            ]
            out += _markdown_table(rows)
    return {"text": "\n".join(out), "extra": ""}


def field_eml(path: str) -> dict:
    import email
    import email.policy

    with open(path, "rb") as f:
        message = email.message_from_binary_file(f, policy=email.policy.default)
    out = [f"Subject: {message['subject']}", f"From: {message['from']}", f"Date: {message['date']}"]
    body = message.get_body(preferencelist=("plain", "html"))
    if body is not None:
        out.append(body.get_content())
    for part in message.iter_attachments():
        out.append(f"[attachment {part.get_filename()}]")
        if part.get_content_maintype() == "text":
            out.append(part.get_content())
    return {"text": "\n".join(out), "extra": ""}


def field_docx(path: str) -> dict:
    import docx

    document = docx.Document(path)
    return {"text": "\n".join(p.text for p in document.paragraphs), "extra": ""}


def field_pdf(path: str) -> dict:
    from pypdf import PdfReader

    reader = PdfReader(path)
    return {"text": "\n".join(page.extract_text() for page in reader.pages), "extra": ""}


def _tesseract(image_path: str) -> str:
    done = subprocess.run(
        ["tesseract", image_path, "stdout"], capture_output=True, text=True, check=True
    )
    return done.stdout


def field_ocr(path: str) -> dict:
    """An image: tesseract on it. A PDF: tesseract on each page's own image, taken out
    at its own resolution by pypdfium2 (re-rendering at 300 dpi smears a noisy 200 dpi
    scan's speckle into blots and tesseract then reads nothing)."""
    if not path.endswith(".pdf"):
        return {"text": _tesseract(path), "extra": ""}
    import pypdfium2 as pdfium
    import pypdfium2.raw as pdfium_c

    pdf = pdfium.PdfDocument(path)
    texts = []
    with tempfile.TemporaryDirectory() as folder:
        for n, page in enumerate(pdf):
            for m, obj in enumerate(page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE])):
                image = Path(folder) / f"{n}_{m}.png"
                obj.get_bitmap().to_pil().convert("L").save(image)
                texts.append(_tesseract(str(image)))
    pdf.close()
    return {"text": "\n".join(texts), "extra": ""}


FIELD = {
    "pptx": field_pptx,
    "xlsx": field_xlsx,
    "csv": field_csv,
    "epub": field_epub,
    "odt": field_odt,
    "eml": field_eml,
    "docx": field_docx,
    "pdf": field_pdf,
    "scan_pdf": field_ocr,
    "scan_png": field_ocr,
}


def one_library(name: str, kind: str):
    if name == "markitdown":
        return read_markitdown
    if name == "kreuzberg-ocr" and not kind.startswith("scan"):
        return None
    return lambda path: read_kreuzberg(
        path, markdown=name == "kreuzberg-md", force_ocr=name == "kreuzberg-ocr"
    )


# --------------------------------------------------------------------------- running


def run_task(reader, task: dict) -> dict:
    if reader is None:
        return {"skipped": True}
    path = task["path"]
    try:
        if task["mode"] == "time":
            start = time.perf_counter()
            reader(path)  # warm-up: imports, first-use set-up
            warm_up = time.perf_counter() - start
            best, chars = float("inf"), 0
            for _ in range(TIME_REPEAT if warm_up < SLOW_S else 1):
                start = time.perf_counter()
                got = reader(path)
                best = min(best, time.perf_counter() - start)
                chars = len(got["text"])
            return {"seconds": best, "chars": chars}
        start = time.perf_counter()
        got = reader(path)
        return {**got, "seconds": time.perf_counter() - start}
    except BaseException as error:  # noqa: BLE001 - recording what each library raises
        if isinstance(error, KeyboardInterrupt):
            raise
        return {"error": f"{type(error).__module__}.{type(error).__name__}: {error}"[:300]}


def worker(name: str, plan: Path) -> None:
    tasks = json.loads(plan.read_text())
    results = {}
    for task in tasks:
        results[task["id"]] = run_task(one_library(name, task["kind"]), task)
    print(json.dumps(results))


def import_seconds(python: str, statement: str) -> float:
    code = f"import time; t = time.perf_counter(); {statement}; print(time.perf_counter() - t)"
    times = []
    for _ in range(TIME_REPEAT + 1):
        done = subprocess.run([python, "-c", code], capture_output=True, text=True, check=True)
        times.append(float(done.stdout.strip().splitlines()[-1]))
    return min(times[1:])


# --------------------------------------------------------------------------- files


def filler(chars: int, seed: int = 1) -> list[str]:
    """Sentences of corpus words in random order: prose that compresses as prose does."""
    import random

    words = re.findall(
        r"[A-Za-z]{3,}", " ".join(p.read_text() for p in (ROOT / "corpus").glob("*.txt"))
    )
    rng = random.Random(seed)
    out, total = [], 0
    while total < chars:
        sentence = " ".join(rng.choice(words) for _ in range(rng.randint(12, 30))).capitalize()
        out.append(sentence + ".")
        total += len(sentence) + 1
    return out


def make_files(folder: Path) -> dict[str, dict[str, Path]]:
    sys.path.insert(0, str(ROOT / "tests"))
    import office_documents as od
    from documents import write_docx, write_pdf

    small = {
        "pptx": od.write_pptx(folder / "deck.pptx"),
        "xlsx": od.write_xlsx(folder / "book.xlsx"),
        "csv": od.write_csv(folder / "libraries.csv"),
        "epub": od.write_epub(folder / "book.epub"),
        "odt": od.write_odt(folder / "report.odt"),
        "eml": od.write_eml(folder / "mail.eml"),
        "docx": write_docx(
            folder / "rules.docx",
            "Allotment Rules",
            "Rules",
            ["Each plot holder may keep at most six hens.", "Bonfires are allowed in November."],
        ),
        "pdf": write_pdf(
            folder / "ferry.pdf",
            [["The ferry to Inchkeith leaves at 9:15 every Tuesday."], ["Tickets cost 14 pounds."]],
            title="Ferry timetable",
        ),
    }
    source = od.write_scan_source(folder / "scan_source.pdf")
    small["scan_pdf"] = od.write_scanned_pdf(folder / "scan.pdf", source)
    small["scan_png"] = od.write_scan_image(folder / "scan.png", source)
    ocr = {}
    for noise in (0.0, 0.01, 0.04):
        ocr[f"scan_pdf@{noise}"] = od.write_scanned_pdf(
            folder / f"scan_{noise}.pdf", source, noise=noise
        )
        ocr[f"scan_png@{noise}"] = od.write_scan_image(
            folder / f"scan_{noise}.png", source, noise=noise
        )

    text = filler(3_000_000)
    lines = [" ".join(text[i : i + 4]) for i in range(0, len(text), 4)]
    big = {
        "pptx": od.write_pptx(folder / "big.pptx", extra_slides=700),
        "xlsx": od.write_xlsx(folder / "big.xlsx", extra_rows=60_000),
        "csv": od.write_csv(folder / "big.csv", extra_rows=40_000),
        "epub": od.write_epub(folder / "big.epub", filler=text[: len(text) // 2]),  # x2 chapters
        "odt": od.write_odt(folder / "big.odt", filler=text),
        "docx": write_docx(folder / "big.docx", "Big", "Big", text),
        "pdf": write_pdf(
            folder / "big.pdf",
            [[line[:95] for line in lines[i : i + 50]] for i in range(0, 3000, 50)],
        ),
    }
    damaged = {
        kind: od.damaged(folder / f"damaged_{small[kind].name}", small[kind])
        for kind in ("pptx", "xlsx", "docx", "epub", "odt", "pdf")
    }
    encrypted = {
        "xlsx": od.write_encrypted_xlsx(folder / "locked.xlsx"),
        "pptx": od.write_encrypted_pptx(folder / "locked.pptx"),
        "docx": od.write_encrypted_docx(folder / "locked.docx"),
        "pdf": _encrypted_pdf(folder / "locked.pdf", small["pdf"], od.PASSWORD),
    }
    return {"small": small, "ocr": ocr, "big": big, "damaged": damaged, "encrypted": encrypted}


def _encrypted_pdf(path: Path, source: Path, password: str) -> Path:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(source))
    writer.encrypt(user_password=password, algorithm="AES-256")
    writer.write(path)
    return path


# --------------------------------------------------------------------------- checks


def _where(needle: str, got: dict) -> str:
    if needle.lower() in got.get("text", "").lower():
        return "yes"
    if needle.lower() in got.get("extra", "").lower():
        return "API only"
    return "no"


def _before(a: str, b: str, text: str) -> bool:
    i, j = text.find(a), text.find(b)
    return 0 <= i < j


def checks(kind: str, got: dict) -> dict[str, str]:
    """What a reader kept of the small file of format `kind`."""
    if "skipped" in got:
        return {"error": "-"}
    if "error" in got:
        return {"error": "raises " + got["error"].partition(": ")[0].split(".")[-1]}
    text = got["text"]
    yes = {True: "yes", False: "no"}
    if kind == "pptx":
        return {
            "deck title": _where("Cycling Lanes Pilot Review", got),
            "bullet fact": _where("rose by 31 percent", got),
            "speaker notes": _where("48,000 euros", got),
            "notes after own slide's title": yes[_before("Results", "48,000 euros", text)],
            "slide numbers": yes[bool(re.search(r"slide( number:)? ?2\b", text, re.I))],
        }
    if kind == "xlsx":
        return {
            "both sheets": yes["Kestrel Point" in text and "Mast repainting" in text],
            "sheet names": yes["Stations" in text and "Budget" in text],
            "header row 3 as header": yes[
                bool(re.search(r"\|\s*Station\s*\|\s*Region[^\n]*\n\|\s*-", text))
            ],
            "row fact": yes[bool(re.search(r"Brennan Ridge\W+Highlands\W+2004\W+22", text))],
        }
    if kind == "csv":
        return {
            "all rows": yes["Marlow Public Library" in text and "Old Mill Library" in text],
            "header kept": yes["Founded" in text],
            "row fact": yes[bool(re.search(r"Quayside Library[\s\S]{0,60}1904", text))],
        }
    if kind == "epub":
        return {
            "book title": _where("Notes from the Lighthouse Keeper", got),
            "author": _where("Ingrid Solberg", got),
            "chapter titles": yes["Chapter One: Arrival" in text and "The Long Winter" in text],
            "spine order": yes[_before("Chapter One", "Chapter Two", text)],
            "nav (ToC) left out": yes[text.count("Chapter One: Arrival") == 1],
        }
    if kind == "odt":
        return {
            "meta title": _where("Orchard Cooperative Annual Report", got),
            "heading": yes["Harvest" in text],
            "table": yes[bool(re.search(r"Bramley\W+212\W+October", text))],
            "body order": yes[
                _before("Hereford", "Bramley", text) and _before("Bramley", "23,000 pounds", text)
            ],
        }
    if kind == "eml":
        return {
            "subject": _where("Choir rehearsal moved", got),
            "from (name)": _where("Helen Marsh", got),
            "date": _where("19 Feb 2024", got),
            "body, decoded": yes["rehearsals move to the Corn Exchange, room 12, starting" in text],
            "body once (no HTML copy)": yes[text.count("Corn Exchange, room 12") == 1],
            "attachment text": _where("Locus iste", got),
            "no raw MIME": yes["Content-Transfer-Encoding" not in text],
        }
    if kind == "docx":
        return {"fact": _where("six hens", got)}
    if kind == "pdf":
        return {"both pages": yes["Inchkeith" in text and "14 pounds" in text]}
    if kind.startswith("scan"):
        return {"64 hives": yes["64 hives" in text], "word recall": f"{word_recall(text):.0%}"}
    raise ValueError(kind)


def word_recall(text: str) -> float:
    sys.path.insert(0, str(ROOT / "tests"))
    from office_documents import SCAN_LINES

    expected = re.findall(r"[a-z0-9']+", " ".join(SCAN_LINES).lower())
    got = set(re.findall(r"[a-z0-9']+", text.lower()))
    return sum(word in got for word in expected) / len(expected)


def failure(kind: str, got: dict, fact: str) -> str:
    """How a reader met a damaged or encrypted file: raised (what), or returned text."""
    if "skipped" in got:
        return "-"
    if "error" in got:
        kind_of, _, message = got["error"].partition(": ")
        kind_of = kind_of.split(".")[-1]
        message = message.removeprefix(kind_of + ": ").replace("\n", " ")
        message = re.sub(r"/tmp/\S+/", "", message)
        return f"raises {kind_of}: {message[:60]}"
    text = got["text"].strip()
    return (
        f"returns {len(text)} chars" + (" (fact kept)" if fact in text else "")
        if text
        else "returns '' silently"
    )


FACT = {
    "pptx": "31 percent",
    "xlsx": "Kestrel",
    "docx": "six hens",
    "epub": "38 metres",
    "odt": "Bramley",
    "pdf": "Inchkeith",
}

# --------------------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--libvenv", default="/tmp/libvenv")
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--worker", choices=ONE_LIBRARY)
    parser.add_argument("--plan", type=Path)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.plan)
        return

    libpython = str(Path(args.libvenv) / "bin" / "python")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        print("writing the files ...", file=sys.stderr)
        files = make_files(folder)
        tasks = []
        for group, paths in files.items():
            for kind, path in paths.items():
                tasks.append(
                    {
                        "id": f"{group}:{kind}",
                        "kind": kind.split("@")[0],
                        "path": str(path),
                        "mode": "time" if group == "big" else "read",
                    }
                )
        for kind in ("scan_pdf", "scan_png"):  # OCR: seconds per page, on a scan all read
            tasks.append(
                {
                    **next(t for t in tasks if t["id"] == f"ocr:{kind}@0.01"),
                    "id": f"time:{kind}",
                    "mode": "time",
                }
            )
        plan = folder / "plan.json"
        plan.write_text(json.dumps(tasks))

        results: dict[str, dict] = {}
        print("field libraries ...", file=sys.stderr)
        results["field"] = {t["id"]: run_task(FIELD[t["kind"]], t) for t in tasks}
        for name in ONE_LIBRARY:
            print(f"{name} ...", file=sys.stderr)
            done = subprocess.run(
                [libpython, __file__, "--worker", name, "--plan", str(plan)],
                capture_output=True,
                text=True,
                check=True,
                env={**os.environ, "PYTHONWARNINGS": "ignore"},
            )
            results[name] = json.loads(done.stdout.strip().splitlines()[-1])
        sizes = {t["id"]: Path(t["path"]).stat().st_size for t in tasks}

    imports = {
        "kreuzberg": import_seconds(libpython, "import kreuzberg"),
        "markitdown": import_seconds(
            libpython, "from markitdown import MarkItDown; MarkItDown(enable_plugins=False)"
        ),
        "field (all)": import_seconds(
            sys.executable,
            "import pptx, openpyxl, csv, zipfile, lxml.etree, odf.opendocument, email, docx, pypdf",
        ),
    }
    for module in ("pptx", "openpyxl", "odf.opendocument", "docx", "pypdf", "lxml.etree"):
        imports[module] = import_seconds(sys.executable, f"import {module}")

    report = build_report(results, sizes, imports)
    print(report)
    if args.json:
        for reader in results.values():
            for got in reader.values():
                got.pop("extra", None)
                if "text" in got:
                    got["text"] = got["text"][:2000]
        args.json.write_text(
            json.dumps({"results": results, "sizes": sizes, "imports": imports}, indent=1)
        )


def build_report(results: dict, sizes: dict, imports: dict) -> str:
    readers = ["field", *ONE_LIBRARY]
    out = ["## What each reads (small files)", ""]
    for kind in (
        "pptx",
        "xlsx",
        "csv",
        "epub",
        "odt",
        "eml",
        "docx",
        "pdf",
        "scan_pdf",
        "scan_png",
    ):
        per = {r: checks(kind, results[r][f"small:{kind}"]) for r in readers}
        names = list(next(v for v in per.values() if "error" not in v))
        out += [
            f"### {kind}",
            "",
            "| check | " + " | ".join(readers) + " |",
            "|---|" + "---|" * len(readers),
        ]
        for name in names:
            out.append(
                f"| {name} | "
                + " | ".join(per[r].get(name, per[r].get("error", "?"))[:60] for r in readers)
                + " |"
            )
        out.append("")
    out += [
        "## OCR word recall by noise (fraction of scan words found)",
        "",
        "| file | " + " | ".join(readers) + " |",
        "|---|" + "---|" * len(readers),
    ]
    for key in sorted(k for k in results["field"] if k.startswith("ocr:")):
        row = []
        for r in readers:
            got = results[r][key]
            if "skipped" in got or "error" in got:
                row.append("-" if "skipped" in got else "error")
            else:
                row.append(f"{word_recall(got['text']):.0%}")
        out.append(f"| {key[4:]} | " + " | ".join(row) + " |")
    out += [
        "",
        "## Speed: seconds per MB of file (text MB/s), best of 3 after a warm-up",
        "",
        "| format | file MB | " + " | ".join(readers) + " |",
        "|---|---|" + "---|" * len(readers),
    ]
    for key in sorted(k for k in results["field"] if k.startswith("big:")):
        mb = sizes[key] / 1e6
        row = []
        for r in readers:
            got = results[r][key]
            if "skipped" in got or "error" in got:
                row.append("-" if "skipped" in got else "error")
            else:
                row.append(
                    f"{got['seconds'] / mb:.2f} s ({got['chars'] / 1e6 / got['seconds']:.1f})"
                )
        out.append(f"| {key[4:]} | {mb:.2f} | " + " | ".join(row) + " |")
    for key in ("time:scan_pdf", "time:scan_png"):
        row = []
        for r in readers:
            got = results[r][key]
            if "skipped" in got or "error" in got:
                row.append("-" if "skipped" in got else "error")
            else:
                row.append(f"{got['seconds']:.2f} s/page" + ("" if got["chars"] else " (no text)"))
        out.append(
            f"| {key[5:]} noise 0.01 (OCR) | {sizes[key] / 1e6:.2f} | " + " | ".join(row) + " |"
        )
    for group in ("damaged", "encrypted"):
        out += [
            "",
            f"## {group.capitalize()} files",
            "",
            "| format | " + " | ".join(readers) + " |",
            "|---|" + "---|" * len(readers),
        ]
        for key in sorted(k for k in results["field"] if k.startswith(group + ":")):
            kind = key.split(":")[1]
            out.append(
                f"| {kind} | "
                + " | ".join(failure(kind, results[r][key], FACT[kind]) for r in readers)
                + " |"
            )
    out += [
        "",
        "## Import time (in-process, best of 3 after a warm-up)",
        "",
        "| import | s |",
        "|---|---|",
    ]
    out += [f"| {name} | {seconds:.3f} |" for name, seconds in imports.items()]
    return "\n".join(out)


if __name__ == "__main__":
    main()
