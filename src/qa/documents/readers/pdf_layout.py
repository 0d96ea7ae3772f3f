"""A PDF page's printed lines, from pypdf's text runs: each line's text, where it starts
on the page, its font size and weight, in the order a reader reads them.

pypdf's `extract_text()` gives lines in content-stream order, which is the order the
generator drew them in, not the order they are printed: a report tool that draws its
footer first puts "Page 2 of 3" second on the page. Its `visitor_text` hook reports each
run of text with the matrices that place it, so each line here knows its baseline, and
the page's blocks are put back top to bottom. What pypdf makes of a glyph is kept, but
for ligature glyphs, which are read back as the letters they join.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Line:
    """One printed line: its text, where its baseline starts (x, y in points, y up from
    the page's bottom), its font size in points, and whether most of it is bold."""

    text: str
    x: float
    y: float
    size: float
    bold: bool = False


@dataclass(frozen=True)
class PageLines:
    """A page's lines in reading order, and the page's top and bottom edges (y)."""

    lines: tuple[Line, ...]
    top: float
    bottom: float


def page_lines(page: Any) -> PageLines:
    """The printed lines of a pypdf page, top to bottom (see `reading_order`)."""
    lines = _Lines()
    forms = _form_matrices(page)
    if forms:
        # pypdf reports the text of a form XObject in the form's own space: follow each
        # `Do` to place it on the page (the form's /Matrix, then the matrix it is drawn
        # with). Only on pages that have forms, since a visitor per operator costs time.
        def before(operator: bytes, operands: Any, cm: list[float], tm: Any) -> None:
            if operator == b"Do":
                matrix = forms.get(str(operands[0]) if operands else "", _IDENTITY)
                lines.placed.append(_multiply(_multiply(matrix, cm), lines.placed[-1]))

        def after(operator: bytes, operands: Any, cm: Any, tm: Any) -> None:
            if operator == b"Do" and len(lines.placed) > 1:
                lines.placed.pop()

        page.extract_text(
            visitor_text=lines.visit, visitor_operand_before=before, visitor_operand_after=after
        )
    else:
        page.extract_text(visitor_text=lines.visit)
    lines.close()
    box = page.cropbox
    bottom, top = sorted((float(box.bottom), float(box.top)))
    return PageLines(tuple(reading_order(lines.lines)), top=top, bottom=bottom)


_IDENTITY = [1.0, 0.0, 0.0, 1.0, 0.0, 0.0]


def _form_matrices(page: Any) -> dict[str, list[float]]:
    """The form XObjects a page's resources name, with each one's /Matrix."""
    try:
        xobjects = page["/Resources"]["/XObject"]
        forms = {}
        for name, ref in xobjects.items():
            form = ref.get_object()
            if form.get("/Subtype") == "/Form":
                forms[str(name)] = [float(v) for v in form.get("/Matrix", _IDENTITY)][:6]
        return {name: matrix for name, matrix in forms.items() if len(matrix) == 6}
    except (KeyError, TypeError, ValueError, AttributeError):
        return {}


def _multiply(m: list[float], n: list[float]) -> list[float]:
    """The affine matrix m × n in PDF's row-vector convention (m applies first)."""
    return [
        m[0] * n[0] + m[1] * n[2],
        m[0] * n[1] + m[1] * n[3],
        m[2] * n[0] + m[3] * n[2],
        m[2] * n[1] + m[3] * n[3],
        m[4] * n[0] + m[5] * n[2] + n[4],
        m[4] * n[1] + m[5] * n[3] + n[5],
    ]


def reading_order(lines: list[Line]) -> list[Line]:
    """Lines in the order they are read: the drawn order cut into blocks (lines that each
    stand below the one before), the blocks sorted top to bottom. When two blocks stand
    side by side (columns, a table drawn column by column) the drawn order is kept: a
    generator that sets columns draws each in its reading order."""
    blocks: list[list[Line]] = []
    for line in lines:
        block = blocks[-1] if blocks else None
        if block and block[-1].y > line.y and block[-1].y - line.y <= 3 * max(line.size, 1):
            block.append(line)
        else:
            blocks.append([line])
    reach = -math.inf
    for low, high in sorted((block[-1].y, block[0].y) for block in blocks):
        if low < reach - 1:
            return lines
        reach = max(reach, high)
    blocks.sort(key=lambda block: -block[0].y)
    return [line for block in blocks for line in block]


class _Lines:
    """pypdf's text runs joined into printed lines, in drawn order. pypdf ends a run with
    a line break where the text moves to another baseline; a run that starts well off the
    current line's baseline starts a line too."""

    def __init__(self) -> None:
        self.lines: list[Line] = []
        self._parts: list[str] = []
        self._first: tuple[float, float] | None = None  # where the line's ink starts
        self._sizes: dict[float, int] = {}  # the line's font sizes, by characters
        self._bold = 0  # characters in bold, of `_inked`
        self._inked = 0
        self._fonts: dict[int, tuple[bool, bool]] = {}  # id(font dict) -> _font_kind
        # What places the text being drawn on the page: the identity, or inside a form
        # XObject the form's matrix times the one it is drawn with.
        self.placed: list[list[float]] = [_IDENTITY]

    def visit(self, text: str, cm: list[float], tm: list[float], font: Any, size: float) -> None:
        """pypdf's `visitor_text`: one run of text with the matrices that place it."""
        if text == "\n":
            self.close()
            return
        if not text:
            return
        kind = self._fonts.get(id(font))
        if kind is None:
            kind = self._fonts[id(font)] = _font_kind(font)
        text = _glyphs(text, kind[1])
        if len(self.placed) > 1:
            cm = _multiply(cm, self.placed[-1])
        # The text matrix times the current transformation matrix places the run on the
        # page (PDF 32000-1, 9.4.4); its vertical scale turns the font size into points.
        x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
        y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
        size = abs(size * math.hypot(tm[2] * cm[0] + tm[3] * cm[2], tm[2] * cm[1] + tm[3] * cm[3]))
        for i, piece in enumerate(text.replace("\r", "\n").split("\n")):
            if i:
                self.close()
            if piece:
                self._add(piece, x, y, size, kind[0])

    def _add(self, text: str, x: float, y: float, size: float, bold: bool) -> None:
        ink = len(text.strip())
        if ink and self._first is not None and abs(self._first[1] - y) > 0.8 * max(size, 1):
            self.close()
        self._parts.append(text)
        if ink:
            if self._first is None:
                self._first = (x, y)
            rounded = round(size, 2)
            self._sizes[rounded] = self._sizes.get(rounded, 0) + ink
            self._inked += ink
            self._bold += ink if bold else 0

    def close(self) -> None:
        """Ends the line being joined."""
        if self._first is not None:
            # TeX prints "©" as a "c" inside a circle, which pypdf reads as "c©".
            text = " ".join("".join(self._parts).split()).replace("c©", "©")
            size = max(self._sizes, key=self._sizes.__getitem__)
            x, y = self._first
            self.lines.append(Line(text, x, y, size, self._bold * 2 > self._inked))
        self._parts.clear()
        self._first = None
        self._sizes.clear()
        self._bold = self._inked = 0


# Font names that say bold: "Helvetica-Bold", "Arial,Bold", TeX's "CMBX12", "SemiBold".
_BOLD = re.compile(r"bold|black|heavy|CMBX|CMB\d|semibold|demi", re.IGNORECASE)


# TeX's Computer Modern fonts ("CMR10", "ABCDEF+CMBX12"), whose own encoding is OT1.
_COMPUTER_MODERN = re.compile(r"(?:^/?|\+)CM[A-Z]")


def _font_kind(font: Any) -> tuple[bool, bool]:
    """Whether a font dict names a bold face, and whether it is a Computer Modern font
    read in its own encoding (no /Encoding, no /ToUnicode: OT1)."""
    if font is None:
        return False, False
    name = str(font.get("/BaseFont", ""))
    ot1 = "/ToUnicode" not in font and "/Encoding" not in font and _COMPUTER_MODERN.search(name)
    return bool(_BOLD.search(name)), bool(ot1)


# Ligature presentation forms (U+FB00-FB06, U+FB13-FB17): "ﬁ" reads as "fi". Only these
# are folded (NFKC on everything would also rewrite "²", "½", full-width forms, ...).
_LIGATURE_FORMS = re.compile("[\ufb00-\ufb06\ufb13-\ufb17]")
# A ligature glyph named the Adobe Glyph List way ("f_i", "f_l", "s_t", "T_h"), which
# pypdf does not know: it prints the name itself ("/f_irst" for "first").
_GLYPH_NAME = re.compile(r"/(f_(?:f_)?[fijltbhk]|[sc]_t|T_h)(?:\.[A-Za-z0-9]+)?")
# TeX's Computer Modern fonts in their built-in (OT1) encoding, without a ToUnicode map:
# pypdf reads the ligature codes as control characters ("e\x0ecient" for "efficient").
_OT1_LIGATURES = str.maketrans(
    {"\x0b": "ff", "\x0c": "fi", "\r": "fl", "\x0e": "ffi", "\x0f": "ffl"}
)


def _glyphs(text: str, ot1: bool) -> str:
    """A run's text with its ligature glyphs read as the letters they join (`ot1`: its
    font is read in TeX's OT1 encoding)."""
    if not text.isascii() and _LIGATURE_FORMS.search(text):
        text = _LIGATURE_FORMS.sub(lambda m: unicodedata.normalize("NFKC", m.group(0)), text)
    if "_" in text and "/" in text:
        text = _GLYPH_NAME.sub(lambda m: m.group(1).replace("_", ""), text)
    if ot1:
        text = text.translate(_OT1_LIGATURES)
    return text
