"""Plain text (.txt): UTF-8 lines read as the paragraphs they print as.

Three kinds of text files are common and read differently:
- one paragraph a line (a saved news page, notes): every line is a paragraph, as before;
- hard-wrapped text (a manual saved from `info` or `man`, a README): lines of one
  paragraph are joined back, so a sentence is never cut at a line break; a term line
  followed by its indented description ("-q, --quiet" / "Do not print ...") is one
  paragraph, "term: description";
- a formatted man page (`man ls > ls.txt`): its header and footer lines are not text, its
  NAME line is the title, its sections ("DESCRIPTION") are headings, and a word groff
  hyphenated at the margin ("speci‐" / "fied") is joined back;
- either may carry headings underlined with a row of =, *, - or . (texinfo's info files,
  reStructuredText, Markdown's setext): each is a `Heading`, its level by the order in
  which the underline characters first appear, and the underline is not text.

An info file's navigation (node lines, menus, index entries, the directory entry, the tag
table) is not text; those rules apply only to a file that is an info file (its nodes are
separated by 0x1f, or it has info's node lines or menus), so a note's "* Item: value."
list stays. The
header of a saved page (title, dateline) is read by corpus.py (`has_header`).
"""

from __future__ import annotations

import re
from pathlib import Path

from ...language import ENDS_CLAUSE
from .base import Extracted, Heading, decode_text

_INFO_MARKERS = re.compile(rb"\x00\x08\[[^\x00]*\x00\x08\]")
_INFO_SIGNS = re.compile(rb"^(\* Menu:|File: \S+\.info,\s+Node: )", re.MULTILINE)
_INFO_TRAILER = re.compile(r"^Tag Table:\s*$", re.MULTILINE)
_UNDERLINE = re.compile(r"^\s*([=*\-.~^#+])\1{2,}\s*$")
# An info file's navigation: node headers, menus and their entries, the directory entry,
# makeinfo's stamp. Menu entries ("* Invoking sed::   Invocation", "* address, as a
# regular expression: Addresses.   (line 6)") are how info's index nodes are written too.
_NAVIGATION = (
    re.compile(r"^File: \S+,\s+Node: "),
    re.compile(r"^\* Menu:"),
    re.compile(r"^\* [^:]+::"),
    re.compile(r"^\* .+:\s{2,}\S"),
    re.compile(r"^\* .*\(line\s+\d+\)\s*$"),
    re.compile(r"^\* [^:]+: [^:]+\.\s*$"),
    re.compile(r"^\s*\(line\s+\d+\)\s*$"),
    re.compile(r"^\* \S[^:]*: \([^)]+\)"),
    re.compile(r"^(INFO-DIR-SECTION|START-INFO-DIR-ENTRY|END-INFO-DIR-ENTRY)\b"),
    re.compile(r"^This is \S+\.info, produced by makeinfo\b"),
    re.compile(r"^(Local Variables:|coding: [\w-]+$|End:$)"),
)
# A line opening a list item, which starts a paragraph of its own even in wrapped text.
_LIST_ITEM = re.compile(r"^\s*([-*•+]|\d{1,3}[.)]|[a-z][.)])\s+\S")
_OPTION_AND_TEXT = re.compile(r"^\s*(--?\w[\w=\[\]-]*(?:,\s*--?\w[\w=\[\]-]*)*)\s{2,}(\S.*)$")
_NUMBER_ITEM = re.compile(r"^\s*(\d{1,3}|[a-z])[.)]\s")
_NUMBERED = re.compile(r"^(\d+|[A-Z])(\.\d+)*\.?\s+\S")


def read_plain(path: Path) -> Extracted:
    # An info file marks its index nodes with NUL-backspace brackets and separates its
    # nodes with 0x1f: markup, not binary content.
    raw = path.read_bytes()
    # An info file as makeinfo writes it (nodes apart by 0x1f), or as `info` prints it or
    # a converter saves it (node lines or menus, no 0x1f).
    info = b"\x1f\nFile: " in raw or bool(_INFO_SIGNS.search(raw))
    if info:
        raw = _INFO_MARKERS.sub(b"", raw).replace(b"\x1f", b"")
    text = decode_text(raw)
    lines = text.split("\n")
    man_title = None
    if _is_man_page(lines):
        lines, man_title = _man_page(lines)
    if info:
        # An info file ends with its tag table (node offsets) and an Emacs trailer.
        lines = _without_navigation(_INFO_TRAILER.split(text, maxsplit=1)[0].split("\n"))
    marked = _headings(lines)
    width = _wrap_width(marked)
    paragraphs = _rejoin(marked, width) if width else marked
    if not any(isinstance(p, Heading) for p in paragraphs):
        return Extracted(paragraphs=paragraphs, has_header=True)
    # Text with a structure of headings is a manual or notes, not a saved page: its
    # title is its opening heading unless that is a numbered section ("1 Introduction"),
    # else the file's name.
    first = next((p for p in paragraphs if p.strip()), "")
    title = first if isinstance(first, Heading) and not _NUMBERED.match(first) else None
    return Extracted(paragraphs=paragraphs, title=man_title or title)


# A formatted man page (`man ls > ls.txt`): "LS(1)   User Commands   LS(1)" opens it and
# the same name closes its last line; its sections ("NAME", "DESCRIPTION") stand at the
# margin, its text is indented.
_MAN_HEADER = re.compile(r"^(\S+)\((\w+)\)\s{2,}.*\S\s{2,}\1\(\2\)\s*$")
_MAN_FOOTER = re.compile(r"^\S.*\s{2,}\S+\(\w+\)\s*$")
_MAN_SECTION = re.compile(r"^[A-Z][A-Z0-9 /_-]{1,40}$")
_MAN_SUBSECTION = re.compile(r"^ {2,4}[A-Z][\w /-]{1,40}:?$")


def _is_man_page(lines: list[str]) -> bool:
    first = next((line for line in lines if line.strip()), "")
    return bool(_MAN_HEADER.match(first))


def _man_page(lines: list[str]) -> tuple[list[str], str | None]:
    """A man page's lines without its header and footer, its sections as Headings, and its
    title: the NAME section's line ("ls - list directory contents")."""
    header = next(line for line in lines if line.strip())
    name = _MAN_HEADER.match(header)
    assert name is not None
    out: list[str] = []
    title = None
    in_name = False
    for line in lines:
        if _MAN_HEADER.match(line) or (
            _MAN_FOOTER.match(line) and line.rstrip().endswith(f"{name.group(1)}({name.group(2)})")
        ):
            continue
        if _MAN_SECTION.match(line):
            in_name = line.strip() == "NAME"
            out.append(Heading(line.strip(), 1))
            continue
        if _MAN_SUBSECTION.match(line) and not line.strip().startswith("-"):
            out.append(Heading(line.strip().rstrip(":"), 2))
            continue
        if in_name and line.strip() and title is None:
            title = " ".join(line.split())
        out.append(line)
    return out, title


def _without_navigation(lines: list[str]) -> list[str]:
    """The lines without navigation. A menu entry's description may wrap onto deeply
    indented lines of its own: they go with the entry."""
    kept: list[str] = []
    dropping = False
    for line in lines:
        if any(p.match(line) for p in _NAVIGATION):
            dropping = True
            continue
        if dropping and line.strip() and _indent(line) >= 16:
            continue
        dropping = False
        kept.append(line)
    return kept


def _headings(lines: list[str]) -> list[str]:
    """The lines with each underlined heading as a Heading and its underline dropped."""
    levels: dict[str, int] = {}
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        nxt = lines[i + 1] if i + 1 < len(lines) else ""
        m = _UNDERLINE.match(nxt)
        text = line.strip()
        if (
            m
            and text
            and not _UNDERLINE.match(line)
            and len(nxt.strip()) >= 0.6 * len(text)
            and len(text.split()) <= 15
        ):
            level = levels.setdefault(m.group(1), len(levels) + 1)
            out.append(Heading(text, level))
            i += 2
            continue
        out.append(line)
        i += 1
    return out


def _wrap_width(lines: list[str]) -> int | None:
    """The column the text is wrapped at, or None when it is not hard-wrapped: most of
    its longer lines end within a few characters of one width of at most 100."""
    lengths = [len(line.rstrip()) for line in lines if not isinstance(line, Heading)]
    long = sorted(n for n in lengths if n >= 40)
    if len(long) < 8:
        return None
    width = long[int(0.9 * (len(long) - 1))]
    if width > 100:
        return None
    near = sum(1 for n in long if n >= width - 20)
    return width if near >= 0.6 * len(long) else None


def _rejoin(lines: list[str], width: int) -> list[str]:
    """Hard-wrapped lines joined into the paragraphs they print as. A block (lines between
    blank lines) is one paragraph, except: a heading stands alone; a list item starts a
    new paragraph; a short term line followed by more indented lines is "term: the
    description"; lines more indented than the block's first and not reaching the
    margin (an example, a command) stay one a line."""
    paragraphs: list[str] = []
    block: list[str] = []

    def flush() -> None:
        if block:
            paragraphs.extend(_block_paragraphs(block, width))
            block.clear()

    for line in lines:
        if isinstance(line, Heading):
            flush()
            paragraphs.append(line)
        elif not line.strip():
            flush()
            paragraphs.append("")
        else:
            block.append(line.rstrip())
    flush()
    return paragraphs


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _block_paragraphs(block: list[str], width: int) -> list[str]:
    first = block[0]
    rest = block[1:]
    # A term and its description: "'-q, --quiet'" then "     Do not print ...".
    if (
        rest
        and len(first.strip()) <= 0.6 * width
        and not ENDS_CLAUSE.search(first.strip())
        and all(_indent(line) > _indent(first) for line in rest)
    ):
        description = _prose(rest)
        return [f"{first.strip()}: {description[0]}", *description[1:]] if description else [first]
    # An option and its description on one line, apart by a gap: "-c     with -lt: ...".
    if m := _OPTION_AND_TEXT.match(first):
        return _prose([f"{m.group(1)}: {m.group(2)}", *rest])
    # Code or an example: every line indented and none reaching the margin.
    base = min(_indent(line) for line in block)
    if base >= 4 and all(len(line) < width - 12 for line in block) and len(block) > 1:
        return [line.strip() for line in block]
    return _prose(block)


def _prose(block: list[str]) -> list[str]:
    """Lines of running text joined with spaces; a list item starts a new paragraph."""
    paragraphs: list[str] = []
    current = ""
    for line in block:
        text = line.strip()
        # A list item starts a paragraph, but a number the text wrapped to the line's start
        # ("... is set to" / "20. The functions ...") continues the one before.
        if (
            current
            and _LIST_ITEM.match(line)
            and not (_NUMBER_ITEM.match(line) and not ENDS_CLAUSE.search(current))
        ):
            paragraphs.append(current)
            current = ""
        if current.endswith("\u2010") and text[:1].isalpha():
            # groff marks a word it hyphenated at the margin with U+2010: "speci‐" / "fied".
            current = current[:-1] + text
        elif current.endswith("-") and text[:1].isalpha() and current[-2:-1].isalpha():
            # "command-" / "line": a compound broken at its hyphen (plain text is wrapped
            # at spaces and hyphens, not hyphenated), so the hyphen stays.
            current += text
        else:
            current = f"{current} {text}" if current else text
    if current:
        paragraphs.append(current)
    return [" ".join(p.split()) for p in paragraphs]
