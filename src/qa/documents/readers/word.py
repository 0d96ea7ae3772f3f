"""Word files (.docx) through python-docx, in body order."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .base import Extracted, Heading, ReadError, check_package, clean_text, iso_date


def read_docx(path: Path) -> Extracted:
    """A Word file through python-docx: the body's paragraphs, headings and tables in the
    order they stand, each table row a line ("Treasurer | Maria Okafor") under the
    heading above it. The title is the document's core property, or else its first
    heading. Page headers and footers are parts of their own, outside the body: never
    read, so a running header is never text."""
    import docx
    from docx.opc.exceptions import PackageNotFoundError
    from docx.table import Table

    check_package(path, "Word file")
    try:
        document = docx.Document(str(path))
        # Paragraphs and tables in body order (python-docx's `paragraphs` and `tables`
        # are two separate lists, which put every table after the last paragraph).
        blocks = list(document.iter_inner_content())
    except (PackageNotFoundError, KeyError, ValueError, OSError) as e:
        raise ReadError("not a readable Word file (damaged, or not .docx)") from e
    except Exception as e:  # zipfile.BadZipFile, lxml errors: a damaged file either way
        raise ReadError(f"not a readable Word file ({type(e).__name__})") from e
    paragraphs: list[str] = []
    heading: str | None = None
    for block in blocks:
        if isinstance(block, Table):
            paragraphs.extend(_table_rows(block))
            continue
        text = block.text.strip()
        style = (block.style.name if block.style is not None else "") or ""
        if text and heading is None and style.startswith(("Heading", "Title")):
            heading = text
            continue
        if text and style.startswith("Heading"):
            # "Heading 2": the section every paragraph under it stands in.
            digits = "".join(ch for ch in style if ch.isdigit())
            paragraphs.append(Heading(text, int(digits) if digits else 1))
            continue
        paragraphs.append(text)
    props = document.core_properties
    title = clean_text(props.title) or heading
    if heading and title != heading:
        paragraphs.insert(0, Heading(heading, 1))
    return Extracted(
        paragraphs=paragraphs,
        title=title,
        date=iso_date(props.created),
        author=clean_text(props.author),
    )


def _table_rows(table: Any) -> list[str]:
    """Each row of a Word table as one line, its cells joined by " | ". A merged cell
    appears once: python-docx repeats it in every grid column it spans."""
    rows = []
    for row in table.rows:
        # The cell elements themselves are kept: while a reference lives, lxml hands out
        # the same proxy for the same element, so `is` finds a repeat.
        seen: list[Any] = []
        cells = []
        for cell in row.cells:
            if any(cell._tc is element for element in seen):
                continue
            seen.append(cell._tc)
            text = " ".join(cell.text.split())
            if text:
                cells.append(text)
        if cells:
            rows.append(" | ".join(cells))
    return rows
