"""PowerPoint (.pptx) through python-pptx: one page per slide, so a citation says "slide
4"; each slide's title as its section, its text in reading order, then its speaker
notes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .base import Extracted, Heading, ReadError, check_package, clean_text, first_line, iso_date

# Under each slide's own text, its speaker notes stand in a section of this name.
NOTES_HEADING = "Speaker notes"


def read_pptx(path: Path) -> Extracted:
    """A presentation: per slide its title (a Heading, the section of all on the slide),
    the text of its shapes top to bottom and left to right (groups opened, each table
    row a line "cell | cell"), then its speaker notes under "Speaker notes". The title
    is the file's title property, else the first slide's title.

    Raises ReadError for an encrypted, damaged or old binary (.ppt) file."""
    from pptx import Presentation

    check_package(path, "presentation")
    try:
        deck = Presentation(str(path))
        slides = [_slide(slide) for slide in deck.slides]
        props = deck.core_properties
    except ReadError:
        raise
    except Exception as e:  # python-pptx raises KeyError, lxml and zip errors alike
        raise ReadError(f"a damaged presentation ({first_line(e) or type(e).__name__})") from e
    if not slides:
        raise ReadError("a presentation with no slides")
    first_title = next((title for title, _ in slides if title), None)
    pages = [([Heading(title, 1)] if title else []) + body for title, body in slides]
    return Extracted(
        pages=pages,
        title=clean_text(props.title) or first_title,
        date=iso_date(props.modified or props.created),
        author=clean_text(props.author),
        page_kind="slide",
    )


def _slide(slide: Any) -> tuple[str | None, list[str]]:
    """(the slide's title, its other text then its notes)."""
    title_shape = slide.shapes.title
    title = clean_text(title_shape.text_frame.text) if title_shape is not None else None
    body: list[str] = []
    for shape in sorted(_shapes(slide.shapes), key=lambda s: (s.top or 0, s.left or 0)):
        if title_shape is not None and shape.shape_id == title_shape.shape_id:
            continue
        body.extend(_text_of(shape))
    if slide.has_notes_slide:
        notes = [
            line
            for paragraph in slide.notes_slide.notes_text_frame.paragraphs
            if (line := clean_text("".join(run.text for run in paragraph.runs)))
        ]
        if notes:
            body += [Heading(NOTES_HEADING, 2), *notes]
    return title, body


def _shapes(shapes: Any) -> Iterator[Any]:
    """The shapes, those inside groups included (a group has no text of its own)."""
    for shape in shapes:
        if getattr(shape, "shapes", None) is not None and shape.shape_type == 6:  # a group
            yield from _shapes(shape.shapes)
        else:
            yield shape


def _text_of(shape: Any) -> list[str]:
    if shape.has_text_frame:
        return [
            line
            for paragraph in shape.text_frame.paragraphs
            if (line := clean_text("".join(run.text for run in paragraph.runs)))
        ]
    if getattr(shape, "has_table", False) and shape.has_table:
        rows = []
        for row in shape.table.rows:
            cells = [text for cell in row.cells if (text := clean_text(cell.text))]
            if cells:
                rows.append(" | ".join(cells))
        return rows
    return []
