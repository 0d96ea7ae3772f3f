"""Real files of the formats the product is about to read, written by the tests with
each field's own library: PowerPoint (python-pptx), Excel (openpyxl), CSV (csv), EPUB 3
(zipfile, by hand), OpenDocument text (odfpy), e-mail (the stdlib email package), a
scanned page (pypdfium2 + Pillow + numpy: an image-only PDF, PNG or TIFF with no text
layer), a truncated copy of any file, and password-protected OOXML (msoffcrypto-tool).

Each maker writes one distinct fact; `FACTS` maps a format name to (a question about that
fact, a substring of the sentence or row that answers it: for a table row, its first
cell). The facts are about unrelated topics so that a test can ask about one without
another answering it.
"""

from __future__ import annotations

import csv
import datetime
import io
import mimetypes
import zipfile
from collections.abc import Sequence
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

# --------------------------------------------------------------------------- facts

PPTX_TITLE = "Cycling Lanes Pilot Review"
PPTX_SUBTITLE = "Municipal Transport Board, spring 2024"
PPTX_SLIDE_TITLE = "Results"
PPTX_BULLETS = [
    "Bike traffic on Spoorlaan rose by 31 percent during the pilot.",
    "Average commute time fell by four minutes.",
]
PPTX_NOTES = "The pilot cost 48,000 euros and ran for nine weeks in Tilburg."

XLSX_TITLE = "Weather station register 2023"
XLSX_STATIONS_HEADER = ["Station", "Region", "Opened", "Sensors"]
XLSX_STATIONS = [
    ["Kestrel Point", "North Coast", 1987, 14],
    ["Harlow Fen", "Lowlands", 1962, 9],
    ["Brennan Ridge", "Highlands", 2004, 22],
    ["Saltmarsh Quay", "East Estuary", 1978, 11],
]
XLSX_BUDGET_HEADER = ["Item", "Quarter", "Amount (EUR)"]
XLSX_BUDGET = [
    ["Anemometer replacement", "Q1", 12500],
    ["Data logger firmware", "Q2", 3200],
    ["Mast repainting", "Q3", 7800],
]

CSV_HEADER = ["Library", "City", "Books", "Founded"]
CSV_ROWS = [
    ["Marlow Public Library", "Marlow", 84000, 1893],
    ["Grey Abbey Reading Room", "Ardmore", 12500, 1921],
    ["Northgate Branch", "Leeds", 46300, 1968],
    ["Quayside Library", "Bristol", 61750, 1904],
    ["Pinewood Community Library", "Aviemore", 9800, 1985],
    ["Old Mill Library", "Kendal", 27400, 1952],
]

EPUB_TITLE = "Notes from the Lighthouse Keeper"
EPUB_AUTHOR = "Ingrid Solberg"
EPUB_DATE = "2019-03-14"
# Spine order: b.xhtml first, then a.xhtml (file names and manifest order say otherwise).
EPUB_CHAPTERS = [
    (
        "b.xhtml",
        "Chapter One: Arrival",
        [
            "I arrived on Skarv Island in October 1958, on the mail boat from Bodo.",
            "The lighthouse tower is 38 metres tall and its lamp can be seen 19 nautical "
            "miles out to sea.",
        ],
    ),
    (
        "a.xhtml",
        "Chapter Two: The Long Winter",
        [
            "That first winter the supply boat could not land for 47 days.",
            "We lived on dried cod, potatoes and the tinned peaches my sister had sent.",
        ],
    ),
]

ODT_TITLE = "Orchard Cooperative Annual Report"
ODT_HEADING = "Harvest"
ODT_INTRO = "The cooperative picked apples and pears from its orchards near Hereford."
ODT_TABLE_HEADER = ["Variety", "Tonnes", "Best month"]
ODT_TABLE = [
    ["Bramley", "212", "October"],
    ["Cox's Orange Pippin", "138", "September"],
    ["Conference pear", "96", "September"],
]
ODT_AFTER_TABLE = "The new cider press, bought for 23,000 pounds, doubled juice output."

EML_SUBJECT = "Choir rehearsal moved to the Corn Exchange"
EML_FROM = "Helen Marsh <helen.marsh@example.org>"
EML_TO = "Choir Members <choir@example.org>"
EML_DATE = datetime.datetime(2024, 2, 19, 18, 30, tzinfo=datetime.timezone.utc)
EML_BODY = (
    "Dear all,\n\n"
    "From 4 March our Thursday rehearsals move to the Corn Exchange, room 12, "
    "starting at 7:45 pm.\n\n"
    "Best wishes,\nHelen\n"
)
EML_ATTACHMENT_NAME = "programme.csv"
EML_ATTACHMENT = (
    "Piece,Composer,Minutes\n"
    "Zadok the Priest,George Frideric Handel,6\n"
    "Locus iste,Anton Bruckner,3\n"
    "The Lamb,John Tavener,4\n"
)

SCAN_TITLE = "Beekeeping Club Newsletter"
SCAN_LINES = [
    "Beekeeping Club Newsletter",
    "",
    "Our club now keeps 64 hives on the allotments behind Fernside Road.",
    "The spring honey harvest came to 310 kilograms this year.",
    "Members meet on the first Saturday of each month at ten o'clock.",
    "New members should bring a veil and gloves to their first visit.",
]

PASSWORD = "Passw0rd"

FACTS: dict[str, tuple[str, str]] = {
    "pptx": ("By how much did bike traffic on Spoorlaan rise?", "rose by 31 percent"),
    "pptx_notes": ("How much did the pilot cost?", "cost 48,000 euros"),
    "xlsx": ("When did Brennan Ridge station open?", "Brennan Ridge"),
    "xlsx_budget": ("How much was spent on mast repainting?", "Mast repainting"),
    "csv": ("When was Quayside Library founded?", "Quayside Library"),
    "epub": ("How tall is the lighthouse tower?", "38 metres tall"),
    "epub_chapter2": ("How long could the supply boat not land?", "for 47 days"),
    "odt": ("How many tonnes of Bramley were picked?", "Bramley"),
    "odt_after_table": ("How much did the new cider press cost?", "23,000 pounds"),
    "eml": ("Where do the choir rehearsals move to?", "move to the Corn Exchange"),
    "eml_attachment": ("Who composed Locus iste?", "Locus iste"),
    "scan": ("How many hives does the beekeeping club keep?", "64 hives"),
}

# --------------------------------------------------------------------------- PowerPoint


def write_pptx(path: Path, extra_slides: int = 0) -> Path:
    """Two slides: a title slide (its title is the deck's title, also in the core
    properties) and a "Title and Content" slide with bullets and speaker notes.
    `extra_slides` appends that many filler slides (for size benchmarks)."""
    from pptx import Presentation

    deck = Presentation()
    deck.core_properties.title = PPTX_TITLE
    deck.core_properties.author = "Transport Board"
    title_slide = deck.slides.add_slide(deck.slide_layouts[0])  # "Title Slide"
    title_slide.shapes.title.text = PPTX_TITLE
    title_slide.placeholders[1].text = PPTX_SUBTITLE

    slide = deck.slides.add_slide(deck.slide_layouts[1])  # "Title and Content"
    slide.shapes.title.text = PPTX_SLIDE_TITLE
    body = slide.placeholders[1].text_frame
    body.text = PPTX_BULLETS[0]
    for bullet in PPTX_BULLETS[1:]:
        body.add_paragraph().text = bullet
    slide.notes_slide.notes_text_frame.text = PPTX_NOTES

    for n in range(extra_slides):
        filler = deck.slides.add_slide(deck.slide_layouts[1])
        filler.shapes.title.text = f"Depot {n + 3}"
        frame = filler.placeholders[1].text_frame
        frame.text = f"Depot {n + 3} stores {n % 40 + 5} bicycles for the rental scheme."
        frame.add_paragraph().text = f"It opens at {6 + n % 4} am on weekdays."
        filler.notes_slide.notes_text_frame.text = f"Depot {n + 3} manager is on rota {n % 7}."
    deck.save(str(path))
    return path


# --------------------------------------------------------------------------- Excel


def write_xlsx(path: Path, extra_rows: int = 0) -> Path:
    """Two sheets. "Stations": a title line in A1, a blank row, then the header on row 3
    and the data. "Budget": header on row 1. `extra_rows` appends filler station rows."""
    import openpyxl

    book = openpyxl.Workbook()
    book.properties.title = XLSX_TITLE
    stations = book.active
    stations.title = "Stations"
    stations.append([XLSX_TITLE])
    stations.append([])
    stations.append(XLSX_STATIONS_HEADER)
    for row in XLSX_STATIONS:
        stations.append(row)
    for n in range(extra_rows):
        stations.append([f"Outpost {n}", f"Sector {n % 12}", 1950 + n % 70, n % 30 + 1])

    budget = book.create_sheet("Budget")
    budget.append(XLSX_BUDGET_HEADER)
    for row in XLSX_BUDGET:
        budget.append(row)
    book.save(str(path))
    return path


# --------------------------------------------------------------------------- CSV


def csv_text(extra_rows: int = 0) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    writer.writerows(CSV_ROWS)
    for n in range(extra_rows):
        writer.writerow([f"Branch library {n}", f"Town {n % 97}", 1000 + n, 1900 + n % 120])
    return out.getvalue()


def write_csv(path: Path, extra_rows: int = 0) -> Path:
    """A header row and six libraries (name, city, books, year founded)."""
    path.write_text(csv_text(extra_rows), encoding="utf-8", newline="")
    return path


# --------------------------------------------------------------------------- EPUB 3

_CONTAINER = """<?xml version="1.0" encoding="UTF-8"?>
<container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container">
  <rootfiles>
    <rootfile full-path="OEBPS/content.opf" media-type="application/oebps-package+xml"/>
  </rootfiles>
</container>
"""


def _xhtml(title: str, body: str) -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE html>\n'
        '<html xmlns="http://www.w3.org/1999/xhtml" '
        'xmlns:epub="http://www.idpf.org/2007/ops" lang="en" xml:lang="en">\n'
        f'<head><meta charset="utf-8"/><title>{title}</title></head>\n'
        f"<body>\n{body}\n</body>\n</html>\n"
    )


def write_epub(path: Path, filler: Sequence[str] = ()) -> Path:
    """A valid EPUB 3: `mimetype` stored first, container.xml, content.opf (title,
    creator, date), nav.xhtml and two chapters. The spine reads b.xhtml then a.xhtml,
    while the manifest (and the file names) list a.xhtml first, so only a reader that
    follows the spine gets the chapters in order. `filler` paragraphs are appended to
    each chapter (for size benchmarks)."""
    from xml.sax.saxutils import escape

    chapters = {}
    for name, title, paragraphs in EPUB_CHAPTERS:
        paras = [*paragraphs, *filler]
        body = (
            f'<section epub:type="chapter"><h1>{escape(title)}</h1>\n'
            + "\n".join(f"<p>{escape(p)}</p>" for p in paras)
            + "\n</section>"
        )
        chapters[name] = _xhtml(escape(title), body)

    nav_items = "\n".join(
        f'<li><a href="{name}">{escape(title)}</a></li>' for name, title, _ in EPUB_CHAPTERS
    )
    nav = _xhtml(
        "Contents",
        f'<nav epub:type="toc" id="toc"><h1>Contents</h1><ol>\n{nav_items}\n</ol></nav>',
    )
    opf = f"""<?xml version="1.0" encoding="UTF-8"?>
<package xmlns="http://www.idpf.org/2007/opf" version="3.0" unique-identifier="uid" xml:lang="en">
  <metadata xmlns:dc="http://purl.org/dc/elements/1.1/">
    <dc:identifier id="uid">urn:uuid:6f1c2a4e-8d3b-4b7a-9e21-5c0d7f3a9b11</dc:identifier>
    <dc:title>{escape(EPUB_TITLE)}</dc:title>
    <dc:creator>{escape(EPUB_AUTHOR)}</dc:creator>
    <dc:date>{EPUB_DATE}</dc:date>
    <dc:language>en</dc:language>
    <meta property="dcterms:modified">2019-03-14T00:00:00Z</meta>
  </metadata>
  <manifest>
    <item id="nav" href="nav.xhtml" media-type="application/xhtml+xml" properties="nav"/>
    <item id="ch_a" href="a.xhtml" media-type="application/xhtml+xml"/>
    <item id="ch_b" href="b.xhtml" media-type="application/xhtml+xml"/>
  </manifest>
  <spine>
    <itemref idref="ch_b"/>
    <itemref idref="ch_a"/>
  </spine>
</package>
"""
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(
            zipfile.ZipInfo("mimetype"), "application/epub+zip", compress_type=zipfile.ZIP_STORED
        )
        archive.writestr("META-INF/container.xml", _CONTAINER, compress_type=zipfile.ZIP_DEFLATED)
        archive.writestr("OEBPS/content.opf", opf, compress_type=zipfile.ZIP_DEFLATED)
        archive.writestr("OEBPS/nav.xhtml", nav, compress_type=zipfile.ZIP_DEFLATED)
        for name in ("a.xhtml", "b.xhtml"):  # archive order follows the names too
            archive.writestr(f"OEBPS/{name}", chapters[name], compress_type=zipfile.ZIP_DEFLATED)
    return path


# --------------------------------------------------------------------------- OpenDocument


def write_odt(path: Path, filler: Sequence[str] = ()) -> Path:
    """OpenDocument text: meta title, a heading, a paragraph, a table (header row and
    three rows), then a paragraph after the table; `filler` paragraphs go at the end."""
    from odf.dc import Title
    from odf.opendocument import OpenDocumentText
    from odf.table import Table, TableCell, TableColumn, TableRow
    from odf.text import H, P

    document = OpenDocumentText()
    document.meta.addElement(Title(text=ODT_TITLE))
    document.text.addElement(H(outlinelevel=1, text=ODT_HEADING))
    document.text.addElement(P(text=ODT_INTRO))

    table = Table(name="Harvest")
    table.addElement(TableColumn(numbercolumnsrepeated=len(ODT_TABLE_HEADER)))
    for row in [ODT_TABLE_HEADER, *ODT_TABLE]:
        table_row = TableRow()
        for value in row:
            cell = TableCell(valuetype="string")
            cell.addElement(P(text=value))
            table_row.addElement(cell)
        table.addElement(table_row)
    document.text.addElement(table)
    document.text.addElement(P(text=ODT_AFTER_TABLE))
    for paragraph in filler:
        document.text.addElement(P(text=paragraph))
    document.save(str(path))
    return path


# --------------------------------------------------------------------------- e-mail


def write_eml(path: Path, attachment: Path | None = None) -> Path:
    """An e-mail (RFC 5322, stdlib email): Subject, From "Name <addr>", To, Date, a plain
    body and an HTML alternative, and one attachment: a concert programme CSV with its
    own fact (or the file `attachment`, with the MIME type its name gives)."""
    message = EmailMessage()
    message["Subject"] = EML_SUBJECT
    message["From"] = EML_FROM
    message["To"] = EML_TO
    message["Date"] = format_datetime(EML_DATE)
    message["Message-ID"] = "<choir-20240219@example.org>"
    message.set_content(EML_BODY)
    html_body = "".join(
        f"<p>{p.replace(chr(10), '<br>')}</p>" for p in EML_BODY.strip().split("\n\n")
    )
    message.add_alternative(f"<html><body>{html_body}</body></html>", subtype="html")
    if attachment is None:
        message.add_attachment(EML_ATTACHMENT, subtype="csv", filename=EML_ATTACHMENT_NAME)
    else:
        data = attachment.read_bytes()
        if attachment.suffix in (".csv", ".txt"):
            subtype = "csv" if attachment.suffix == ".csv" else "plain"
            message.add_attachment(data.decode("utf-8"), subtype=subtype, filename=attachment.name)
        else:
            guessed = mimetypes.guess_type(attachment.name)[0] or "application/octet-stream"
            maintype, subtype = guessed.split("/")
            message.add_attachment(
                data, maintype=maintype, subtype=subtype, filename=attachment.name
            )
    path.write_bytes(message.as_bytes())
    return path


# --------------------------------------------------------------------------- scans


def write_scan_source(path: Path) -> Path:
    """The text PDF the scans are made from (one page, `SCAN_LINES`)."""
    from documents import write_pdf

    return write_pdf(path, [SCAN_LINES], title=SCAN_TITLE)


def _scanned(source_pdf: Path, page: int, dpi: int, angle: float, noise: float, seed: int):
    import numpy as np
    import pypdfium2 as pdfium
    from PIL import Image

    pdf = pdfium.PdfDocument(str(source_pdf))
    try:
        image = pdf[page].render(scale=dpi / 72).to_pil().convert("L")
    finally:
        pdf.close()
    image = image.rotate(angle, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=255)
    rng = np.random.default_rng(seed)
    pixels = np.asarray(image, dtype=np.float32)
    pixels += rng.normal(0.0, 12.0, pixels.shape)  # sensor grain
    speckle = rng.random(pixels.shape)
    pixels[speckle < noise / 2] = 0.0  # pepper
    pixels[speckle > 1 - noise / 2] = 255.0  # salt
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), mode="L")


def write_scanned_pdf(
    path: Path,
    source_pdf: Path,
    page: int = 0,
    dpi: int = 200,
    angle: float = 0.7,
    noise: float = 0.04,
    seed: int = 0,
) -> Path:
    """Page `page` of a text PDF as a scanner gives it: rendered at `dpi`, greyscale,
    rotated `angle` degrees (white fill), grain and salt-and-pepper noise (fraction
    `noise` of pixels), saved as an image-only PDF: no text layer at all."""
    image = _scanned(source_pdf, page, dpi, angle, noise, seed)
    image.save(str(path), "PDF", resolution=float(dpi))
    return path


def write_scan_image(
    path: Path,
    source_pdf: Path,
    page: int = 0,
    dpi: int = 200,
    angle: float = 0.7,
    noise: float = 0.04,
    seed: int = 0,
) -> Path:
    """The same scan as `write_scanned_pdf`, saved as an image (.png, .tif/.tiff, .jpg)."""
    image = _scanned(source_pdf, page, dpi, angle, noise, seed)
    image.save(str(path), dpi=(dpi, dpi))
    return path


# --------------------------------------------------------------------------- damage


def damaged(path: Path, source: Path, fraction: float = 0.5) -> Path:
    """A truncated copy of `source` (its first `fraction` of bytes), as a broken
    download leaves it."""
    data = source.read_bytes()
    path.write_bytes(data[: int(len(data) * fraction)])
    return path


def _encrypt_ooxml(path: Path, plain: Path, password: str) -> Path:
    import msoffcrypto.format.ooxml

    with plain.open("rb") as source, path.open("wb") as out:
        msoffcrypto.format.ooxml.OOXMLFile(source).encrypt(password, out)
    return path


def write_encrypted_xlsx(path: Path, password: str = PASSWORD) -> Path:
    """`write_xlsx`'s workbook, password-protected (ECMA-376 agile encryption: an OLE
    compound file, as Excel writes it; needs msoffcrypto-tool)."""
    plain = path.with_name(path.stem + ".plain.xlsx")
    write_xlsx(plain)
    try:
        return _encrypt_ooxml(path, plain, password)
    finally:
        plain.unlink()


def write_encrypted_pptx(path: Path, password: str = PASSWORD) -> Path:
    """`write_pptx`'s deck, password-protected (see `write_encrypted_xlsx`)."""
    plain = path.with_name(path.stem + ".plain.pptx")
    write_pptx(plain)
    try:
        return _encrypt_ooxml(path, plain, password)
    finally:
        plain.unlink()


def write_encrypted_docx(path: Path, password: str = PASSWORD) -> Path:
    """A Word file (`documents.write_docx`), password-protected."""
    from documents import write_docx

    plain = path.with_name(path.stem + ".plain.docx")
    write_docx(plain, "Allotment Rules", "Rules", ["Each plot holder may keep at most six hens."])
    try:
        return _encrypt_ooxml(path, plain, password)
    finally:
        plain.unlink()
