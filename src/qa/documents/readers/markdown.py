"""Markdown (.md, .markdown) through markdown-it (CommonMark), with YAML front matter."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from .base import Extracted, Heading, clean_text, iso_date, read_text_file

_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?\n)(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.DOTALL)


def read_markdown(path: Path) -> Extracted:
    """Markdown through markdown-it (CommonMark): the text of each block, without
    heading marks, emphasis, link targets or list bullets. YAML front matter is metadata;
    the first level-1 heading is the title, unless the front matter names one."""
    from markdown_it import MarkdownIt

    content = read_text_file(path)
    meta: dict[str, Any] = {}
    if m := _FRONT_MATTER.match(content):
        meta = _front_matter(m.group(1))
        content = content[m.end() :]
    tokens = MarkdownIt("commonmark").enable("table").parse(content)
    paragraphs: list[str] = []
    heading_title: str | None = None
    level = ""
    for token in tokens:
        if token.type == "heading_open":
            level = token.tag
        elif token.type == "inline":
            text = _inline_text(token.children or [])
            if level == "h1" and heading_title is None:
                heading_title = text
            elif text and level:
                # A heading: the section every paragraph under it stands in.
                paragraphs.append(Heading(text, int(level[1:])))
            elif text:
                paragraphs.extend(text.split("\n"))
            level = ""
        elif token.type in ("fence", "code_block"):
            paragraphs.extend(token.content.split("\n"))
    title = clean_text(meta.get("title")) or heading_title
    if heading_title and title != heading_title:
        # The front matter titled the page; the heading is content.
        paragraphs.insert(0, Heading(heading_title, 1))
    return Extracted(
        paragraphs=paragraphs,
        title=title,
        date=iso_date(meta.get("date")),
        author=clean_text(meta.get("author")),
        source=clean_text(meta.get("source") or meta.get("site")),
        # With no front-matter title and no heading, the first lines may be a header.
        has_header=title is None,
    )


def _front_matter(block: str) -> dict[str, Any]:
    import yaml

    try:
        meta = yaml.safe_load(block)
    except yaml.YAMLError:
        return {}
    return meta if isinstance(meta, dict) else {}


def _inline_text(children: list[Any]) -> str:
    parts = []
    for child in children:
        if child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type == "softbreak":
            parts.append(" ")
        elif child.type == "hardbreak":
            parts.append("\n")
        elif child.type == "image":
            parts.append(_inline_text(child.children or []))
    return re.sub(r"[ \t]+", " ", "".join(parts)).strip()
