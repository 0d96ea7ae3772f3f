"""Saved web pages (.html, .htm) through trafilatura."""

from __future__ import annotations

from pathlib import Path

from .base import Extracted, ReadError, clean_text, iso_date, read_text_file


def read_html(path: Path) -> Extracted:
    """A saved web page through trafilatura: the main text only (no navigation, scripts,
    cookie banners or footers) and the page's title, date (from its markup, by htmldate),
    author and site name."""
    import trafilatura

    content = read_text_file(path)
    found = trafilatura.bare_extraction(
        content, with_metadata=True, include_comments=False, include_tables=True
    )
    # as_dict=False (the default) gives a trafilatura Document; mypy sees the union.
    if found is None or isinstance(found, dict) or not (found.text or "").strip():
        raise ReadError("no article text found in the page")
    paragraphs = (found.text or "").split("\n")
    title = clean_text(found.title)
    if paragraphs and title and paragraphs[0].strip() == title:
        paragraphs = paragraphs[1:]  # the headline, already the title
    return Extracted(
        paragraphs=paragraphs,
        title=title,
        date=iso_date(found.date),
        author=clean_text(found.author),
        source=clean_text(found.sitename),
    )
