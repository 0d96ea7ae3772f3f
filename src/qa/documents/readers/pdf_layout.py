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
    """The printed lines of a pypdf page, top to bottom (see `reading_order`).

    Each string the page shows is placed from its glyphs' widths (`_Runs`), so a space
    stands where the page leaves one; a page whose fonts that cannot measure is read
    from pypdf's own runs, with the spaces pypdf puts between them."""
    forms = _form_matrices(page)
    runs = _Runs(page, forms)
    page.extract_text(visitor_operand_before=runs.before, visitor_operand_after=runs.after)
    if runs.failed:
        lines = _pypdf_lines(page, forms)
    else:
        runs.lines.close()
        lines = runs.lines
    box = page.cropbox
    bottom, top = sorted((float(box.bottom), float(box.top)))
    return PageLines(tuple(reading_order(lines.lines)), top=top, bottom=bottom)


def _pypdf_lines(page: Any, forms: dict[str, list[float]]) -> _Lines:
    """The lines of pypdf's own text runs (with the spaces pypdf puts between them)."""
    lines = _Lines()
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
    return lines


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


# A gap wider than this share of the font size between two strings on a line is a space
# between words; a narrower one is kerning (groff moves the pen back between "W" and
# "A", texinfo's code font leaves a gap narrower than its half-space after "bc").
_WORD_GAP = 0.2


class _Runs:
    """pypdf's content-stream walk, seen operator by operator (`visitor_operand_before`):
    each string a page shows, where its glyphs start and end (from the font's widths, the
    text state's character and word spacing and scaling, and a TJ array's moves), joined
    into `lines`. `failed` when a font cannot be measured (its text is then pypdf's)."""

    def __init__(self, page: Any, forms: dict[str, list[float]]) -> None:
        self.lines = _Lines()
        self.failed = _Font is None
        self._forms = forms
        resources = _get(page, "/Resources")
        self._resources: list[Any] = [resources]  # the page's, or the form's being drawn
        self._fonts: dict[int, tuple[Any, Any, tuple[bool, bool]]] = {}
        self._state = _TextState()
        self._saved: list[_TextState] = []
        self._outer: list[tuple[_TextState, list[_TextState]]] = []

    def before(self, operator: bytes, operands: Any, cm: list[float], tm: list[float]) -> None:
        if self.failed and operator != b"Do":
            return
        try:
            self._operator(operator, operands, cm, tm)
        except (TypeError, ValueError, KeyError, IndexError, AttributeError, ZeroDivisionError):
            self.failed = True

    def after(self, operator: bytes, operands: Any, cm: Any, tm: Any) -> None:
        if operator == b"Do" and self._outer:
            self.lines.placed.pop()
            self._resources.pop()
            self._state, self._saved = self._outer.pop()

    def _operator(self, operator: bytes, operands: Any, cm: list[float], tm: list[float]) -> None:
        state = self._state
        if operator in _SHOWS:
            if operator == b"TJ":
                for item in operands[0] if operands else ():
                    if isinstance(item, (bytes, str)):
                        self._show(item, cm, tm)
                    else:
                        state.pen -= float(item) / 1000 * state.size * state.scale
                return
            if operator != b"Tj":  # ' and ": to the next line, then show
                if operator == b'"':
                    state.word, state.char = float(operands[0]), float(operands[1])
                tm = tm.copy()
                tm[4] -= state.leading * tm[2]
                tm[5] -= state.leading * tm[3]
                state.pen = 0.0
            if operands:
                self._show(operands[-1], cm, tm)
        elif operator in _MOVES:
            state.pen = 0.0
            if operator == b"TD":
                state.leading = -float(operands[1])
        elif operator == b"Tf":
            state.font = self._font(operands[0])
            state.size = float(operands[1])
        elif operator == b"Tc":
            state.char = float(operands[0])
        elif operator == b"Tw":
            state.word = float(operands[0])
        elif operator == b"Tz":
            state.scale = float(operands[0]) / 100
        elif operator == b"TL":
            state.leading = float(operands[0])
        elif operator == b"q":
            self._saved.append(state.copy())
        elif operator == b"Q":
            if self._saved:  # the pen is no part of the graphics state
                self._state = self._saved.pop()
                self._state.pen = state.pen
        elif operator == b"Do":
            # pypdf walks a form XObject in the form's own space: place it on the page by
            # the form's /Matrix, then the matrix it is drawn with.
            name = str(operands[0]) if operands else ""
            matrix = self._forms.get(name, _IDENTITY)
            self.lines.placed.append(_multiply(_multiply(matrix, cm), self.lines.placed[-1]))
            form = _get(_get(self._resources[-1], "/XObject"), name)
            self._resources.append(_get(form, "/Resources") or self._resources[-1])
            self._outer.append((state, self._saved))
            self._state, self._saved = state.copy(), []

    def _font(self, name: Any) -> tuple[Any, Any, tuple[bool, bool]] | None:
        font = _get(_get(self._resources[-1], "/Font"), str(name))
        if font is None:
            return None
        known = self._fonts.get(id(font))
        if known is None:
            known = self._fonts[id(font)] = (font, _Font.from_font_resource(font), _font_kind(font))
        return known

    def _show(self, string: Any, cm: list[float], tm: list[float]) -> None:
        state = self._state
        if state.font is None:
            self.failed = True
            return
        font_dict, font, kind = state.font
        if isinstance(string, bytes):
            raw = bytes(string)
            if isinstance(font.encoding, str):
                try:
                    text = raw.decode(font.encoding, "surrogatepass")
                except UnicodeDecodeError:
                    text = raw.decode(font.encoding, "replace")
                keys = text
            else:
                text = "".join(font.encoding.get(b, chr(b)) for b in raw)
                keys = "".join(chr(b) for b in raw)
        else:
            text = keys = str(string)
        if not text:
            return
        widths = font.character_widths
        default = widths.get("default", 500)
        glyphs = sum(widths.get(key, default) for key in keys) / 1000
        # Word spacing applies to each single-byte code 32 (PDF 32000-1, 9.3.3).
        spaces = keys.count(" ") if len(keys) == len(string) else 0
        start = state.pen
        advance = glyphs * state.size + state.char * len(keys) + state.word * spaces
        state.pen += advance * state.scale
        mapped = font.character_map
        if mapped:
            text = "".join(mapped.get(char, char) for char in text)
        placed = self.lines.placed
        if len(placed) > 1:
            cm = _multiply(cm, placed[-1])
        m = _multiply(tm, cm)
        # The text space's (pen, 0) on the page: the pen times the text matrix times the
        # current transformation matrix (PDF 32000-1, 9.4.4).
        x0, y0 = start * m[0] + m[4], start * m[1] + m[5]
        x1, y1 = state.pen * m[0] + m[4], state.pen * m[1] + m[5]
        size = abs(state.size * math.hypot(m[2], m[3]))
        self.lines.piece(_glyphs(text, kind[1]), (x0, y0), (x1, y1), size, kind[0])


_SHOWS = frozenset((b"Tj", b"TJ", b"'", b'"'))
_MOVES = frozenset((b"BT", b"Tm", b"Td", b"TD", b"T*"))


@dataclass
class _TextState:
    """What `_Runs` follows of the text state: the font (its dict, pypdf's reading of it
    and `_font_kind`), size, character and word spacing, horizontal scale, leading, and
    how far the pen has moved from where the current line starts (in text space)."""

    font: tuple[Any, Any, tuple[bool, bool]] | None = None
    size: float = 0.0
    char: float = 0.0
    word: float = 0.0
    scale: float = 1.0
    leading: float = 0.0
    pen: float = 0.0

    def copy(self) -> _TextState:
        return _TextState(**vars(self))


def _get(dictionary: Any, key: str) -> Any:
    """`dictionary[key]` resolved, or None where there is none."""
    try:
        value = dictionary[key]
        return value.get_object() if hasattr(value, "get_object") else value
    except (KeyError, TypeError, AttributeError):
        return None


_Font: Any
try:  # pypdf's reading of a font dict: its encoding, ToUnicode map and glyph widths
    from pypdf.generic._font import Font as _Font
except ImportError:  # pragma: no cover - another pypdf: its own runs, as before
    _Font = None


class _Lines:
    """pypdf's text runs joined into printed lines, in drawn order. pypdf ends a run with
    a line break where the text moves to another baseline; a run that starts well off the
    current line's baseline starts a line too."""

    def __init__(self) -> None:
        self.lines: list[Line] = []
        self._parts: list[str] = []
        self._first: tuple[float, float] | None = None  # where the line's ink starts
        # Where the last string placed on the line starts and ends (see `piece`).
        self._last: tuple[tuple[float, float], tuple[float, float]] | None = None
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

    def piece(
        self,
        text: str,
        start: tuple[float, float],
        end: tuple[float, float],
        size: float,
        bold: bool,
    ) -> None:
        """One string the page shows, from `start` to `end` on the page (see `_Runs`). It
        follows the string before on its line with a space when the gap between them is
        wider than `_WORD_GAP` of the font size (or the string goes back more than an
        em); a narrower gap is kerning, and a string never gets a space inside it."""
        for i, part in enumerate(text.replace("\r", "\n").split("\n")):
            if i:
                self.close()
            if not part:
                continue
            if self._last is not None and self._parts and not self._parts[-1][-1:].isspace():
                (x0, y0), (x1, y1) = self._last
                length = math.hypot(x1 - x0, y1 - y0)
                if length > 0:
                    gap = ((start[0] - x1) * (x1 - x0) + (start[1] - y1) * (y1 - y0)) / length
                else:
                    gap = start[0] - x1
                if (gap > _WORD_GAP * size or gap < -size) and not part[0].isspace():
                    part = " " + part
            self._add(part, start[0], start[1], size, bold)
            self._last = (start, end)

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
        self._first = self._last = None
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
