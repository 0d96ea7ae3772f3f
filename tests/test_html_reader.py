"""The HTML reader on saved documentation and news pages: the text as the browser shows
it (a sentence cut by inline markup or hard-wrapped in the source is one line), headings
and code as items of their own, an option and its meaning together, the page's own title
and date, the charset it declares, and its main text whole without its furniture."""

from __future__ import annotations

from pathlib import Path

import pytest

from qa.documents.chunking import split_sentences
from qa.documents.corpus import load_documents
from qa.documents.readers import Heading, ReadError
from qa.documents.readers.html import read_html
from qa.documents.readers.html_text import Code


def page(tmp_path: Path, body: str, head: str = "", name: str = "page.html") -> Path:
    path = tmp_path / name
    path.write_text(
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">{head}</head>'
        f"<body>{body}</body></html>\n",
        encoding="utf-8",
    )
    return path


SPHINX = """
<div class="related" role="navigation" aria-label="Related"><h3>Navigation</h3><ul>
<li class="right"><a href="genindex.html" title="General Index">index</a></li>
<li><a href="index.html">Codecs 1.2 documentation</a> &#187;</li></ul></div>
<div class="document"><div class="documentwrapper"><div class="bodywrapper">
<div class="body" role="main">
<section id="encoding-functions">
<h1>Encoding functions<a class="headerlink" href="#encoding-functions"
 title="Link to this heading">¶</a></h1>
<section id="abstract">
<h2>Abstract<a class="headerlink" href="#abstract" title="Link to this heading">¶</a></h2>
<p>The <code class="docutils literal notranslate"><span class="pre">encode()</span></code>
function turns a
string into bytes with the codec named by <em>encoding</em>.</p>
</section>
<section id="errors">
<h2>Errors<a class="headerlink" href="#errors" title="Link to this heading">§</a></h2>
<p>An unknown codec name raises <code class="docutils literal">LookupError</code>.</p>
<dl class="py function">
<dt class="sig sig-object py" id="codecs.lookup"><span class="sig-name descname">lookup</span>
(<em class="sig-param">name</em>)<a class="headerlink" href="#codecs.lookup"
 title="Link to this definition">¶</a></dt>
<dd><p>Find the codec registered under <em>name</em>.</p></dd></dl>
</section></section>
</div></div></div>
<div class="sphinxsidebar" role="navigation" aria-label="Main"><div class="sphinxsidebarwrapper">
<h3><a href="index.html">Table of Contents</a></h3><ul><li><a href="#">Encoding functions</a>
</li></ul><search id="searchbox" style="display: none" role="search"><h3>Quick search</h3>
<form class="search" action="search.html" method="get"><input type="text" name="q"/></form>
</search></div></div></div>
<div class="footer" role="contentinfo">&#169; Copyright 1999-2023, The Codecs Team.
 Created using <a href="https://www.sphinx-doc.org/">Sphinx</a> 7.2.6.</div>
"""


def test_sphinx_page_title_and_headings_without_anchor_glyphs(tmp_path: Path):
    found = read_html(
        page(tmp_path, SPHINX, "<title>Encoding functions &#8212; Codecs 1.2 documentation</title>")
    )
    assert found.title == "Encoding functions"  # not "Abstract¶", not the site's suffix
    assert found.date is None  # the copyright years are no date
    headings = [(p, p.level) for p in found.paragraphs if isinstance(p, Heading)]
    assert headings == [("Abstract", 2), ("Errors", 2)]  # the h1 is the title
    assert "lookup (name): Find the codec registered under name." in found.paragraphs
    text = "\n".join(found.paragraphs)
    for furniture in ("¶", "§", "Link to this", "Navigation", "Quick search", "Copyright"):
        assert furniture not in text


def test_title_is_the_first_h1_when_the_page_has_no_title_element(tmp_path: Path):
    body = "<main><h2>Abstract</h2><p>Short.</p><h1>The Codec Handbook</h1><p>Long.</p></main>"
    assert read_html(page(tmp_path, body)).title == "The Codec Handbook"


SITE = '<meta property="og:site_name" content="Coastal Gazette">'


@pytest.mark.parametrize(
    ("title", "head", "expected"),
    [
        ("Ferry times | Coastal Gazette", SITE, "Ferry times"),
        ("Coastal Gazette - Ferry times", SITE, "Ferry times"),
        ("BackupRestore - Debian Wiki", "", "BackupRestore"),
        # Nothing says which half names a site: the title stays whole.
        ("Python — An Introduction", "", "Python — An Introduction"),
        ("Invoking tar (GNU tar 1.35)", "", "Invoking tar (GNU tar 1.35)"),
    ],
)  # fmt: skip
def test_a_site_suffix_is_cut_only_where_it_is_clearly_one(tmp_path, title, head, expected):
    found = read_html(
        page(tmp_path, "<p>Some text of the page.</p>", f"<title>{title}</title>{head}")
    )
    assert found.title == expected


def test_inline_code_and_hard_wrapped_lines_make_one_sentence(tmp_path: Path):
    body = """<main><p>Install it with <code>apt install unattended-upgrades</code> as root,
    then enable it with
    <kbd>dpkg-reconfigure</kbd> <var>PACKAGE</var>, as the <a href="/wiki">wiki</a>
    <em>says</em>.</p></main>"""
    found = read_html(page(tmp_path, body))
    assert found.paragraphs == [
        "Install it with apt install unattended-upgrades as root, then enable it with "
        "dpkg-reconfigure PACKAGE, as the wiki says."
    ]


def test_a_code_block_is_an_item_of_its_own_between_whole_sentences(tmp_path: Path):
    body = """<main><p>Call it with the text
    first:</p><div class="highlight"><pre><span class="n">data</span> = encode(<span
 class="s2">"café"</span>)
print(data)
</pre></div><p>The result is a <code>bytes</code>
object.</p></main>"""
    found = read_html(page(tmp_path, body))
    assert found.paragraphs == [
        "Call it with the text first:",
        'data = encode("café")\nprint(data)',
        "The result is a bytes object.",
    ]
    assert [type(p) for p in found.paragraphs] == [str, Code, str]


def test_an_option_and_its_meaning_are_one_item(tmp_path: Path):
    body = """<main><p>Options:</p><dl class="option-list">
<dt><kbd><span class="option">-q</span>, <span class="option">--quiet</span></kbd></dt>
<dd><p>print nothing</p></dd>
<dt><code>--verbose</code></dt><dt><code>-v</code></dt>
<dd><p>Show the files being worked on.</p><p>Repeat it for more.</p></dd>
</dl></main>"""
    assert read_html(page(tmp_path, body)).paragraphs == [
        "Options:",
        "-q, --quiet: print nothing",
        "--verbose, -v: Show the files being worked on.",
        "Repeat it for more.",
    ]


def test_a_man_page_hanging_indent_joins_the_option_to_its_meaning(tmp_path: Path):
    # groff -Thtml: the option, then its meaning further in; an in-page contents list.
    body = """<h1 align="center">CHMOD</h1>
<a href="#NAME">NAME</a><br><a href="#OPTIONS">OPTIONS</a><br><hr>
<h2>OPTIONS <a name="OPTIONS"></a></h2>
<p style="margin-left:11%;"><b>-c</b>, <b>--changes</b></p>
<p style="margin-left:22%;">like verbose but report only
when a change is made</p>"""
    found = read_html(page(tmp_path, body, "<title>CHMOD</title>"))
    assert found.paragraphs == [
        Heading("OPTIONS", 2),
        "-c, --changes: like verbose but report only when a change is made",
    ]


def test_lists_and_table_rows(tmp_path: Path):
    body = """<main><ul><li>The first line names the
    packages.</li><li>A line with <q>No packages</q> means nothing changed.</li></ul>
<table><thead><tr><th>Name</th><th>Bytes</th></tr></thead>
<tbody><tr><td><p>utf-8</p></td><td>one to four</td></tr></tbody></table></main>"""
    assert read_html(page(tmp_path, body)).paragraphs == [
        "The first line names the packages.",
        "A line with No packages means nothing changed.",
        "Name | Bytes",
        "utf-8 | one to four",
    ]


def test_a_heading_is_never_glued_to_the_next_sentence(tmp_path: Path):
    body = "<main><p>Intro.</p><h3>Restore tests</h3>A restore is only proven once done.</main>"
    found = read_html(page(tmp_path, body))
    assert found.paragraphs == ["Intro.", "Restore tests", "A restore is only proven once done."]
    assert isinstance(found.paragraphs[1], Heading) and found.paragraphs[1].level == 3


@pytest.mark.parametrize(
    "declaration",
    [
        '<meta charset="ISO-8859-1">',
        '<meta http-equiv="Content-Type" content="text/html; charset=iso-8859-1">',
        '<meta http-equiv="Content-Type" content="text/html; charset=windows-1252">',
    ],
)
def test_a_page_in_the_charset_it_declares(tmp_path: Path, declaration: str):
    path = tmp_path / "latin.html"
    html = (
        f"<html><head>{declaration}<title>Caf\xe9 hours</title></head>"
        "<body><p>The caf\xe9 opens at nine \x96 \x93early\x94.</p></body></html>"
    )
    path.write_bytes(html.encode("latin-1"))
    found = read_html(path)
    assert found.title == "Café hours"
    # ISO-8859-1 is read as windows-1252, as browsers read it: 0x93 is a curly quote.
    assert found.paragraphs == ["The café opens at nine – “early”."]


def test_an_xhtml_page_declares_its_charset_in_the_xml_declaration(tmp_path: Path):
    path = tmp_path / "docbook.html"
    path.write_bytes(
        b'<?xml version="1.0" encoding="ISO-8859-1" standalone="no"?>\n'
        b'<html xmlns="http://www.w3.org/1999/xhtml"><head><title>4.3. Encoding</title></head>'
        b"<body><p>The caf\xe9 closes.</p></body></html>"
    )
    assert read_html(path).paragraphs == ["The café closes."]


def test_a_page_that_declares_no_charset_must_be_utf8(tmp_path: Path):
    path = tmp_path / "undeclared.html"
    path.write_bytes(b"<html><body><p>The caf\xe9 opens.</p></body></html>")
    with pytest.raises(ReadError, match="not UTF-8"):
        read_html(path)


def test_the_date_comes_from_metadata_not_from_a_copyright_line(tmp_path: Path):
    # A date in a sentence, a mail header in a code block, a copyright line: none dates it.
    body = (
        "<main><p>Debian 12 was released on 2023-06-10.</p><pre>Date: 2021-03-04 10:00</pre>"
        "</main><footer><p>Copyright 1999-2023 The Team.</p></footer>"
    )
    assert read_html(page(tmp_path, body)).date is None
    meta = '<meta property="article:published_time" content="2022-07-08T10:00:00+00:00">'
    assert read_html(page(tmp_path, body, meta)).date == "2022-07-08"


@pytest.mark.parametrize(
    ("head", "body", "date"),
    [
        ('<meta name="DC.date" content="2021-02-03">', "", "2021-02-03"),
        ('<script type="application/ld+json">{"@graph": [{"@type": "Article", '
         '"datePublished": "2020-05-06T08:00:00Z"}]}</script>', "", "2020-05-06"),
        ("", '<p class="byline">By Jo, <time datetime="2019-04-05">5 Apr</time></p>', "2019-04-05"),
        ("", "<p>Published 4 May 2021</p>", "2021-05-04"),
        ("", "<p>Updated the guide for 2.0 on 4 May 2021.</p>", None),
        ("", "<footer>© Copyright 1999-2023. Last updated on Nov 02, 2023.</footer>", "2023-11-02"),
    ],
)  # fmt: skip
def test_the_date_from_each_kind_of_metadata_or_a_dateline(tmp_path, head, body, date):
    found = read_html(page(tmp_path, f"<main>{body}<p>The text of the page.</p></main>", head))
    assert found.date == date


HOWTO = """<header id="masthead" class="site-header"><p class="site-title"><a href="/">Server
Notes</a></p><nav><ul><li><a href="/">Home</a></li><li><a href="/debian/">Debian guides</a></li>
</ul></nav></header>
<div id="cookie-notice">We use cookies to give you the best experience.</div>
<div id="primary" class="content-area"><main id="main" class="site-main">
<article class="post type-post">
<header class="entry-header"><h1 class="entry-title">How to set up unattended upgrades</h1>
<div class="entry-meta">Posted on <time datetime="2024-02-11T10:00:00+00:00">February 11,
2024</time></div></header>
<p class="intro">Unattended upgrades install the security updates of a Debian server by
themselves, every night.</p>
<div class="entry-content">
<h2>Install the package</h2>
<p>Install it with <code>apt install unattended-upgrades</code> as root.</p>
<div class="sharedaddy"><h3 class="sd-title">Share this:</h3><ul><li><a href="#">Twitter</a>
</li></ul></div>
</div>
<footer class="entry-footer">Posted in <a href="/debian/">Debian</a></footer>
</article>
<div id="comments" class="comments-area"><h2 class="comments-title">2 thoughts</h2>
<ol class="comment-list"><li class="comment"><p>Thanks, this saved my weekend.</p></li></ol>
<form id="commentform"><p>Your email address will not be published.</p></form></div>
</main></div>
<aside id="secondary" class="widget-area"><h2>Recent Posts</h2><ul><li><a href="/x">Moving a
Debian server</a></li></ul></aside>
<footer id="colophon" class="site-footer">Copyright 2015-2024 Server Notes.</footer>"""


def test_a_how_to_keeps_its_opening_paragraph_and_loses_its_furniture(tmp_path: Path):
    # trafilatura 2.3 keeps only div.entry-content here, under every setting, and so
    # dropped the opening paragraph.
    head = "<title>How to set up unattended upgrades – Server Notes</title>"
    found = read_html(page(tmp_path, HOWTO, head))
    assert found.title == "How to set up unattended upgrades"
    assert found.date == "2024-02-11"
    assert found.paragraphs == [
        "Unattended upgrades install the security updates of a Debian server by themselves, "
        "every night.",
        Heading("Install the package", 2),
        "Install it with apt install unattended-upgrades as root.",
    ]


LAYOUT_TABLE_HOWTO = """<table width="100%" border="0"><tr>
<td width="160" valign="top" class="leftnav"><a href="/">Home</a><br><a href="/howtos/">All
how-tos</a><br><a href="/links.html">Links we like</a></td>
<td valign="top">
<h1>Setting up a serial console on Debian</h1>
<div class="lead"><p>A serial console lets you log in to a server whose network is down, from
a second machine and a null-modem cable.</p></div>
<div class="post-content">
<h2>Tell the kernel</h2>
<p>Add <code>console=ttyS0,115200n8</code> to the kernel command line in
<code>/etc/default/grub</code>, then run <code>update-grub</code>.</p>
<h2>Start a login prompt</h2>
<p>Enable the getty with <kbd>systemctl enable serial-getty@ttyS0.service</kbd> and reboot.</p>
<p>On the second machine, connect with <code>screen /dev/ttyUSB0 115200</code> and press
Enter.</p>
</div>
</td></tr></table>
<hr><p class="small">Copyright &copy; 1998-2019 J. Random Hacker.</p>"""


def test_a_how_to_without_landmarks_keeps_its_opening_paragraph(tmp_path: Path):
    # No <main>: trafilatura finds the text, and keeps only div.post-content of it.
    head = "<title>Setting up a serial console on Debian</title>"
    found = read_html(page(tmp_path, LAYOUT_TABLE_HOWTO, head))
    assert found.paragraphs == [
        "A serial console lets you log in to a server whose network is down, from a second "
        "machine and a null-modem cable.",
        Heading("Tell the kernel", 2),
        "Add console=ttyS0,115200n8 to the kernel command line in /etc/default/grub, then run "
        "update-grub.",
        Heading("Start a login prompt", 2),
        "Enable the getty with systemctl enable serial-getty@ttyS0.service and reboot.",
        "On the second machine, connect with screen /dev/ttyUSB0 115200 and press Enter.",
    ]
    assert found.date is None


NEWS = """<div id="top-bar"><a href="/subscribe">Subscribe today</a> | <a href="/login">Log
in</a></div>
<div id="menu"><ul><li><a href="/">Home</a></li><li><a href="/sport">Sport</a></li></ul></div>
<div id="gdpr-consent-box"><p>This site uses cookies to personalise ads.</p></div>
<div id="wrapper"><div id="left-col"><div class="story">
<h1>Ferry timetable changes for winter</h1>
<div class="social-share"><a href="#">Share on Facebook</a></div>
<p>The island ferry will sail four times a day instead of six from 1 November, the operator
said on Thursday.</p>
<p>The first sailing leaves the harbour at 7.15am and the last returns at 6.30pm.</p>
<div class="inline-ad"><span>Advertisement</span><p>Visit Bayside Carpets today.</p></div>
<p>Season tickets bought before the change remain valid until they expire.</p>
<div class="related-stories"><h3>Related stories</h3><ul><li><a href="/a">Harbour wall repairs to
start in spring</a></li></ul></div>
</div>
<div id="comments-section"><div class="comment"><p>About time they sorted this out.</p></div>
<form action="/comment"><p>Leave a comment</p><textarea name="c"></textarea></form></div>
</div>
<div id="right-col"><div class="box"><h3>Most read</h3><ol><li><a href="/m1">Lifeboat crew
rescues two walkers from the cliffs at dawn</a></li></ol></div></div></div>
<div id="bottom"><p>Copyright 2001-2023 Coastal Gazette Ltd. All rights reserved.</p></div>"""


def test_a_news_page_without_landmarks_keeps_its_story_only(tmp_path: Path):
    head = "<title>Ferry timetable changes for winter - Coastal Gazette</title>"
    found = read_html(page(tmp_path, NEWS, head))
    assert found.title == "Ferry timetable changes for winter"
    assert found.paragraphs == [
        "The island ferry will sail four times a day instead of six from 1 November, the "
        "operator said on Thursday.",
        "The first sailing leaves the harbour at 7.15am and the last returns at 6.30pm.",
        "Season tickets bought before the change remain valid until they expire.",
    ]


TEXINFO = """<div class="section-level-extent" id="Using-tar-Options">
<div class="nav-panel"><p>Next: <a href="Styles.html" accesskey="n" rel="next">The Three Option
Styles</a>, Up: <a href="tar-invocation.html" rel="up">Invoking tar</a></p></div><hr>
<h3 class="section" id="Using-tar-Options-1"><span>3.3 Using <code class="command">tar</code>
Options<a class="copiable-link" href="#Using-tar-Options-1"> &para;</a></span></h3>
<p><code class="command">tar</code> has a total of eight operating modes which
allow you to perform a variety of tasks.  You are required to choose one
operating mode each time you employ the <code class="command">tar</code> program.
</p>
<dl class="table">
<dt><a class="index-entry-id" id="index-verbose"></a><span><samp class="option">--verbose</samp>
<a class="copiable-link" href="#index-verbose"> &para;</a></span></dt>
<dt><samp class="option">-v</samp></dt>
<dd><p>Show the files being worked on as <code class="command">tar</code> is running.
</p></dd></dl>
<div class="example"><pre class="example-preformatted">$ tar --create --verbose \\
    --file=collection.tar blues folk
</pre></div>
</div>
<hr><div class="nav-panel"><p>Next: <a href="Styles.html">The Three Option Styles</a></p></div>
"""


def test_through_the_pipeline_every_sentence_is_one_span(tmp_path: Path):
    folder = tmp_path / "saved"
    folder.mkdir()
    page(folder, TEXINFO, "<title>Using tar Options (GNU tar 1.35)</title>", name="tar.html")
    page(folder, SPHINX, "<title>Encoding functions — Codecs 1.2 documentation</title>",
         name="codecs.html")  # fmt: skip
    page(folder, HOWTO, "<title>How to set up unattended upgrades – Server Notes</title>",
         name="howto.html")  # fmt: skip
    documents, warnings = load_documents(folder)
    assert warnings == []
    by_id = {d.id: d for d in documents}
    expected = {
        "tar": [
            "3.3 Using tar Options",
            "tar has a total of eight operating modes which allow you to perform a variety of "
            "tasks.",
            "You are required to choose one operating mode each time you employ the tar program.",
            "--verbose, -v: Show the files being worked on as tar is running.",
            "$ tar --create --verbose \\",
            "--file=collection.tar blues folk",
        ],
        "codecs": [
            "Abstract",
            "The encode() function turns a string into bytes with the codec named by encoding.",
            "Errors",
            "An unknown codec name raises LookupError.",
            "lookup (name): Find the codec registered under name.",
        ],
        "howto": [
            "Unattended upgrades install the security updates of a Debian server by themselves,"
            " every night.",
            "Install the package",
            "Install it with apt install unattended-upgrades as root.",
        ],
    }
    for doc_id, sentences in expected.items():
        document = by_id[doc_id]
        spans = [document.text[s:e] for s, e in split_sentences(document.text)]
        assert spans == sentences, doc_id
    assert by_id["codecs"].title == "Encoding functions"
    assert by_id["tar"].title == "Using tar Options (GNU tar 1.35)"
