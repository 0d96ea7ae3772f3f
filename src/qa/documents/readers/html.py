"""Saved web pages (.html, .htm): the page's main text as the browser shows it, and its
title, date, author and site name from its markup.

lxml parses the page; `html_text` reads the blocks of its main region the way a browser
lays them out, less the page's furniture: navigation, headers and footers, sidebars,
tables of contents, breadcrumbs, cookie banners, share buttons, comment sections and
forms. The main region is the one the page marks (`<main>`, `[role=main]`, its one
`<article>`), else the element around the paragraphs trafilatura takes for main text,
read whole (trafilatura alone drops an opening paragraph outside the `<div>` it picks,
and cuts sentences at inline code). `html_meta` reads the title, date, author and site.
"""

from __future__ import annotations

import codecs
import re
from pathlib import Path

from lxml import etree

from .base import Extracted, Heading, ReadError
from .html_meta import author_and_site, headline, page_date, page_title
from .html_text import BLOCKS, Skip, blocks, inline_text

# Where a charset is declared: <meta charset>, <meta http-equiv="Content-Type"
# content="text/html; charset=...">, or an XHTML page's XML declaration. Browsers look
# for it in the first 1,024 bytes; saved pages with long heads put it later, so more.
_CHARSET = re.compile(
    rb"""<meta[^>]+charset\s*=\s*["']?\s*([a-z0-9_.:-]+)"""
    rb"""|<\?xml[^>]+encoding\s*=\s*["']([a-z0-9_.:-]+)""",
    re.IGNORECASE,
)
_CHARSET_SCAN = 8192
_XML_DECLARATION = re.compile(r"\A\s*<\?xml[^>]*\?>")

# The main region the page marks, in order of trust; a lone <article> is the main text
# where it holds this share of the page's text or more (else it is a teaser).
_MAIN_REGIONS = ("//main", "//*[@role='main']")
_ARTICLE_SHARE = 0.2
# Where the page marks no region: the innermost of these blocks (a <div> counts where no
# other block is inside it) are matched to trafilatura's paragraphs by their first
# _KEY_WORDS words; those under _PARAGRAPH_CHARS letters (a heading, a link) say too
# little to count.
_PARAGRAPHS = (
    "p", "li", "dd", "dt", "td", "th", "pre", "blockquote", "h1", "h2", "h3", "h4", "div"
)  # fmt: skip
_PARAGRAPH_CHARS = 20
_KEY_WORDS = 5

# Furniture by element or ARIA role: never the text of the page, unless it holds the
# page's headline (a <header> with the <h1>).
_FURNITURE_TAGS = frozenset({"nav", "aside", "footer"})
_FURNITURE_ROLES = frozenset(
    "navigation banner contentinfo complementary search menu menubar toolbar".split()
)
# Furniture unless it holds much of the text: a <form> or <dialog> (an ASP.NET page is
# one <form> around everything).
_CONTAINER_TAGS = frozenset({"form", "dialog"})
# Furniture by class or id, as whole words of it ("cookie-banner", "site_footer").
_FURNITURE_NAMES = re.compile(
    r"(?:^|[\s_-])(?:cookies?|consent|gdpr|share|sharing|sharedaddy|social|comments?|respond|"
    r"disqus|newsletter|subscribe|signup|promo|advert|advertisement|ads?|sponsored|popup|"
    r"modal|breadcrumbs?|skip-?link|screen-reader-text|sr-only|visually-hidden|byline|meta|"
    r"tags|categories|cat-links|related|relbar|pagination|pager|copyright|legalnotice)"
    r"(?:$|[\s_-])",
    re.IGNORECASE,
)
# Names that say "layout" as often as "furniture" ("has-sidebar", "content-header"): such
# an element, like a <form>, is furniture only when it holds less than half of the text.
_LAYOUT_NAMES = re.compile(
    r"(?:^|[\s_-])(?:(?:left|right|top|side|sub)?nav(?:bar|ibar|box|igation|header|footer)?|"
    r"menu|sidebar|sphinxsidebar|toc|table-of-contents|footer|header|masthead|banner|"
    r"widgets?)(?:$|[\s_-])"
    r"|(?:^|\s)contents(?:$|\s)",
    re.IGNORECASE,
)
# An <aside> that is part of the text: a footnote, a citation, a note (docutils writes
# these as <aside>).
_TEXT_ASIDE = re.compile(r"footnote|endnote|citation|admonition|topic|note|tip|warning|caution")


def read_html(path: Path) -> Extracted:
    """A saved web page: its main text as the browser shows it, each paragraph, list item,
    definition ("-q, --quiet: print nothing"), table row or code block one item; headings
    as `Heading`, code as `html_text.Code`. The title is the page's `<title>` (less a site
    suffix) or its first `<h1>`; the date comes from its metadata or a dateline only; the
    author and site name from its markup (trafilatura). A page in a charset it declares
    (ISO-8859-1, windows-1252, ...) is read in it; one that declares none must be UTF-8."""
    return read_markup(decode_markup(path.read_bytes()))


def read_markup(content: str) -> Extracted:
    """A page's markup, decoded, as `read_html` reads it (an EPUB's chapters come here)."""
    import lxml.html

    content = _XML_DECLARATION.sub("", content, count=1)
    try:
        tree = lxml.html.document_fromstring(content)
    except (etree.ParserError, ValueError) as e:
        raise ReadError("no text found in the page") from e
    title = page_title(tree)
    top = headline(tree, title)
    root = main_region(tree, content, top)
    if title is None:
        h1 = next(root.iter("h1"), None)
        if h1 is None:
            h1 = next(tree.iter("h1"), None)
        if h1 is not None:
            title = inline_text(h1) or None
    paragraphs = _without_heading(blocks(root, furniture(root, top)), title)
    if not paragraphs:
        # A page that is all furniture (an index of links, its title aside): read whole.
        paragraphs = _without_heading(blocks(root), title)
    if not paragraphs:
        raise ReadError("no article text found in the page")
    author, site = author_and_site(tree)
    return Extracted(
        paragraphs=paragraphs,
        title=title,
        date=page_date(tree, root, paragraphs),
        author=author,
        source=site,
    )


def decode_markup(raw: bytes) -> str:
    """The page as text, in the charset its BOM or markup declares, else UTF-8."""
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        text = raw.decode("utf-16")
    else:
        text = _decode_declared(raw)
    if "\x00" in text:
        raise ReadError("binary content")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _decode_declared(raw: bytes) -> str:
    declared = _declared_charset(raw[:_CHARSET_SCAN])
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        if declared is None or declared == "utf-8":
            raise ReadError(f"not UTF-8 text (byte {e.start:,}) and no charset declared") from e
    else:
        # Valid UTF-8 with non-ASCII characters is UTF-8 whatever the page says: a page
        # converted when saved often keeps its old declaration.
        if declared is None or declared == "utf-8" or not text.isascii():
            return text
    if declared == "cp1252":
        # As browsers do (WHATWG Encoding), ISO-8859-1 and ASCII are read as
        # windows-1252; its five unassigned bytes as the Latin-1 control characters.
        try:
            return raw.decode("cp1252")
        except UnicodeDecodeError:
            return raw.decode("latin-1")
    return raw.decode(declared, errors="replace")


def _declared_charset(head: bytes) -> str | None:
    """The codec a page declares, by Python's name for it; None when it declares none, or
    one Python does not know."""
    m = _CHARSET.search(head)
    if m is None:
        return None
    label = (m.group(1) or m.group(2)).decode("ascii").lower()
    try:
        name = codecs.lookup(label).name
    except LookupError:
        return None
    if name in ("latin-1", "iso8859-1", "ascii", "cp1252"):
        return "cp1252"
    # A declaration read as ASCII cannot be in UTF-16 or UTF-32: browsers read UTF-8.
    return "utf-8" if name.startswith(("utf-8", "utf-16", "utf-32")) else name


def main_region(
    tree: etree._Element, content: str, headline: etree._Element | None = None
) -> etree._Element:
    """The element that holds the page's main text, whole.

    Where the page marks it (`<main>`, `[role=main]`), that element; else its one
    `<article>`, where that holds a fair share of the page's text. Otherwise (texinfo,
    DocBook, a page of bare `<div>`s or a layout table) trafilatura says which paragraphs
    are main text; the region is the element whose paragraphs are most nearly those
    (`_around`), widened to hold the `headline` (the `<h1>` the title repeats). Read
    whole, it gives back what trafilatura leaves out there, such as an opening paragraph
    between the headline and the `<div>` trafilatura chose.
    """
    body = tree.find("body")
    if body is None:
        body = tree
    for xpath in _MAIN_REGIONS:
        for element in tree.xpath(xpath):
            if len(_words(element)) >= _PARAGRAPH_CHARS:
                return element
    # Several articles are a list of teasers, or comments: no one of them is the page.
    articles = [e for e in tree.xpath("//article") if not _FURNITURE_NAMES.search(_names(e))]
    if len(articles) == 1 and len(_words(articles[0])) >= _ARTICLE_SHARE * len(_words(body)):
        return articles[0]
    region = _around(_main_text(content), body)
    if headline is not None and not any(e is region for e in headline.iterancestors()):
        region = next(
            (e for e in region.iterancestors() if any(a is e for a in headline.iterancestors())),
            body,
        )
    return region


def _main_text(content: str) -> list[str]:
    """The words of the page's main text as trafilatura extracts it."""
    import trafilatura

    text = trafilatura.extract(
        content, favor_recall=True, include_comments=False, include_tables=True
    )
    return _tokens(text or "")


def _tokens(text: str) -> list[str]:
    """The words of `text`, less the marks trafilatura sets before list items and between
    table cells ("- ", "| ")."""
    return [word for word in text.split() if word.strip("-|*•")]


def _around(kept: list[str], body: etree._Element) -> etree._Element:
    """The element under `body` whose paragraphs are most nearly trafilatura's: the most
    text of paragraphs it kept (by their first words) less the text of those it did not.

    The innermost element around most of the kept text would not do: a list of
    definitions holds most of a short manual page, and its opening paragraph is outside.
    An element scores what it adds in kept text, and loses what it adds of the rest (a
    sidebar, comments, a footer); of equal scores the innermost wins.
    """
    paragraphs = []
    for element in body.iter(*_PARAGRAPHS):
        if next(element.iterdescendants(*_PARAGRAPHS), None) is not None:
            continue  # its paragraphs count, not it: a <dd> of three <p>s once, not twice
        words = _tokens(_spaced_text(element))
        size = sum(map(len, words))
        if size >= _PARAGRAPH_CHARS:
            paragraphs.append((element, " ".join(words[:_KEY_WORDS]), size))
    # One pass over the kept words per key length: a search of the whole text for each
    # paragraph would take as long as the text times the paragraphs.
    keys: dict[int, set[str]] = {}
    for _, key, _ in paragraphs:
        keys.setdefault(key.count(" ") + 1, set()).add(key)
    found = {
        key
        for n, wanted in keys.items()
        for i in range(len(kept) - n + 1)
        if (key := " ".join(kept[i : i + n])) in wanted
    }
    score: dict[etree._Element, int] = {}
    for element, key, size in paragraphs:
        gain = size if key in found else -size
        for around in (element, *element.iterancestors()):
            score[around] = score.get(around, 0) + gain
            if around is body:
                break
    return max(
        (e for e in score if score[e] > 0),
        key=lambda e: (score[e], sum(1 for _ in e.iterancestors())),
        default=body,
    )


def _spaced_text(element: etree._Element) -> str:
    """The text of `element` with a space for each `<br>`, as trafilatura breaks the line
    there (lxml's text_content joins "Info<br>struct" into one word)."""
    parts: list[str] = []
    for event, node in etree.iterwalk(element, events=("start", "end", "comment", "pi")):
        if not isinstance(node.tag, str):  # a comment: only its tail is text
            parts.append(node.tail or "")
        elif event == "start":
            parts.append(" " if node.tag == "br" else "")
            parts.append(node.text or "")
        elif node is not element:
            parts.append(node.tail or "")
    return "".join(parts)


def furniture(root: etree._Element, headline: etree._Element | None = None) -> Skip:
    """The test for what, under `root`, is the page's furniture and not its text.

    Nothing around the `headline` (else the region's first `<h1>`) is furniture: a
    `<header>` or a `<div class="... social">` may hold the page's own title.
    """
    size = len(_words(root))
    h1 = headline if headline is not None else next(root.iter("h1"), None)
    header_is_furniture = root.tag in ("body", "html")

    def skip(element: etree._Element) -> bool:
        if element is root or not isinstance(element.tag, str) or holds_headline(element):
            return False
        tag = element.tag.lower()
        names = _names(element)
        if tag == "aside" and _TEXT_ASIDE.search(f"{names} {element.get('role') or ''}"):
            return False
        if (
            tag in _FURNITURE_TAGS
            or (tag == "header" and header_is_furniture)
            or element.get("role") in _FURNITURE_ROLES
            or (tag in BLOCKS and _FURNITURE_NAMES.search(names))
        ):
            return True
        if tag in _CONTAINER_TAGS or (tag in BLOCKS and _LAYOUT_NAMES.search(names)):
            # Names such as "has-sidebar" or "content-header" say as often how the text
            # is laid out: furniture only when it holds less than half of it.
            return len(_words(element)) < size / 2
        return False  # a span in a sentence, a token in code: never by its name

    def holds_headline(element: etree._Element) -> bool:
        return h1 is not None and any(e is element for e in h1.iterancestors())

    return skip


def _names(element: etree._Element) -> str:
    return f"{element.get('class') or ''} {element.get('id') or ''}"


def _words(element: etree._Element) -> str:
    return " ".join(t for t in element.itertext() if not t.isspace())


def _without_heading(paragraphs: list[str], title: str | None) -> list[str]:
    """The items less the first heading that only repeats the title."""
    for i, item in enumerate(paragraphs):
        if isinstance(item, Heading) and title and item.casefold() == title.casefold():
            return paragraphs[:i] + paragraphs[i + 1 :]
    return paragraphs
