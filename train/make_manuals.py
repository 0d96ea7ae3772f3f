"""Regenerate data/manuals/manuals/: GNU manuals and man pages the way users keep them.

    python train/make_manuals.py            # writes data/manuals/manuals/ afresh
    python train/make_manuals.py --out DIR  # the same into DIR (to compare)

Sources (read only): the info manuals in /usr/share/info (*.info*.gz) and the man pages
in /usr/share/man. Formats, so that each of qa's readers gets its share:

- info -> HTML, written the way `makeinfo --html --no-split` lays a manual out (a table
  of contents, a nav panel and a numbered heading with a permalink per node, hard-wrapped
  <p> text, <code>/<var>, <pre class="example">, <dl> option tables, <ul>/<ol> lists);
- info -> PDF: groff -ms source made from the info text, typeset by `groff -Tpdf -ms`
  (a title page, a table of contents with page numbers, numbered headings, each chapter
  on a new page, a running header and footer with page numbers);
- info -> plain text: the info file with its node separators (\\x1f) and "File: ...,
  Node: ..." lines removed, otherwise as is;
- man pages -> .txt (`groff -Tutf8 -man -P-cbou`), .html (`groff -Thtml -man`) and .pdf
  (`groff -Tpdf -man`).

Left out of every info manual: the license appendices (GFDL, GPL, LGPL) and the index
nodes, which are the same in every manual or only point back into it.

Deterministic: the same sources and groff give the same bytes (SOURCE_DATE_EPOCH fixes the
dates that groff writes into HTML comments and PDF properties). Needs the `groff` package
(not only `groff-base`): gropdf and grohtml.
"""

from __future__ import annotations

import gzip
import html
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "data" / "manuals" / "corpus"
INFO = Path("/usr/share/info")
MAN = Path("/usr/share/man")

# 2023-01-01T00:00:00Z: the date groff stamps into what it writes.
EPOCH = "1672531200"

# (info name, format, title as @settitle has it, running-header short title)
MANUALS = [
    ("grep", "html", "GNU Grep 3.8", "GNU Grep"),
    ("sed", "html", "GNU sed, a stream editor", "GNU sed"),
    ("gzip", "html", "GNU Gzip: General file (de)compression", "GNU Gzip"),
    ("time", "html", "GNU Time", "GNU Time"),
    ("libffi", "html", "libffi: the portable foreign function interface library", "libffi"),
    ("bzip2", "pdf", "bzip2 and libbzip2, version 1.0.8", "bzip2"),
    ("ed", "pdf", "GNU ed Manual", "GNU ed"),
    ("bc", "pdf", "bc: an arbitrary precision calculator language", "bc"),
    ("gpgrt", "pdf", "The GnuPG Runtime Library", "gpgrt"),
    ("wget", "txt", None, None),
    ("diffutils", "txt", None, None),
    ("rluserman", "txt", None, None),
    ("autosprintf", "txt", None, None),
    ("find", "txt", None, None),
]

# (section, page, format)
MAN_PAGES = [
    ("1", "ls", "txt"),
    ("1", "cp", "txt"),
    ("1", "sort", "txt"),
    ("1", "du", "txt"),
    ("1", "tail", "txt"),
    ("1", "date", "txt"),
    ("1", "df", "html"),
    ("1", "chmod", "html"),
    ("1", "tr", "html"),
    ("1", "dd", "html"),
    ("1", "stat", "html"),
    ("1", "free", "html"),
    ("1", "ln", "pdf"),
    ("1", "timeout", "pdf"),
    ("1", "watch", "pdf"),
    ("1", "ps", "pdf"),
    ("1", "file", "pdf"),
    ("1", "xz", "pdf"),
]

# PDFs whose document properties carry no title (texinfo's often do not): the reader
# then has the running header to go by.
NO_PDF_TITLE = {"bc", "watch", "file"}

SKIP_NODE = re.compile(
    r"^(GNU Free Documentation License|GNU FDL|GNU GPL|GNU LGPL|GNU General Public License|"
    r"Copying|Copying This Manual|Copying this manual|Library Copying|Licenses|"
    r".*[Ii]ndex)$"
)
INDEX_MARK = "\x00\x08[index\x00\x08]"


# ---------------------------------------------------------------------------- info


@dataclass
class Node:
    name: str
    lines: list[str]


def info_text(name: str) -> str:
    """The whole info manual, the parts of a split one joined."""
    main = gzip.open(INFO / f"{name}.info.gz", "rt", encoding="utf-8").read()
    if "\x1f\nIndirect:" not in main:
        return main
    parts = sorted(
        INFO.glob(f"{name}.info-*.gz"),
        key=lambda p: int(re.search(r"-(\d+)\.gz$", p.name).group(1)),  # type: ignore[union-attr]
    )
    head = main.split("\x1f", 1)[0]
    texts = [gzip.open(p, "rt", encoding="utf-8").read() for p in parts]
    return head + "".join("\x1f" + t.split("\x1f", 1)[1] for t in texts)


def info_nodes(name: str) -> list[Node]:
    nodes = []
    for piece in info_text(name).split("\x1f")[1:]:
        piece = piece.lstrip("\n")
        if not piece.startswith("File:"):
            continue  # Indirect:, Tag Table:, Local Variables
        header, _, body = piece.partition("\n")
        match = re.search(r"Node: ([^,\t]+)", header)
        assert match, header
        node = match.group(1).strip()
        if SKIP_NODE.match(node) or INDEX_MARK in body:
            continue
        lines = body.split("\n")
        while lines and not lines[0].strip():
            lines.pop(0)
        while lines and not lines[-1].strip():
            lines.pop()
        nodes.append(Node(node, lines))
    return nodes


def write_txt_manual(name: str, path: Path) -> None:
    text = "\n\n".join("\n".join(n.lines) for n in info_nodes(name))
    path.write_text(text + "\n", encoding="utf-8")


# A parsed node: a tree of elements.


@dataclass
class El:
    kind: str  # heading p pre dl ul ol menu def
    text: list[str] = field(default_factory=list)  # lines (p, pre, heading, def header)
    level: int = 0  # heading: 1 top, 2 chapter, 3 section, 4 subsection, 5 subsub
    items: list[tuple[list[str], list[El]]] = field(default_factory=list)  # dl/ul/ol/def


UNDERLINE = {"*": 2, "=": 3, "-": 4, ".": 5}
Line = tuple[int, str]  # (indent, text without the indent)


def blocks_of(lines: list[str]) -> list[list[Line]]:
    blocks: list[list[Line]] = []
    current: list[Line] = []
    for raw in lines:
        if not raw.strip():
            if current:
                blocks.append(current)
                current = []
            continue
        stripped = raw.lstrip(" ")
        current.append((len(raw) - len(stripped), stripped.rstrip()))
    if current:
        blocks.append(current)
    return blocks


def is_underline(line: str, over: str) -> bool:
    return (
        len(line) >= 3
        and line[0] in UNDERLINE
        and set(line) == {line[0]}
        and abs(len(line) - len(over)) <= 2
    )


def is_prose(lines: list[str]) -> bool:
    """An indented block that reads as text (@quotation, @display), not an example."""
    full = [t for t in lines if t]
    return (
        len(full) >= 2
        and all(not t.startswith(" ") for t in full)
        and sum(len(t) for t in full) / len(full) >= 50
        and all(len(t.split()) >= 5 for t in full[:-1])
        and not any(re.search(r"[{}|\\<>=]|;$|\$ |^[#%]", t) for t in full)
        and full[-1].rstrip()[-1:] in ".:;)”\"'"
    )


BULLET = re.compile(r"^([•*-]|\d+\.|[a-z]\.) +")


def parse_blocks(blocks: list[list[Line]], base: int, top: bool = False) -> list[El]:
    out: list[El] = []
    i = 0

    def followers(j: int, inner: int) -> tuple[list[list[Line]], int]:
        """The blocks from j on that sit at `inner` or deeper: they belong to the item."""
        taken = []
        while j < len(blocks) and min(ind for ind, _ in blocks[j]) >= inner:
            taken.append(blocks[j])
            j += 1
        return taken, j

    while i < len(blocks):
        block = blocks[i]
        first_ind, first = block[0]
        rel = first_ind - base
        low = min(ind for ind, _ in block)
        # A heading: its own block, a line and its underline.
        if len(block) == 2 and block[1][0] == first_ind and is_underline(block[1][1], first):
            level = (
                1
                if top and not any(e.kind == "heading" for e in out)
                else UNDERLINE[block[1][1][0]]
            )
            out.append(El("heading", [first], level=level))
            i += 1
            continue
        if first == "* Menu:" or first.startswith("* Menu:"):
            entries: list[tuple[list[str], list[El]]] = []
            i += 1
            in_detail = False
            while i < len(blocks):
                b = blocks[i]
                if not (b[0][1].startswith("* ") or top):
                    break
                for ind, text in b:
                    if "Detailed Node Listing" in text:
                        in_detail = True
                    m = re.match(r"^\* ([^:]+)::\s*(.*)$", text) or re.match(
                        r"^\* ([^:]+): ([^.,\t]+)[.,\t]\s*(.*)$", text
                    )
                    if m and ind == 0 and not in_detail:
                        entries.append(([m.group(1).strip()], []))
                i += 1
            out.append(El("menu", items=entries))
            continue
        # A definition (@deffn): " -- Function: ...", body 5 deeper.
        if first.startswith("-- ") and rel == 1:
            header = [first[3:]]
            rest = block[1:]
            while rest and rest[0][0] >= base + 10:
                header[-1] += " " + rest[0][1]
                rest = rest[1:]
            body = [rest] if rest else []
            more, i = followers(i + 1, base + 5)
            out.append(El("def", header, items=[([], parse_blocks(body + more, base + 5))]))
            continue
        m = BULLET.match(first)
        if m and 1 <= rel <= 4 and (low >= base + 1):
            ordered = m.group(1) not in "•*-"
            kind = "ol" if ordered else "ul"
            lead = [(base + 5, first[m.end() :])] + block[1:]
            more, j = followers(i + 1, base + 5)
            item: tuple[list[str], list[El]] = ([], parse_blocks([lead] + more, base + 5))
            if out and out[-1].kind == kind and getattr(out[-1], "_open", False):
                out[-1].items.append(item)
            else:
                el = El(kind, items=[item])
                el._open = True  # type: ignore[attr-defined]
                out.append(el)
            i = j
            continue
        if rel == 0 and len(block) >= 2 and any(ind >= base + 5 for ind, _ in block[1:]):
            terms = []
            k = 0
            while k < len(block) and block[k][0] == base:
                terms.append(block[k][1])
                k += 1
            rest = block[k:]
            more, j = followers(i + 1, base + 5)
            item = (terms, parse_blocks(([rest] if rest else []) + more, base + 5))
            if out and out[-1].kind == "dl" and getattr(out[-1], "_open", False):
                out[-1].items.append(item)
            else:
                el = El("dl", items=[item])
                el._open = True  # type: ignore[attr-defined]
                out.append(el)
            i = j
            continue
        if low >= base + 5:
            lines = [(ind, text) for ind, text in block]
            j = i + 1
            while (
                j < len(blocks)
                and min(ind for ind, _ in blocks[j]) >= base + 5
                and not (BULLET.match(blocks[j][0][1]) and blocks[j][0][0] - base <= 4)
            ):
                lines.append((-1, ""))
                lines.extend(blocks[j])
                j += 1
            pre = [" " * max(0, ind - base - 5) + text if ind >= 0 else "" for ind, text in lines]
            out.append(El("quote" if is_prose(pre) else "pre", pre))
            i = j
            continue
        # A paragraph (first line maybe 3 deeper).
        out.append(El("p", [text for _, text in block]))
        i += 1
    for el in out:
        if hasattr(el, "_open"):
            del el._open  # type: ignore[attr-defined]
    return out


@dataclass
class Section:
    node: str
    elements: list[El]


def parse_manual(name: str) -> list[Section]:
    set_quote_style(name)
    return [
        Section(n.name, parse_blocks(blocks_of(n.lines), 0, top=(n.name == "Top")))
        for n in info_nodes(name)
    ]


def heading_of(section: Section) -> El | None:
    for el in section.elements:
        if el.kind == "heading":
            return el
    return None


# ---------------------------------------------------------------------------- HTML


def anchor(node: str) -> str:
    out = []
    for ch in node:
        if ch.isascii() and ch.isalnum():
            out.append(ch)
        elif ch == " ":
            out.append("-")
        else:
            out.append(f"_{ord(ch):04x}")
    return "".join(out)


CODE_CURLY = re.compile(r"‘([^‘’]{1,120}?)’", re.S)
# Manuals made with @set txicodequoteundirected (or by older makeinfo) quote code 'so'.
CODE_ASCII = re.compile(r"(?<![\w'])'([^'\n]{1,80}?)'(?![\w'])")
CODE = CODE_CURLY


def set_quote_style(name: str) -> None:
    global CODE
    text = info_text(name)
    CODE = CODE_CURLY if text.count("‘") > 20 else CODE_ASCII


XREF = re.compile(r"\*([Nn])ote[ \n]+(?:([^:*]+?):[ \n]+)?(\([^)]+\))?([^:*.,]+?)(::|[.,])", re.S)


def var_html(code: str) -> str:
    if code.startswith("-") or "=" in code:
        return re.sub(
            r"(?<=[ =\[])([A-Z][A-Z0-9_]+)\b",
            lambda m: f'<var class="var">{m.group(1).lower()}</var>',
            code,
        )
    return code


def inline_html(text: str, nodes: set[str]) -> str:
    text = html.escape(text, quote=False)
    keep: list[str] = []

    def hold(s: str) -> str:
        keep.append(s)
        return f"\x00{len(keep) - 1}\x00"

    def xref(m: re.Match[str]) -> str:
        see = "See" if m.group(1) == "N" else "see"
        label, manual, node, end = m.group(2), m.group(3), m.group(4).strip(), m.group(5)
        shown = (label or node).replace("\n", " ")
        node_1 = " ".join(node.split())
        if manual:
            href = f"{manual.strip('()')}.html#{anchor(node_1)}"
        elif node_1 in nodes:
            href = f"#{anchor(node_1)}"
        else:
            href = "#" + anchor(node_1)
        tail = "" if end == "::" else end
        return hold(f'{see} <a class="ref" href="{href}">{shown}</a>') + tail

    text = XREF.sub(xref, text)
    text = CODE.sub(lambda m: hold(f'<code class="code">{var_html(m.group(1))}</code>'), text)
    text = re.sub(r"(?<![\w\x00])_([^_\n\x00]+?)_(?![\w])", r'<em class="emph">\1</em>', text)
    text = re.sub(
        r"(?<![\w*\x00])\*([A-Za-z][^*\n\x00]{0,40}?)\*(?![\w*])",
        r'<strong class="strong">\1</strong>',
        text,
    )
    return re.sub(r"\x00(\d+)\x00", lambda m: keep[int(m.group(1))], text)


def html_elements(els: list[El], nodes: set[str], node: str) -> list[str]:
    out: list[str] = []
    for el in els:
        if el.kind == "heading":
            continue  # written by the section
        if el.kind == "p":
            out.append("<p>" + inline_html("\n".join(el.text), nodes) + "\n</p>")
        elif el.kind == "quote":
            out.append(
                '<blockquote class="quotation">\n<p>'
                + inline_html("\n".join(el.text), nodes)
                + "\n</p></blockquote>"
            )
        elif el.kind == "pre":
            out.append(
                '<div class="example">\n<pre class="example-preformatted">'
                + html.escape("\n".join(el.text), quote=False)
                + "\n</pre></div>"
            )
        elif el.kind == "menu":
            items = [t for t in el.items if t[0][0] in nodes]
            if not items:
                continue
            lis = [
                f'<li><a href="#{anchor(t[0])}" accesskey="{k}">{html.escape(t[0])}</a></li>'
                if k < 10
                else f'<li><a href="#{anchor(t[0])}">{html.escape(t[0])}</a></li>'
                for k, (t, _) in enumerate(items, 1)
            ]
            out.append('<ul class="mini-toc">\n' + "\n".join(lis) + "\n</ul>")
        elif el.kind == "dl":
            parts = ['<dl class="table">']
            for terms, body in el.items:
                for t in terms:
                    parts.append(f"<dt>{inline_html(t, nodes)}</dt>")
                parts.append("<dd>" + "\n".join(html_elements(body, nodes, node)) + "\n</dd>")
            parts.append("</dl>")
            out.append("\n".join(parts))
        elif el.kind in ("ul", "ol"):
            cls = "itemize mark-bullet" if el.kind == "ul" else "enumerate"
            parts = [f'<{el.kind} class="{cls}">']
            for _, body in el.items:
                inner = html_elements(body, nodes, node)
                # makeinfo writes a one-paragraph item without its <p>.
                if len(inner) == 1 and inner[0].startswith("<p>"):
                    inner = [inner[0][3:-4].rstrip("\n")]
                parts.append("<li>" + "\n".join(inner) + "\n</li>")
            parts.append(f"</{el.kind}>")
            out.append("\n".join(parts))
        elif el.kind == "def":
            head = el.text[0]
            cat, _, rest = head.partition(": ")
            out.append(
                '<dl class="first-deftypefn">\n<dt class="deftypefn"><span class="category-def">'
                f'{html.escape(cat)}: </span><span><code class="def-type">'
                f"{html.escape(rest)}</code></span></dt>\n<dd>"
                + "\n".join(html_elements(el.items[0][1], nodes, node))
                + "\n</dd></dl>"
            )
    return out


HTML_HEAD = """<!DOCTYPE html>
<html>
<!-- Created by GNU Texinfo 7.0.3, https://www.gnu.org/software/texinfo/ -->
<head>
<meta http-equiv="Content-Type" content="text/html; charset=utf-8">
<title>{title}</title>

<meta name="description" content="{title}">
<meta name="keywords" content="{title}">
<meta name="resource-type" content="document">
<meta name="distribution" content="global">
<meta name="Generator" content="makeinfo">
<meta name="viewport" content="width=device-width,initial-scale=1">

<link href="#Top" rel="start" title="Top">
<link href="#SEC_Contents" rel="contents" title="Table of Contents">
<link href="dir.html#Top" rel="up" title="(dir)">
<style type="text/css">
<!--
a.copiable-link {{visibility: hidden; text-decoration: none; line-height: 0em}}
div.example {{margin-left: 3.2em}}
span:hover a.copiable-link {{visibility: visible}}
ul.mark-bullet {{list-style-type: disc}}
ul.toc-numbered-mark {{list-style: none}}
-->
</style>


</head>

<body lang="en">
<h1 class="settitle">{title}</h1>
"""

HEADING_CLASS = {1: "top", 2: "chapter", 3: "section", 4: "subsection", 5: "subsubsection"}


def nav_panel(sections: list[Section], k: int) -> str:
    links = []
    if k + 1 < len(sections):
        n = sections[k + 1].node
        links.append(f'Next: <a href="#{anchor(n)}" accesskey="n" rel="next">{html.escape(n)}</a>')
    if k > 0:
        n = sections[k - 1].node
        links.append(
            f'Previous: <a href="#{anchor(n)}" accesskey="p" rel="prev">{html.escape(n)}</a>'
        )
    up = (
        '<a href="dir.html#Top" accesskey="u" rel="up">(dir)</a>'
        if k == 0
        else '<a href="#Top" accesskey="u" rel="up">Top</a>'
    )
    links.append(f"Up: {up}")
    return (
        '<div class="nav-panel">\n<p>\n'
        + ", ".join(links)
        + ' &nbsp; [<a href="#SEC_Contents" title="Table of contents" rel="contents">'
        + "Contents</a>]</p>\n</div>\n<hr>"
    )


def write_html_manual(name: str, title: str, path: Path) -> None:
    sections = parse_manual(name)
    nodes = {s.node for s in sections}
    body: list[str] = []
    toc: list[tuple[int, str, str]] = []
    for k, s in enumerate(sections):
        h = heading_of(s)
        level = h.level if h else 4
        text = h.text[0] if h else s.node
        plain = (
            re.sub(r"^(?:Appendix )?[A-Z0-9](?:\.\d+)*\s+", "", text)
            .replace("‘", "")
            .replace("’", "")
        )
        hid = anchor(plain) if anchor(plain) != anchor(s.node) else anchor(s.node) + "-1"
        if h and level > 1:
            toc.append((level, s.node, text))
        cls = HEADING_CLASS.get(level, "section")
        body.append(f'<div class="{cls}-level-extent" id="{anchor(s.node)}">')
        body.append(nav_panel(sections, k))
        tag = f"h{min(level, 4)}"
        body.append(
            f'<{tag} class="{cls}" id="{hid}"><span>{inline_html(text, nodes)}'
            f'<a class="copiable-link" href="#{hid}"> &para;</a></span></{tag}>\n'
        )
        body.extend(html_elements(s.elements, nodes, s.node))
        body.append("</div>")
        if k == 0:
            body.append(toc_placeholder := "\x00TOC\x00")
    contents = [
        '<div class="element-contents" id="SEC_Contents">',
        '<h2 class="contents-heading">Table of Contents</h2>',
        "",
        '<div class="contents">',
        '<ul class="toc-numbered-mark">',
    ]
    depth = 2
    for k, (level, node, text) in enumerate(toc):
        deeper = k + 1 < len(toc) and toc[k + 1][0] > level
        item = (
            f'<li><a id="toc-{anchor(node)}" href="#{anchor(node)}">{inline_html(text, nodes)}</a>'
        )
        contents.append(item + ("" if deeper else "</li>"))
        if deeper:
            contents.append('<ul class="toc-numbered-mark">')
            depth += 1
        nxt = toc[k + 1][0] if k + 1 < len(toc) else 2
        while depth > max(nxt, 2) and not deeper:
            contents.append("</ul></li>")
            depth -= 1
    contents += ["</ul>", "</div>", "</div>"]
    page = (
        HTML_HEAD.format(title=html.escape(title))
        + "\n".join(body).replace(toc_placeholder, "\n".join(contents))
        + "\n\n\n\n</body>\n</html>\n"
    )
    path.write_text(page, encoding="utf-8")


# ---------------------------------------------------------------------------- groff ms -> PDF


def roff_escape(text: str) -> str:
    text = text.replace("\\", "\\e")
    return text


def roff_line(text: str) -> str:
    if text.startswith((".", "'")):
        return "\\&" + text
    return text


def inline_roff(text: str, xref_pages: dict[str, tuple[str, int]]) -> str:
    text = roff_escape(text)

    def xref(m: re.Match[str]) -> str:
        see = "See" if m.group(1) == "N" else "see"
        manual, node, end = m.group(3), m.group(4).strip(), m.group(5)
        node_1 = " ".join(node.split())
        tail = "" if end == "::" else end
        if manual:
            return f"{see} Section \\(lq{node_1}\\(rq in \\fI{manual.strip('()')}\\fP{tail}"
        if node_1 in xref_pages:
            number, page = xref_pages[node_1]
            return f"{see} Section {number} [{node_1}], page {page}{tail}"
        return f"{see} \\(lq{node_1}\\(rq{tail}"

    text = XREF.sub(xref, text)
    text = CODE.sub(lambda m: "\\f(CR\\%" + m.group(1).replace("\n", "\n\\%") + "\\fP", text)
    text = re.sub(r"(?<![\w])_([^_\n]+?)_(?![\w])", r"\\fI\1\\fP", text)
    return "\n".join(roff_line(line) for line in text.split("\n"))


def roff_elements(els: list[El], pages: dict[str, tuple[str, int]], out: list[str]) -> None:
    for el in els:
        if el.kind == "heading" or el.kind == "menu":
            continue
        if el.kind == "p":
            out += [".PP", inline_roff("\n".join(el.text), pages)]
        elif el.kind == "quote":
            out += [".QP", inline_roff("\n".join(el.text), pages)]
        elif el.kind == "pre":
            out += [".LP", ".RS", ".nf", ".ft CR", ".ps -1", ".vs -1"]
            out += [roff_line(roff_escape(t)) if t else "" for t in el.text]
            out += [".vs", ".ps", ".ft", ".fi", ".RE"]
        elif el.kind == "dl":
            for terms, body in el.items:
                out += [".LP", ".ne 3"]
                for t in terms:
                    out += [inline_roff(t, pages), ".br"]
                out.append(".RS")
                roff_elements(body, pages, out)
                out.append(".RE")
        elif el.kind in ("ul", "ol"):
            for k, (_, body) in enumerate(el.items, 1):
                mark = "\\(bu" if el.kind == "ul" else f"{k}."
                out.append(f".IP {mark} 4n")
                # the item's first paragraph goes on the mark's line
                if body and body[0].kind == "p":
                    out.append(inline_roff("\n".join(body[0].text), pages))
                    body = body[1:]
                if body:
                    out.append(".RS")
                    roff_elements(body, pages, out)
                    out.append(".RE")
        elif el.kind == "def":
            out += [".LP", ".ne 3", "\\(em " + roff_line(roff_escape(el.text[0])), ".RS"]
            roff_elements(el.items[0][1], pages, out)
            out.append(".RE")


def ms_source(
    name: str, title: str, short: str, pages: dict[str, tuple[str, int]] | None, pdf_title: bool
) -> str:
    sections = parse_manual(name)
    out = [
        '.\\" generated by train/make_manuals.py from ' + f"{name}.info",
        ".nr PS 11",
        ".nr VS 13",
        ".nr PI 0n",
        ".nr PD 0.5v",
        ".nr GROWPS 3",
        ".nr PSINCR 2p",
        ".nr HM 0.8i",
        ".nr FM 0.8i",
        ".nr LL 6i",
        ".ll 6i",
        ".nr PO 1.2i",
        ".po 1.2i",
        ".ds CH",
        ".ds LH",
        ".ds RH",
        ".ds LF",
        ".ds CF",
        ".ds RF",
        ".kern 0",
        # ms's own PT tests the page number as a number, which a roman one is not.
        ".de PT",
        ".tl \\*[pg*OH]",
        "..",
    ]
    if pdf_title:
        out.append(f".pdfinfo /Title {title}")
    out.append(".pdfinfo /Creator groff -ms (texinfo source)")
    body: list[str] = []
    for s in sections:
        h = heading_of(s)
        if h is None:
            continue
        text = h.text[0]
        m = re.match(r"^((?:Appendix )?[A-Z0-9](?:\.\d+)*)\s+(.*)$", text)
        number = (
            m.group(1)
            if m and (m.group(1)[0].isdigit() or m.group(1).startswith("Appendix"))
            else ""
        )
        if h.level == 1:
            # The Top node: its text opens the manual on the title page.
            body += [".nr PS 11", ".LP"]
            roff_elements(s.elements, pages or {}, body)
            body += [".bp"]
            continue
        if h.level == 2:
            label = f"Chapter {number}: {m.group(2)}" if m and number[:1].isdigit() else text
            body += [f".ds LH {roff_escape(label)}", ".bp"]
        if pages is None:
            body.append(f".tm PAGE\t{s.node}\t\\n%")
        body += [f".SH {h.level - 1}", roff_line(roff_escape(text))]
        body += [f'.pdfbookmark {h.level - 1} "{roff_escape(text).replace(chr(34), "")}"']
        roff_elements(s.elements, pages or {}, body)
    # Title page, then contents (roman page numbers), then the body from page 1. Both
    # passes lay out the same pages; pass 1 has 0 for every page number.
    front = [".af % i", ".TL", roff_escape(title), ".LP", ".sp 1i"]
    toc = [
        ".ds LH Table of Contents",
        ".ds RH \\\\n%",
        ".bp",
        ".SH 1",
        "Table of Contents",
        ".nf",
        ".lc .",
        ".ta 5.5iR",
    ]
    for s in sections:
        h = heading_of(s)
        if h is None or h.level == 1:
            continue
        indent = f"\\h'{2 * (h.level - 2)}n'"
        page = pages[s.node][1] if pages and s.node in pages else 0
        toc.append(f"{indent}{roff_escape(h.text[0])}\x01{page}")
    toc += [".fi", ".lc", ".ds CF " + roff_escape(short), ".af % 1", ".pn 1"]
    # Top-node text (copyright, version) sits on the title page.
    top: list[str] = []
    rest = body
    if body and body[0] == ".nr PS 11":
        cut = body.index(".bp")
        top, rest = body[1:cut], body[cut + 1 :]
    return "\n".join(out + front + top + toc + rest) + "\n"


def groff(args: list[str], source: str) -> tuple[bytes, str]:
    env = dict(os.environ, SOURCE_DATE_EPOCH=EPOCH, LC_ALL="C.UTF-8", TZ="UTC")
    done = subprocess.run(
        ["groff", *args], input=source.encode("utf-8"), capture_output=True, env=env, check=True
    )
    return done.stdout, done.stderr.decode("utf-8", "replace")


def write_pdf_manual(name: str, title: str, short: str, path: Path) -> None:
    # Pass 1: where each node's heading falls; pass 2: the contents and the page numbers in
    # cross references. The body starts on page 1 both times.
    _, log = groff(["-k", "-Tpdf", "-ms", "-mpdf"], ms_source(name, title, short, None, False))
    pages = {}
    number = {}
    for s in parse_manual(name):
        h = heading_of(s)
        if h:
            m = re.match(r"^((?:Appendix )?[A-Z0-9](?:\.\d+)*)\s", h.text[0])
            number[s.node] = m.group(1).replace("Appendix ", "") if m else ""
    for line in log.splitlines():
        if line.startswith("PAGE\t"):
            _, node, page = line.split("\t")
            pages[node] = (number.get(node, ""), int(page))
    pdf, _ = groff(
        ["-k", "-Tpdf", "-ms", "-mpdf"],
        ms_source(name, title, short, pages, name not in NO_PDF_TITLE),
    )
    path.write_bytes(pdf)


# ---------------------------------------------------------------------------- man pages


def man_source(section: str, page: str) -> str:
    found = sorted((MAN / f"man{section}").glob(f"{page}.{section}*"))
    assert found, page
    data = found[0].read_bytes()
    if found[0].suffix == ".gz":
        data = gzip.decompress(data)
    return data.decode("utf-8")


def write_man(section: str, page: str, fmt: str, path: Path) -> None:
    src = man_source(section, page)
    if fmt == "txt":
        out, _ = groff(["-k", "-t", "-Tutf8", "-man", "-P-cbou"], src)
        path.write_bytes(out)
    elif fmt == "html":
        out, _ = groff(["-k", "-t", "-Thtml", "-man"], src)
        path.write_bytes(out)
    else:
        if page not in NO_PDF_TITLE:
            name = re.search(r'^\.TH\s+"?([^\s"]+)', src, re.M)
            src = (
                ".mso pdf.tmac\n"
                + f".pdfinfo /Title {name.group(1) if name else page}({section})\n"
                + src
            )  # type: ignore[union-attr]
        out, _ = groff(["-k", "-t", "-Tpdf", "-man"], src)
        path.write_bytes(out)


# ---------------------------------------------------------------------------- main


def main(argv: list[str]) -> int:
    global OUT
    if argv[:1] == ["--out"] and len(argv) == 2:
        OUT = Path(argv[1]).resolve()
    elif argv:
        print("usage: python train/make_manuals.py [--out DIR]", file=sys.stderr)
        return 2
    if (
        shutil.which("groff") is None
        or not shutil.which("gropdf")
        or not shutil.which("post-grohtml")
    ):
        print("groff with gropdf and grohtml is needed (apt-get install groff)", file=sys.stderr)
        return 1
    if OUT.exists():
        shutil.rmtree(OUT)
    (OUT / "gnu").mkdir(parents=True)
    (OUT / "man").mkdir(parents=True)
    for name, fmt, title, short in MANUALS:
        path = OUT / "gnu" / f"{name}.{fmt}"
        if fmt == "txt":
            write_txt_manual(name, path)
        elif fmt == "html":
            write_html_manual(name, title or name, path)
        else:
            write_pdf_manual(name, title or name, short or name, path)
        print(f"{path.relative_to(OUT)}")
    for section, page, fmt in MAN_PAGES:
        path = OUT / "man" / f"{page}.{section}.{fmt}"
        write_man(section, page, fmt, path)
        print(f"{path.relative_to(OUT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
