"""Real files of each format, written by the tests: PDF (by hand, the smallest valid
file with a text layer), Word (python-docx), HTML and Markdown (as people save them).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from pathlib import Path
from typing import Literal


def write_pdf(path: Path, pages: list[list[str]], title: str | None = None) -> Path:
    """A PDF whose page i prints the lines pages[i] in Helvetica; a page given as [] has
    no text at all (like a scan, whose page is an image). `title` goes in /Info."""
    objects: list[bytes] = []

    def add(body: bytes) -> int:
        objects.append(body)
        return len(objects)

    font = add(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    pages_at = add(b"")  # filled in below, once the kids are known
    kids = []
    for lines in pages:
        if lines:
            ops = [b"BT /F1 11 Tf 14 TL 72 720 Td"]
            for line in lines:
                escaped = line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
                ops.append(b"(" + escaped.encode("latin-1") + b") Tj T*")
            ops.append(b"ET")
        else:
            ops = [b"0.5 g 72 72 468 648 re f"]  # a grey box: ink, but no text
        stream = b"\n".join(ops)
        content = add(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
        kids.append(
            add(
                b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 612 792] "
                b"/Resources << /Font << /F1 %d 0 R >> >> /Contents %d 0 R >>"
                % (pages_at, font, content)
            )
        )
    objects[pages_at - 1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (
        b" ".join(b"%d 0 R" % k for k in kids),
        len(kids),
    )
    catalog = add(b"<< /Type /Catalog /Pages %d 0 R >>" % pages_at)
    info = add(b"<< /Title (%s) >>" % title.encode("latin-1")) if title else None

    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for n, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % n + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    trailer = b"<< /Size %d /Root %d 0 R" % (len(objects) + 1, catalog)
    if info:
        trailer += b" /Info %d 0 R" % info
    out += b"trailer\n" + trailer + b" >>\nstartxref\n%d\n%%%%EOF\n" % xref
    path.write_bytes(bytes(out))
    return path


def write_docx(path: Path, title: str, heading: str, paragraphs: list[str]) -> Path:
    import docx

    document = docx.Document()
    document.core_properties.title = title
    document.core_properties.author = "Field Office"
    document.core_properties.created = datetime.datetime(2024, 6, 10)
    document.add_heading(heading, level=1)
    for paragraph in paragraphs:
        document.add_paragraph(paragraph)
    document.save(str(path))
    return path


NEWS_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>Harbour Museum opens its new wing | Harbour Times</title>
<meta property="og:site_name" content="Harbour Times">
<meta name="author" content="Jo Smith">
<script>window.analytics = {track: function () {}};</script>
</head><body>
<header><nav><ul><li><a href="/">Home</a></li><li><a href="/sport">Sport</a></li>
<li><a href="/weather">Weather forecast for the lighthouse coast</a></li></ul></nav></header>
<div class="cookie-banner">We use cookies to improve your experience. Accept all cookies.</div>
<main><article>
<h1>Harbour Museum opens its new wing</h1>
<p class="byline">By Jo Smith, <time datetime="2023-05-04T09:00:00">4 May 2023</time></p>
<p>The Harbour Museum opened its new east wing on Tuesday after three years of building work.</p>
<p>The wing holds 4,000 ship models, the largest collection of its kind in the country.</p>
<p>Curator Amelia Hart said the oldest model, a Dutch trading ship, dates from 1690.</p>
<p>The museum expects 200,000 visitors a year, and entry is free on Sundays.</p>
<p>A cafe on the top floor looks out over the old dry dock and the river mouth.</p>
</article></main>
<footer><p>Copyright 2023 Harbour Times. All rights reserved. Terms of use.</p></footer>
</body></html>
"""


def write_html(path: Path) -> Path:
    path.write_text(NEWS_PAGE, encoding="utf-8")
    return path


def write_minutes_docx(path: Path) -> Path:
    """Word minutes as people write them: a running header and footer, a heading, then a
    table of officers under its own heading (one merged row), then more paragraphs."""
    import docx

    document = docx.Document()
    document.core_properties.title = "Garden Club Minutes"
    section = document.sections[0]
    section.header.paragraphs[0].text = "Garden Club - Minutes - Confidential"
    section.footer.paragraphs[0].text = "Page 1 of 1"
    document.add_heading("Garden Club Minutes", level=1)
    document.add_paragraph("The meeting opened at 7 pm in the village hall.")
    document.add_heading("Officers", level=2)
    table = document.add_table(rows=3, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "Role", "Name"
    table.cell(1, 0).text, table.cell(1, 1).text = "Treasurer", "Maria Okafor"
    table.cell(2, 0).merge(table.cell(2, 1)).text = "Secretary post vacant"
    document.add_paragraph("The next meeting will be held on 18 March.")
    document.save(str(path))
    return path


@dataclass(frozen=True)
class Placed:
    """One printed line of a page written by `write_placed_pdf`: its text, where its
    baseline starts (x, y in points from the page's bottom left), its font size and
    which base-14 font prints it."""

    text: str
    x: float
    y: float
    size: float = 11.0
    font: str = "Helvetica"


# Codes of the ligature glyphs in the fonts `write_placed_pdf` writes (by /Differences:
# pypdf reads them back through the glyph names, as from a real file's font).
_LIGATURES = {"\ufb00": "ff", "\ufb01": "fi", "\ufb02": "fl", "\ufb03": "ffi", "\ufb04": "ffl"}
_LIGATURE_CODES = {char: 1 + i for i, char in enumerate(_LIGATURES)}
# TeX's Computer Modern fonts in their own (OT1) encoding: ff fi fl ffi ffl at 11-15.
_OT1_CODES = {char: 11 + i for i, char in enumerate(_LIGATURES)}


def write_placed_pdf(
    path: Path,
    pages: list[list[Placed]],
    title: str | None = None,
    outline: list[tuple[str, int]] | None = None,
    size: tuple[float, float] = (612, 792),
    ligatures: Literal["named", "underscored", "ot1"] = "named",
    forms: bool = False,
) -> Path:
    """A PDF whose page i prints each line of pages[i] where it says, in the order the
    list gives (the content stream's order, which need not be the printed order).

    Text is encoded in WinAnsi; the ligatures ﬀ ﬁ ﬂ ﬃ ﬄ print as their own glyphs, named
    "fi" ("named"), or "f_i" as OpenType fonts name them ("underscored"); or, with "ot1",
    every font is a TeX font without an encoding or a ToUnicode map, whose ligatures have
    the codes 11-15 (text other than ligatures is then ASCII). With `forms`, each line is
    a form XObject of its own, which the page draws where the line goes (as stamping and
    imposing tools do). `title` goes in /Info; `outline` is a flat list of (bookmark
    title, 0-based page index)."""
    fonts = sorted({line.font for page in pages for line in page} | {"Helvetica"})
    objects: list[bytes] = []

    def add(body: bytes) -> int:
        objects.append(body)
        return len(objects)

    def glyph(char: str) -> bytes:
        name = _LIGATURES[char]
        return ("_".join(name) if ligatures == "underscored" else name).encode()

    differences = b" ".join(b"%d /%s" % (code, glyph(c)) for c, code in _LIGATURE_CODES.items())
    font_ids = {
        name: add(
            b"<< /Type /Font /Subtype /Type1 /BaseFont /CMR%d >>" % (10 + i)
            if ligatures == "ot1"
            else b"<< /Type /Font /Subtype /Type1 /BaseFont /%s /Encoding << /Type /Encoding "
            b"/BaseEncoding /WinAnsiEncoding /Differences [%s] >> >>" % (name.encode(), differences)
        )
        for i, name in enumerate(fonts)
    }
    codes = _OT1_CODES if ligatures == "ot1" else _LIGATURE_CODES
    resources = b"<< /Font << %s >> >>" % b" ".join(
        b"/F%d %d 0 R" % (i, font_ids[name]) for i, name in enumerate(fonts)
    )
    pages_at = add(b"")
    kids = []
    for page in pages:
        ops = []
        placed = []
        for line in page:
            encoded = b"".join(
                bytes([codes[c]]) if c in codes else c.encode("cp1252") for c in line.text
            )
            escaped = encoded.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")
            font_size = b"/F%d %.2f Tf" % (fonts.index(line.font), line.size)
            if forms:
                drawn = b"BT %s 0 0 Td (%s) Tj ET" % (font_size, escaped)
                form = add(
                    b"<< /Type /XObject /Subtype /Form /BBox [0 -20 %.2f 40] /Matrix [1 0 0 1 0 0] "
                    b"/Resources %s /Length %d >>\nstream\n%s\nendstream"
                    % (size[0], resources, len(drawn), drawn)
                )
                placed.append(b"/Fm%d %d 0 R" % (len(placed), form))
                ops.append(b"q 1 0 0 1 %.2f %.2f cm /Fm%d Do Q" % (line.x, line.y, len(placed) - 1))
            else:
                ops.append(
                    b"BT %s 1 0 0 1 %.2f %.2f Tm (%s) Tj ET" % (font_size, line.x, line.y, escaped)
                )
        stream = b"\n".join(ops)
        content = add(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
        page_resources = resources
        if placed:
            page_resources = resources[:-2] + b" /XObject << %s >> >>" % b" ".join(placed)
        kids.append(
            add(
                b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 %.2f %.2f] /Resources %s "
                b"/Contents %d 0 R >>" % (pages_at, size[0], size[1], page_resources, content)
            )
        )
    objects[pages_at - 1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (
        b" ".join(b"%d 0 R" % k for k in kids),
        len(kids),
    )
    catalog_extra = b""
    if outline:
        root = add(b"")
        items = [len(objects) + 1 + i for i in range(len(outline))]
        for i, (text, page_index) in enumerate(outline):
            links = b""
            if i > 0:
                links += b" /Prev %d 0 R" % items[i - 1]
            if i + 1 < len(items):
                links += b" /Next %d 0 R" % items[i + 1]
            add(
                b"<< /Title (%s) /Parent %d 0 R /Dest [%d 0 R /Fit]%s >>"
                % (text.encode("latin-1"), root, kids[page_index], links)
            )
        objects[root - 1] = b"<< /Type /Outlines /First %d 0 R /Last %d 0 R /Count %d >>" % (
            items[0],
            items[-1],
            len(items),
        )
        catalog_extra = b" /Outlines %d 0 R" % root
    catalog = add(b"<< /Type /Catalog /Pages %d 0 R%s >>" % (pages_at, catalog_extra))
    info = add(b"<< /Title (%s) >>" % title.encode("latin-1")) if title else None

    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for n, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % n + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    trailer = b"<< /Size %d /Root %d 0 R" % (len(objects) + 1, catalog)
    if info:
        trailer += b" /Info %d 0 R" % info
    out += b"trailer\n" + trailer + b" >>\nstartxref\n%d\n%%%%EOF\n" % xref
    path.write_bytes(bytes(out))
    return path


def write_stream_pdf(path: Path, content: str, fonts: dict[str, str]) -> Path:
    """A one-page PDF (595 x 842) whose content stream is `content`, as a generator
    writes it (groff's word spacing, kerning moves and TJ arrays), with the base-14
    `fonts` it names (resource name -> font, in WinAnsi)."""
    font_objects = {name: 3 + i for i, name in enumerate(fonts)}
    stream = content.encode("cp1252")
    resources = " ".join(f"/{name} {n} 0 R" for name, n in font_objects.items())
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [%d 0 R] /Count 1 >>" % (3 + len(fonts)),
        *(
            b"<< /Type /Font /Subtype /Type1 /BaseFont /%s /Encoding /WinAnsiEncoding >>"
            % font.encode()
            for font in fonts.values()
        ),
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << %s >> "
        b">> /Contents %d 0 R >>" % (resources.encode(), 4 + len(fonts)),
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for n, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % n + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    path.write_bytes(bytes(out))
    return path
