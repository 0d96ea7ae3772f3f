"""Real files of each format, written by the tests: PDF (by hand, the smallest valid
file with a text layer), Word (python-docx), HTML and Markdown (as people save them).
"""

from __future__ import annotations

import datetime
from pathlib import Path


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
