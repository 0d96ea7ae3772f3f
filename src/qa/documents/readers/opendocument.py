"""OpenDocument text (.odt, LibreOffice's own format) through odfpy, like Word: the
body's headings, paragraphs, lists and tables in the order they stand."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .base import Extracted, Heading, ReadError, check_package, clean_text, first_line, iso_date

_TEXT = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"
_TABLE = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
# Inside these the body holds no text of its own that is read (change tracking's
# deleted text, a table of contents or index made from the headings).
_SKIPPED = frozenset(
    {"tracked-changes", "table-of-content", "alphabetical-index", "sequence-decls"}
)


def read_odt(path: Path) -> Extracted:
    """An OpenDocument text: each paragraph and list item a line, each heading a Heading
    at its outline level, each table row a line "cell | cell", in body order. Title,
    author and date from its metadata; the title else its first heading.

    Raises ReadError for an encrypted or damaged file."""
    from odf.opendocument import load

    check_package(path, "OpenDocument file")
    try:
        document = load(str(path))
        paragraphs = list(_blocks(document.text))
        meta = {
            element.qname[1]: clean_text(_text(element))
            for element in document.meta.childNodes
            if getattr(element, "qname", None)
        }
    except ReadError:
        raise
    except Exception as e:  # odfpy raises KeyError, XML and zip errors alike
        text = str(e).lower()
        if "encrypt" in text or "manifest" in text and "algorithm" in text:
            raise ReadError("an encrypted OpenDocument file (it needs a password)") from e
        raise ReadError(f"a damaged OpenDocument file ({first_line(e) or type(e).__name__})") from e
    heading = next((str(p) for p in paragraphs if isinstance(p, Heading)), None)
    return Extracted(
        paragraphs=paragraphs,
        title=meta.get("title") or heading,
        author=meta.get("creator") or meta.get("initial-creator"),
        date=iso_date(meta.get("date") or meta.get("creation-date")),
    )


def _blocks(element: Any) -> Iterator[str]:
    for child in element.childNodes:
        qname = getattr(child, "qname", None)
        if qname is None:
            continue
        namespace, name = qname
        if name in _SKIPPED:
            continue
        if namespace == _TEXT and name == "h":
            if text := clean_text(_text(child)):
                level = child.getAttrNS(_TEXT, "outline-level")
                yield Heading(text, int(level) if level and str(level).isdigit() else 1)
        elif namespace == _TEXT and name == "p":
            if text := clean_text(_text(child)):
                yield text
        elif namespace == _TABLE and name == "table":
            yield from _rows(child)
        else:  # lists, sections, frames: their paragraphs in order
            yield from _blocks(child)


def _rows(table: Any) -> Iterator[str]:
    for row in _descendants(table, _TABLE, "table-row"):
        cells = [
            text
            for cell in row.childNodes
            if getattr(cell, "qname", None) == (_TABLE, "table-cell")
            and (text := clean_text(" ".join(_blocks(cell))))
        ]
        if cells:
            yield " | ".join(cells)


def _descendants(element: Any, namespace: str, name: str) -> Iterator[Any]:
    for child in element.childNodes:
        if getattr(child, "qname", None) == (namespace, name):
            yield child
        elif getattr(child, "childNodes", None):
            yield from _descendants(child, namespace, name)


def _text(element: Any) -> str:
    """An element's text, its spaces, tabs and line breaks as spaces (odfpy's teletype
    knows <text:s/> and friends)."""
    from odf import teletype

    return str(teletype.extractText(element))
