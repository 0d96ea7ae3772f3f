"""EPUB e-books: the package's XHTML chapters in spine (reading) order, each read by the
HTML reader, its title a section of its own. Read with zipfile and lxml, as an EPUB is a
zip of XHTML files and an OPF package that lists them."""

from __future__ import annotations

import posixpath
import zipfile
from pathlib import Path
from urllib.parse import unquote

from .base import Extracted, Heading, ReadError, check_package, clean_text, first_line, iso_date

_CONTAINER = "META-INF/container.xml"
_NS = {
    "c": "urn:oasis:names:tc:opendocument:xmlns:container",
    "opf": "http://www.idpf.org/2007/opf",
    "dc": "http://purl.org/dc/elements/1.1/",
}
_XHTML = frozenset({"application/xhtml+xml", "text/html"})
# A chapter larger than this unpacked is not prose (an embedded data dump): left out.
MAX_CHAPTER_BYTES = 50_000_000


def read_epub(path: Path) -> Extracted:
    """An e-book: its chapters in spine order, each under its title (a Heading: the
    chapter's <h1>, else its <title>), its navigation document left out. Title, author
    and date from the package's Dublin Core metadata.

    Raises ReadError for a damaged file, one with no package or no chapters, or one
    whose chapters are encrypted (DRM)."""
    from lxml import etree

    from .html import decode_markup, read_markup

    check_package(path, "e-book")
    try:
        with zipfile.ZipFile(path) as book:
            names = set(book.namelist())
            if "META-INF/encryption.xml" in names and _encrypts_text(book):
                raise ReadError("an e-book whose chapters are encrypted (DRM)")
            container = etree.fromstring(book.read(_CONTAINER))
            rootfile = container.find(".//c:rootfile", _NS)
            if rootfile is None or not rootfile.get("full-path"):
                raise ReadError("an e-book without its package (content.opf)")
            opf_name = rootfile.get("full-path", "")
            opf = etree.fromstring(book.read(opf_name))
            base = posixpath.dirname(opf_name)
            manifest = {
                item.get("id"): item
                for item in opf.iterfind("opf:manifest/opf:item", _NS)
                if item.get("id")
            }
            chapters: list[str] = []
            for itemref in opf.iterfind("opf:spine/opf:itemref", _NS):
                item = manifest.get(itemref.get("idref"))
                if item is None or item.get("media-type") not in _XHTML:
                    continue
                if "nav" in (item.get("properties") or "").split():
                    continue  # the table of contents: navigation, not text
                name = posixpath.normpath(posixpath.join(base, unquote(item.get("href", ""))))
                if name not in names or book.getinfo(name).file_size > MAX_CHAPTER_BYTES:
                    continue
                chapters.append(decode_markup(book.read(name)))
    except ReadError:
        raise
    except (KeyError, zipfile.BadZipFile, etree.XMLSyntaxError, OSError, ValueError) as e:
        raise ReadError(f"a damaged e-book ({first_line(e) or type(e).__name__})") from e
    paragraphs: list[str] = []
    for markup in chapters:
        try:
            chapter = read_markup(markup)
        except ReadError:
            continue  # a cover or a page of images: no text
        title = chapter.title
        body = list(chapter.paragraphs)
        if body and isinstance(body[0], Heading) and body[0].level == 1:
            title = title or str(body[0])
            body = body[1:]
        paragraphs += ([Heading(title, 1)] if title else []) + body
    if not paragraphs:
        raise ReadError("an e-book with no text in its chapters")
    return Extracted(
        paragraphs=paragraphs,
        title=_dc(opf, "title"),
        author=_dc(opf, "creator"),
        date=iso_date(_dc(opf, "date")),
    )


def _dc(opf: object, name: str) -> str | None:
    element = opf.find(f"opf:metadata/dc:{name}", _NS)  # type: ignore[attr-defined]
    return clean_text(element.text) if element is not None else None


def _encrypts_text(book: zipfile.ZipFile) -> bool:
    """Whether META-INF/encryption.xml encrypts a chapter (fonts alone are often
    obfuscated, which leaves the text readable)."""
    listing = book.read("META-INF/encryption.xml").decode("utf-8", "replace")
    return any(s in listing for s in (".xhtml", ".html", ".htm"))
