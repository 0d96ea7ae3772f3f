"""A web page's own metadata: its title, date, author and site name.

The title is the page's `<title>`, less a site's name where that is clearly what a part
of it is, else the first `<h1>`; never a section's heading. The date comes from the
page's metadata (meta tags, JSON-LD, `<time>`) or a dateline, never from its text: a
"Copyright 1999-2023" line, a release date in a sentence or a log in a code block is no
date of the page (htmldate's search, even its fast one, reads dates off the text).
trafilatura finds the author and the site name.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

from lxml import etree

from ...language import DATELINE_LABELS, MONTHS, WEEKDAYS
from ..page_header import parse_date
from .base import clean_text
from .html_text import Code, inline_text

# A title's separators ("Encoding functions — Codecs 1.2 documentation", "A | B", "A - B"),
# and the names of manuals a suffix may be ("Codecs 1.2 documentation", "Debian Wiki").
_TITLE_SEPARATORS = re.compile(r"\s+(?:[|—–·»:]{1,2}|-{1,2})\s+")
_MANUAL_NAME = re.compile(r"\b(?:documentation|docs|manual|wiki)$", re.IGNORECASE)
_MANUAL_WORDS = 8

# Date metadata, most trusted first: the publication date, then a creation date.
_DATE_META = (
    "article:published_time og:published_time datepublished dc.date.issued dcterms.issued "
    "dc.date dcterms.date dc.date.created dcterms.created citation_publication_date "
    "citation_date pubdate publishdate publish-date publication_date sailthru.date "
    "parsely-pub-date date".split()
)
_JSON_LD_DATES = ("datePublished", "dateCreated")
# An element named as a dateline ("story-date", "entry-meta", "byline").
_DATELINE_NAMES = re.compile(
    r"(?:^|[\s_-])(?:date|dateline|byline|posted-on|published|pubdate|timestamp|entry-date|"
    r"(?:entry|post|article)-meta)(?:$|[\s_-])",
    re.IGNORECASE,
)
# A line that opens with a dateline's label and then a date: "Published 4 May 2021",
# "Last updated on Nov 02, 2023.", "Date: 2021-05-04".
_DATELINE_LABEL = re.compile(
    rf"^(?:last\s+|first\s+)?(?:{'|'.join(DATELINE_LABELS)})\s*(?:on\b|:|：)?\s*", re.IGNORECASE
)
_DATELINE_CHARS = 120
_COMMENTS = re.compile(r"(?:^|[\s_-])comments?(?:$|[\s_-])", re.IGNORECASE)
_FOOTER = re.compile(r"(?:^|[\s_-])footer(?:$|[\s_-])", re.IGNORECASE)


def page_title(tree: etree._Element) -> str | None:
    """The page's `<title>`, less a site's name (`without_site`); None when it has none."""
    element = tree.find("head/title")
    title = clean_text(element.text_content()) if element is not None else None
    if not title:
        return None
    headlines = [inline_text(h1) for h1 in tree.iter("h1")]
    return without_site(title, headlines, site_name(tree))


def headline(tree: etree._Element, title: str | None) -> etree._Element | None:
    """The `<h1>` that says the title, else one that opens with it ("npm-shrinkwrap
    @11.19.1"); None when none does."""
    if title is None:
        return None
    h1s = [(h1, inline_text(h1).casefold()) for h1 in tree.iter("h1")]
    wanted = title.casefold()
    for h1, text in h1s:
        if text == wanted:
            return h1
    # (An lxml element without children is false: `or` would not do.)
    return next((h1 for h1, text in h1s if text.startswith(wanted + " ")), None)


def without_site(title: str, headlines: list[str], site: str | None) -> str:
    """`title` less a site's name after or before it: "Encoding functions — Codecs 1.2
    documentation" is "Encoding functions", "Harbour Times | Museum opens" is "Museum
    opens". It is cut only where the rest is one of the page's `<h1>` headlines, or the
    part cut is the site's name or a manual's ("... documentation", "... Wiki"):
    "Python — An Introduction" stays whole, as nothing says which part names a site."""
    separators = list(_TITLE_SEPARATORS.finditer(title))
    if not separators:
        return title
    head, last = title[: separators[-1].start()], title[separators[-1].end() :]
    first, tail = title[: separators[0].start()], title[separators[0].end() :]
    if any(_same(head, h) for h in headlines) or _same(last, site):
        return head
    if any(_same(tail, h) for h in headlines) or _same(first, site):
        return tail
    if _MANUAL_NAME.search(last) and len(last.split()) <= _MANUAL_WORDS:
        return head
    return title


def _same(a: str, b: str | None) -> bool:
    return b is not None and a.casefold() == b.casefold()


def site_name(tree: etree._Element) -> str | None:
    """The site's name as the page's meta tags give it (og:site_name, application-name)."""
    for name in ("og:site_name", "application-name"):
        for meta in tree.iter("meta"):
            if (meta.get("property") or meta.get("name") or "").lower() == name:
                if site := clean_text(meta.get("content")):
                    return site
    return None


def page_date(tree: etree._Element, root: etree._Element, lines: list[str]) -> str | None:
    """The page's date as YYYY-MM-DD, from its metadata or a dateline, else None.

    Args:
        tree: the whole page.
        root: its main region, where a `<time>` or a dateline is the page's own.
        lines: the main region's text, one block a line, where a line may be a dateline
            (not in a code block).
    """
    for found in _dates(tree, root, lines):
        if date := parse_date(found):
            return date
    return None


def _dates(tree: etree._Element, root: etree._Element, lines: list[str]) -> Iterator[str]:
    """Candidate date strings, most trusted first: meta tags, JSON-LD, a `<time>` in the
    main region, an element there named as a dateline, a line there opening with a
    dateline's label, and last such a line in a footer ("Last updated on Nov 02, 2023.")."""
    metas: dict[str, str] = {}
    for meta in tree.iter("meta"):
        key = (meta.get("property") or meta.get("name") or meta.get("itemprop") or "").lower()
        metas.setdefault(key, meta.get("content") or "")
    yield from (metas[key] for key in _DATE_META if metas.get(key))
    for script in tree.iter("script"):
        if (script.get("type") or "").lower() == "application/ld+json" and script.text:
            yield from _json_ld_dates(script.text)
    times = [t for t in root.iter("time") if not _in_comments(t)]
    marked = [
        t for t in times
        if t.get("itemprop") == "datePublished" or t.get("pubdate") is not None
        or "published" in (t.get("class") or "")
    ]  # fmt: skip
    for time in marked + times:
        yield time.get("datetime") or time.text_content()
    for element in root.iter():
        # A table cell named "date" dates a row (a changelog's), not the page.
        if element.tag in ("td", "th") or not isinstance(element.tag, str):
            continue
        names = f"{element.get('class') or ''} {element.get('id') or ''}"
        if _DATELINE_NAMES.search(names) and not _in_comments(element):
            text = " ".join(element.text_content().split())
            if len(text) <= _DATELINE_CHARS:
                yield text
    footers = [
        " ".join(e.text_content().split())
        for e in tree.iter("footer", "div", "p")
        if e.tag == "footer"
        or e.get("role") == "contentinfo"
        or _FOOTER.search(f"{e.get('class') or ''} {e.get('id') or ''}")
    ]
    prose = [line for line in lines if not isinstance(line, Code)]  # "Date:" in a mail
    for line in [*prose, *footers]:
        for sentence in re.split(r"(?<=[.!?])\s+", line):
            if len(sentence) <= _DATELINE_CHARS and (date := _labelled_date(sentence)):
                yield date


def _labelled_date(sentence: str) -> str | None:
    """The date a dateline's label opens `sentence` with, or None: "Published 4 May
    2021" has one, "Updated the guide for 2.0 on 4 May 2021." does not."""
    m = _DATELINE_LABEL.match(sentence)
    if m is None:
        return None
    rest = sentence[m.end() :]
    first = rest.split(maxsplit=1)[0].strip(",.").lower() if rest.strip() else ""
    if first[:1].isdigit() or first in MONTHS or first in WEEKDAYS:
        return rest
    return None


def _json_ld_dates(text: str) -> Iterator[str]:
    try:
        data = json.loads(text)
    except ValueError:
        return
    stack = [data]
    while stack:
        item = stack.pop(0)
        if isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, dict):
            for key in _JSON_LD_DATES:
                if isinstance(item.get(key), str):
                    yield item[key]
            stack.extend(v for v in item.values() if isinstance(v, dict | list))


def _in_comments(element: etree._Element) -> bool:
    return any(
        _COMMENTS.search(f"{e.get('class') or ''} {e.get('id') or ''}")
        for e in element.iterancestors()
    )


def author_and_site(tree: etree._Element) -> tuple[str | None, str | None]:
    """The author and the site name, as trafilatura finds them in the markup."""
    import trafilatura

    # Its date is not used (page_date is), so its fast date search.
    found = trafilatura.extract_metadata(tree, date_config={"extensive_search": False})
    return clean_text(found.author), clean_text(found.sitename)
