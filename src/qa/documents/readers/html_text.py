"""An HTML element tree as the blocks a browser shows: paragraphs, headings, code.

A browser collapses the white space of the source, so a paragraph hard-wrapped over five
source lines, or cut by inline `<code>`, `<a>`, `<em>`, `<var>` or `<kbd>`, is one line
of text. Block elements (`<p>`, `<li>`, `<dd>`, `<div>`, `<br>`, ...) end it. Each block
here is one item, holding whole sentences:

- `<h1>`-`<h6>` give a `Heading` with its level;
- `<pre>` gives a `Code` item, its lines as printed;
- a definition list entry (`<dt>` + `<dd>`) is one item, "term: definition", so an
  option and its meaning stay together ("-q, --quiet: print nothing");
- a table row is one item, its cells joined by " | " (as the Word reader does), unless a
  cell holds headings, code or more than two blocks: then the table lays out the page,
  and each cell is read as blocks of its own;
- a man page's hanging indent (groff -Thtml: a paragraph naming an option, then one
  further in saying what it does) is one item, as a definition is;
- a line made only of links within the page (an in-page table of contents) is dropped.

A heading's anchor link (Sphinx's "¶", texinfo's "¶", a "#" or "Permalink") is not text,
nor are scripts, forms, buttons or hidden elements. What is the page's furniture
(navigation, footers) is the caller's to say, through `skip`.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from lxml import etree

from .base import Heading


class Code(str):
    """A preformatted block (`<pre>`): its lines as the page prints them, one per line,
    without blank lines (a blank line separates paragraphs in the document text). It is a
    str, so everything that reads paragraphs reads it as text; a later stage can tell
    code from prose by its type."""

    def __new__(cls, text: str) -> Code:
        lines = (line.rstrip() for line in text.expandtabs(8).split("\n"))
        return super().__new__(cls, "\n".join(line for line in lines if line.strip()))


Skip = Callable[[etree._Element], bool]

# Never text: what a browser does not show as words, and controls.
_NEVER_TEXT = frozenset(
    "head script style noscript template svg canvas iframe object embed video audio img "
    "picture map area button input select option textarea datalist meter progress "
    "annotation annotation-xml".split()
)
_HEADINGS = {f"h{n}": n for n in range(1, 7)}
_PREFORMATTED = frozenset({"pre", "listing", "xmp", "plaintext"})
BLOCKS = frozenset(
    "address article aside blockquote body caption center details dialog dd dir div dl dt "
    "fieldset figcaption figure footer form header hgroup hr html legend li main menu nav ol "
    "p section summary table tbody td tfoot th thead tr ul".split()
)
# The text of a heading's or a definition's anchor link ("¶" in Sphinx, MkDocs and
# texinfo, "§", "#", a link symbol, or words a screen reader says).
_ANCHOR_GLYPHS = frozenset(
    {"", "¶", "§", "#", "🔗", "⚓", "link", "permalink", "permanent link", "link to this heading",
     "link to this headline", "link to this definition", "anchor"}
)  # fmt: skip
_ANCHOR_CLASSES = re.compile(r"headerlink|anchor|permalink|copiable|hash-link", re.IGNORECASE)
_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"))
# Line-number gutters of highlighted code (Pygments, texinfo): not part of the code.
_LINE_NUMBERS = re.compile(r"(?:^|\s)(?:linenos?|line-numbers?|gutter)(?:$|\s)")
# A man page's option, as the term of a hanging indent: "-c, --changes", "--reference=RFILE".
_OPTION = re.compile(r"^[-+]{1,2}[\w?#]\S*(?:[ ,]+\S+){0,6}$(?<![.;:!?])")
_INDENT = re.compile(r"margin-left\s*:\s*(\d+(?:\.\d+)?)", re.IGNORECASE)
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)


def blocks(root: etree._Element, skip: Skip | None = None, keep_links: bool = False) -> list[str]:
    """The text under `root`, one item per block the browser shows.

    Args:
        root: an lxml.html element (a page's `<body>`, `<main>`, ...).
        skip: says of an element that it and everything in it is not text (the page's
            navigation, say); called once for each element met.
        keep_links: keep a line made only of links within the page (dropped as an
            in-page table of contents otherwise); a table cell keeps them.

    Returns:
        Items in page order: `Heading` for h1-h6, `Code` for `<pre>`, str otherwise,
        white space collapsed, none empty.
    """
    walker = _Walker(skip or _never, drop_link_lines=not keep_links)
    walker.walk(root)
    walker.flush()
    return walker.items


def inline_text(element: etree._Element, skip: Skip | None = None) -> str:
    """All the text inside `element` on one line, as a heading or a term shows it; a
    trailing pilcrow left as plain text is dropped too."""
    walker = _Walker(skip or _never)
    walker.descend(element)
    walker.flush()
    return " ".join(" ".join(item.split()) for item in walker.items).rstrip(" ¶")


def _never(element: etree._Element) -> bool:
    return False


def _tag(element: etree._Element) -> str:
    tag = element.tag
    return tag.lower() if isinstance(tag, str) else ""


def is_not_text(element: etree._Element) -> bool:
    """True for what a browser shows no words of, or only a heading's anchor glyph."""
    tag = _tag(element)
    if not tag or tag in _NEVER_TEXT:
        return True
    if element.get("hidden") is not None or _HIDDEN_STYLE.search(element.get("style") or ""):
        return True
    # An icon is hidden from screen readers; a block so marked is often the page behind
    # an open dialog, still shown.
    if element.get("aria-hidden") == "true" and tag not in BLOCKS:
        return True
    if tag == "a" and (element.get("href") or "").startswith("#"):
        text = " ".join("".join(element.itertext()).translate(_ZERO_WIDTH).split()).casefold()
        if text in _ANCHOR_GLYPHS or (
            _ANCHOR_CLASSES.search(element.get("class") or "") and len(text) <= 2
        ):
            return True
    return bool(_LINE_NUMBERS.search(element.get("class") or ""))


class _Walker:
    """Walks a tree in page order, gathering inline text into the block being read.

    With `drop_link_lines`, a line made only of links within the page (an in-page table
    of contents: groff's "NAME / SYNOPSIS / ..." list) is not text.
    """

    def __init__(self, skip: Skip, drop_link_lines: bool = False) -> None:
        self.skip = skip
        self.drop_link_lines = drop_link_lines
        self.items: list[str] = []
        self.line: list[str] = []
        self.in_link = 0
        self.linked = self.plain = False
        # The last item, where it is an option a hanging indent may define, and its indent.
        self.term: tuple[int, float] | None = None

    def add(self, text: str | None) -> None:
        if not text:
            return
        self.line.append(text)
        if self.in_link:
            self.linked = True
        elif not self.plain and any(c.isalnum() for c in text):
            self.plain = True

    def flush(self) -> None:
        text = " ".join("".join(self.line).split())
        if text and not (self.drop_link_lines and self.linked and not self.plain):
            self.items.append(text)
        self.line = []
        self.linked = self.plain = False

    def walk(self, element: etree._Element) -> None:
        tag = _tag(element)
        if is_not_text(element) or self.skip(element):
            return
        if tag in _HEADINGS or element.get("role") == "heading":
            self.flush()
            level = _HEADINGS.get(tag) or _level(element.get("aria-level"))
            if text := inline_text(element, self.skip):
                self.items.append(Heading(text, level))
            return
        if tag in _PREFORMATTED:
            self.flush()
            if code := Code(_preformatted(element, self.skip)):
                self.items.append(code)
            return
        if tag == "dl":
            self.flush()
            self.items.extend(_definitions(element, self.skip))
            return
        if tag == "table":
            self.flush()
            self.items.extend(_table(element, self.skip))
            return
        if tag == "br":
            self.flush()
            return
        if tag == "p":
            self.paragraph(element)
            return
        in_page = tag == "a" and (element.get("href") or "").startswith("#")
        block = tag in BLOCKS
        if block:
            self.flush()
        self.in_link += in_page
        self.descend(element)
        self.in_link -= in_page
        if block:
            self.flush()

    def descend(self, element: etree._Element) -> None:
        """The text and children of `element`, in order, whatever `element` itself is."""
        self.add(element.text)
        for child in element:
            self.walk(child)
            self.add(child.tail)

    def paragraph(self, p: etree._Element) -> None:
        """A `<p>`. A man page (groff -Thtml) sets an option list as hanging indents: a
        paragraph naming the option ("-c, --changes"), then one further in that says what
        it does. The two are one item, "-c, --changes: like verbose but ...", as for a
        definition list."""
        self.flush()
        start = len(self.items)
        self.descend(p)
        self.flush()
        indent = _indent(p)
        if indent is None or len(self.items) == start:
            self.term = None
            return
        if self.term and self.term[0] == start - 1 and indent > self.term[1]:
            definition = self.items.pop(start)
            self.items[start - 1] = f"{self.items[start - 1]}: {definition}"
            self.term = None
        elif type(self.items[-1]) is str and _OPTION.match(self.items[-1]):
            self.term = (len(self.items) - 1, indent)


def _indent(element: etree._Element) -> float | None:
    """The left margin a `<p>`'s style sets, in its own unit; None where it sets none."""
    m = _INDENT.search(element.get("style") or "")
    return float(m.group(1)) if m else None


def _level(value: str | None) -> int:
    return int(value) if value and value.isdigit() else 2


def _preformatted(element: etree._Element, skip: Skip) -> str:
    """The text of a `<pre>` as printed: its line breaks kept, `<br>` a line break."""
    parts: list[str] = []

    def gather(node: etree._Element) -> None:
        if node is not element and (is_not_text(node) or skip(node)):
            return
        if _tag(node) == "br":
            parts.append("\n")
        if node.text:
            parts.append(node.text)
        for child in node:
            gather(child)
            if child.tail:
                parts.append(child.tail)

    gather(element)
    return "".join(parts)


def _definitions(dl: etree._Element, skip: Skip) -> list[str]:
    """A definition list, each entry one item: its terms, a colon, the definition's first
    block; the rest of a long definition follows as items of its own."""
    items: list[str] = []
    terms: list[str] = []
    for child in _entries(dl):
        if is_not_text(child) or skip(child):
            continue
        tag = _tag(child)
        if tag == "dt":
            if text := inline_text(child, skip):
                terms.append(text)
            continue
        if tag != "dd":
            items.extend(blocks(child, skip))
            continue
        body = blocks(child, skip)
        term = ", ".join(terms)
        terms = []
        if term and body and type(body[0]) is str:
            items.append(f"{term.rstrip(':')}: {body[0]}")
            body = body[1:]
        elif term:
            items.append(term)
        items.extend(body)
    items.extend(terms)  # a term without a definition
    return items


def _entries(dl: etree._Element) -> list[etree._Element]:
    """A list's `<dt>` and `<dd>` in order, also where a `<div>` groups them (HTML5)."""
    entries = []
    for child in dl:
        if _tag(child) == "div" and any(_tag(c) in ("dt", "dd") for c in child):
            entries.extend(child)
        else:
            entries.append(child)
    return entries


def _table(table: etree._Element, skip: Skip) -> list[str]:
    """Each row of a table as one item, its cells joined by " | "; a row whose cells hold
    headings, code or more than two blocks lays out a page, and its cells are read as
    blocks."""
    items: list[str] = []
    for child in table:
        tag = _tag(child)
        if is_not_text(child) or skip(child):
            continue
        if tag == "caption":
            items.extend(blocks(child, skip))
        elif tag in ("thead", "tbody", "tfoot"):
            items.extend(_rows(child, skip))
        elif tag == "tr":
            items.extend(_rows(table, skip, only=child))
    return items


def _rows(section: etree._Element, skip: Skip, only: etree._Element | None = None) -> list[str]:
    items: list[str] = []
    rows = [only] if only is not None else [r for r in section if _tag(r) == "tr"]
    for row in rows:
        if is_not_text(row) or skip(row):
            continue
        cells = [
            blocks(cell, skip, keep_links=True)
            for cell in row
            if _tag(cell) in ("td", "th") and not (is_not_text(cell) or skip(cell))
        ]
        if any(len(cell) > 2 or any(type(item) is not str for item in cell) for cell in cells):
            items.extend(item for cell in cells for item in cell)
            continue
        texts = [" ".join(cell) for cell in cells if cell]
        if texts:
            items.append(" | ".join(texts))
    return items
