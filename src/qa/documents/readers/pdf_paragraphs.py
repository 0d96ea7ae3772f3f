"""A PDF page's printed lines joined back into paragraphs, with its section headings as
`Heading` items of their own.

Each paragraph becomes one line of the document's text, and a line break always ends a
sentence there, so a paragraph must hold whole sentences: a line is joined to the one
before unless the layout or the text says a paragraph ended (see `paragraphs`).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from ...language import ENDS_CLAUSE, ENDS_SENTENCE, HEADING_WORDS
from .base import Heading
from .pdf_layout import Line

# A heading's font is "clearly larger" than the body's from this ratio on (TeX's \large
# is 1.2 times its body size, Word's Heading 3 1.2 times Normal).
LARGER = 1.15
# A heading in a large font may run longer than a numbered one (a report's title).
_LARGE_HEADING_WORDS = 15
_STATES = re.compile(r"[.!。！][\"'”’)]*\s*$")
# "4.3 Encoding functions", "A.2 Licence", "1. Introduction", "Chapter 4: Encoding".
_NUMBERED = re.compile(
    r"^(?:(?P<word>(?i:chapter|appendix|part))\s+(?:\d{1,3}|[A-Z]|[IVXLC]{1,6})\b[.:]?"
    r"|(?P<number>(?:\d{1,2}|[A-Z](?=\.))(?:\.\d{1,2}){0,4})(?P<dot>\.?))\s+(?P<rest>\S.*)$"
)
# A list item or a command-line option: "• text", "- text", "2) text", "(b) text",
# "-q, --quiet   print nothing".
# A numbered or lettered item ("20. ", "(a) "), which wrapped text can start a line with.
_NUMBER_ITEM = re.compile(r"^\(?(?:\d{1,2}|[a-z])[.)]\s")
_ITEM = re.compile(r"^(?:[•◦▪▫‣●○■□►▸–—*·-]\s|\(?(?:\d{1,2}|[a-z])[.)]\s|-{1,2}[A-Za-z0-9?])")


# A heading set in bold at the body's size is short ("EXIT STATUS", "See Also").
_BOLD_HEADING_WORDS = 6
# Words Title Case leaves in lower case after the first.
_MINOR_WORDS = frozenset(
    "a an and as at but by for from in into nor of on or per the to vs via with".split()
)


def _title_case(text: str) -> bool:
    """Whether each word of `text` that starts with a letter starts with a capital (but
    for the small words of Title Case after the first: "Return Values", "Use of Tabs")."""
    words = [word for word in text.split() if word[:1].isalpha()]
    if not words or not words[0][0].isupper():
        return False
    return all(word[0].isupper() or word in _MINOR_WORDS for word in words[1:])


def is_numbered_heading(text: str) -> bool:
    """Whether `text` names a chapter or a numbered section ("Chapter 2: Naming", "4.3
    Encoding functions"), which is never a document's title."""
    return _NUMBERED.match(text.strip()) is not None


def is_title_line(text: str) -> bool:
    """Whether a page's first line, in the body's font, may be its title: short, ending
    no sentence, no numbered heading, not a bare number (a page number)."""
    return not (
        ENDS_SENTENCE.search(text)
        or len(text.split()) > 12
        or is_numbered_heading(text)
        or text.strip().isdigit()
    )


@dataclass(frozen=True)
class Style:
    """What a document's headings look like: its body font size, and the larger sizes
    its headings are printed in (the largest heads level 1, the next level 2, ...)."""

    body: float
    heading_sizes: tuple[float, ...] = ()
    # Where the body's lines start at the left (x), when the document shows it.
    margin: float | None = None

    def heading(self, line: Line) -> int:
        """The level of `line` as a heading, or 0 when it is text."""
        text = line.text
        words = len(text.split())
        # A heading may ask ("2.3 Why ASN.1?"); it does not state.
        if _STATES.search(text) or not any(c.isalpha() for c in text):
            return 0
        large = line.size >= LARGER * self.body
        numbered = _NUMBERED.match(text)
        if numbered and words <= HEADING_WORDS + 2 and line.size > 0.9 * self.body:
            rest = numbered.group("rest")
            # In the body's own font, "1. Install it" is a list item and "2 of them were"
            # a sentence: only a short capitalised title after a bare number heads.
            plain = not (large or line.bold)
            if rest.endswith((",", ";")):
                return 0
            if plain and (not rest[0].isupper() or words > HEADING_WORDS or "," in rest):
                return 0
            if numbered.group("word"):
                return 1
            number = numbered.group("number")
            if plain and (numbered.group("dot") and "." not in number or number.isalpha()):
                return 0
            return number.count(".") + 1
        if large and words <= _LARGE_HEADING_WORDS:
            return self.level_of(line.size)
        if self._bold_heading(line, words):
            # A man page's "DESCRIPTION" heads a section; a bold "Return Values" at the
            # margin is a heading under the large-font ones.
            return 1 if text.isupper() else max(2, self.level_of(line.size))
        return 0

    def _bold_heading(self, line: Line, words: int) -> bool:
        """Whether `line` is a heading in bold at the body's size: short (at most
        `_BOLD_HEADING_WORDS`), set at the left margin, in capitals or Title Case, and
        no sentence, list item or option ("-a, --all")."""
        text = line.text
        if not line.bold or self.margin is None or words > _BOLD_HEADING_WORDS:
            return False
        if abs(line.x - self.margin) > 0.5 * max(line.size, 1.0) or line.size < 0.9 * self.body:
            return False
        if ENDS_SENTENCE.search(text) or text.endswith((",", ";", ":")) or _ITEM.match(text):
            return False
        return text.isupper() or _title_case(text)

    def level_of(self, size: float) -> int:
        """The level of a heading printed at `size` (1 when it is the largest)."""
        return 1 + sum(1 for larger in self.heading_sizes if larger > size + 0.25)


def style_of(pages: Sequence[Sequence[Line]]) -> Style:
    """The body size of the document (the size most of its characters are printed in)
    and its heading sizes: larger sizes that head at least two lines (a title printed
    once at its own size does not push every heading down a level)."""
    weight: Counter[float] = Counter()
    for lines in pages:
        for line in lines:
            weight[round(line.size * 2) / 2] += len(line.text)
    if not weight:
        return Style(body=0.0)
    body = weight.most_common(1)[0][0]
    heads: Counter[float] = Counter()
    for lines in pages:
        for line in lines:
            if line.size >= LARGER * body and len(line.text.split()) <= _LARGE_HEADING_WORDS:
                heads[round(line.size * 2) / 2] += 1
    sizes = sorted((size for size, n in heads.items() if n >= 2), reverse=True)
    return Style(body=body, heading_sizes=tuple(sizes), margin=_margin(pages))


# The body's left margin is the leftmost x that at least this many lines start at (a
# stray line further left does not set it; a man page's section names, a dozen lines
# among a thousand, do).
_MARGIN_LINES = 3


def _margin(pages: Sequence[Sequence[Line]]) -> float | None:
    """Where the document's lines start at the left (see `_MARGIN_SHARE`)."""
    starts: Counter[float] = Counter(round(line.x) for lines in pages for line in lines)
    held = [x for x, n in starts.items() if n >= _MARGIN_LINES] or list(starts)
    return float(min(held)) if held else None


def paragraphs(lines: Sequence[Line], style: Style, title_page: bool = False) -> list[str]:
    """A page's lines (in reading order) as paragraphs and `Heading`s.

    A heading is its own item. Otherwise a line is joined to the paragraph before (a
    hyphen at the break is the word's: "manu-\\nfacturing" -> "manufacturing") unless
    the paragraph ended: at a vertical gap larger than the page's line spacing, at a
    change of font size, at an indented line after a sentence's end, at a list item, or
    after a line that ends a sentence well short of the page's measure (the ragged last
    line of a paragraph) or a short line without sentence punctuation (a caption, a
    label). A list item or an option keeps the indented lines under it ("-q, --quiet"
    over "print nothing" is one item).

    On a `title_page` (the page that prints the document's title), the title and the
    large lines that no text follows (a subtitle, the authors) are no headings."""
    width = max((len(line.text) for line in lines), default=0)
    leading = _Leading(lines)
    levels = [style.heading(line) for line in lines]
    if title_page:
        _title_block_as_text(lines, levels, style)
    out: list[str] = []
    current = ""
    item_x: float | None = None  # where the current list item starts, when it is one
    previous: Line | None = None
    for i, line in enumerate(lines):
        level = levels[i]
        if level:
            if current:
                out.append(current)
            current, item_x = "", None
            if previous is not None and _continues_heading(out, previous, line, level, style):
                out[-1] = Heading(f"{out[-1]} {line.text}", level)
            else:
                out.append(Heading(line.text, level))
            previous = line
            continue
        if current and previous is not None and _breaks(previous, line, leading, item_x):
            out.append(current)
            current, item_x = "", None
        if not current:
            item_x = line.x if _ITEM.match(line.text) else None
        text = line.text
        if current.endswith("-") and text[:1].islower():
            current = current[:-1] + text
        else:
            current = f"{current} {text}" if current else text
        short = len(text) < 0.75 * width
        if short and (text.endswith((".", "!", "?", ":", "。")) or len(text.split()) <= 8):
            following = lines[i + 1] if i + 1 < len(lines) and not levels[i + 1] else None
            if not (item_x is not None and _hangs(following, item_x, line, leading)):
                out.append(current)
                current, item_x = "", None
        previous = line
    if current:
        out.append(current)
    return out


def _breaks(previous: Line, line: Line, leading: _Leading, item_x: float | None) -> bool:
    """Whether the layout ends the paragraph between `previous` and `line`."""
    size = max(line.size, 1.0)
    if _ITEM.match(line.text):
        # "... the default SCALE is set to" / "20. The math functions ...": a number that
        # wrapped to the line's start, not an item, when the line before runs on.
        return not (_NUMBER_ITEM.match(line.text) and not ENDS_CLAUSE.search(previous.text))
    if abs(previous.size - line.size) > (LARGER - 1) * max(previous.size, line.size):
        return True
    hanging = item_x is not None and line.x >= item_x + 0.8 * size
    if leading.gap(previous, line, _HANGING_GAP if hanging else 1.0):
        return True
    if item_x is not None:
        return line.x < item_x - 0.3 * size
    return line.x > previous.x + 0.8 * size and bool(ENDS_SENTENCE.search(previous.text))


# An option's description may stand a little apart under it (groff's man pages set it a
# paragraph's space below the option when the option is wider than the indent).
_HANGING_GAP = 1.5


def _hangs(following: Line | None, item_x: float, line: Line, leading: _Leading) -> bool:
    """Whether `following` is an indented line under the list item that starts at
    `item_x` (its description, or the rest of its text)."""
    if following is None or _ITEM.match(following.text):
        return False
    if following.y >= line.y or leading.gap(line, following, _HANGING_GAP):
        return False
    return following.x >= item_x + 0.8 * max(following.size, 1.0)


def _title_block_as_text(lines: Sequence[Line], levels: list[int], style: Style) -> None:
    """On a title page, `levels` without the title (the lines in the page's largest
    font) and without the large lines that no text follows: a heading heads text."""
    largest = max((line.size for line in lines), default=0.0)
    for i, line in enumerate(lines):
        if not levels[i] or _NUMBERED.match(line.text):
            continue
        j = i + 1
        while j < len(lines) and levels[j] and _same_heading(lines[j - 1], lines[j]):
            j += 1
        followed = j < len(lines) and not levels[j] and lines[j].size < LARGER * style.body
        if line.size > largest - 0.5 or not followed:
            levels[i] = 0


def _same_heading(above: Line, below: Line) -> bool:
    """Whether `below` goes on the large-font heading line `above` (a title set over two
    lines): the same size, right under it, and no number of its own."""
    if _NUMBERED.match(below.text) or abs(above.size - below.size) > 0.5:
        return False
    return 0 < above.y - below.y <= 1.6 * below.size


def _continues_heading(
    out: list[str], previous: Line, line: Line, level: int, style: Style
) -> bool:
    """Whether `line` is the second line of the large-font heading just emitted (a long
    title set over two lines), not a heading of its own."""
    if not out or not isinstance(out[-1], Heading) or out[-1].level != level:
        return False
    return previous.size >= LARGER * style.body and _same_heading(previous, line)


class _Leading:
    """A page's line spacing for each font size: the smallest distance between the
    baselines of two lines in a row of that size that the page shows often (paragraphs
    set apart show a larger one as often; a footnote's smaller size has its own)."""

    def __init__(self, lines: Sequence[Line]) -> None:
        steps: dict[float, Counter[float]] = {}
        for above, below in zip(lines, lines[1:], strict=False):
            drop = above.y - below.y
            if abs(above.size - below.size) < 0.5 and 0.8 * below.size < drop <= 1.8 * below.size:
                steps.setdefault(round(below.size), Counter())[round(drop * 4) / 4] += 1
        self._by_size: dict[float, float] = {}
        for size, counts in steps.items():
            top = counts.most_common(1)[0][1]
            often = [step for step, n in counts.items() if n >= max(2, top / 4)]
            self._by_size[size] = min(often) if often else counts.most_common(1)[0][0]

    def gap(self, above: Line, below: Line, lines: float = 1.0) -> bool:
        """Whether more space than `lines` lines' stands between two lines in a row, one
        under the other (the spacing of the lower one's size, else of the upper one's;
        where the page shows neither, two lines')."""
        leading = self._by_size.get(round(below.size)) or self._by_size.get(round(above.size))
        if leading is None:
            return above.y - below.y > 2 * max(above.size, below.size) * lines
        return above.y - below.y > (1.15 * leading + 0.5) * lines
