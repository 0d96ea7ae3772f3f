"""A cited PDF page shown as printed: the page image in the sources panel, the answering
sentence highlighted over the characters pdfium says print it, and no image (but the
text viewer) for other formats and for a PDF that is gone or changed.

The corpus is written by the test: a three-page PDF whose answer sentence is on page 2
and breaks a word with a hyphen across two lines (pypdf joins it, pdfium does not), with
a running header and a "Page N of 3" footer that the index drops; and a plain note.

Set QA_PDF_SCREENSHOT=docs/pdf_page.png to save the browser test's sources panel there.
"""

from __future__ import annotations

import base64
import dataclasses
import io
import os
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pypdfium2 as pdfium
import pytest
from documents import write_pdf
from PIL import Image

from qa import QA, Answer, Settings
from qa.answer import Citation
from qa.engine import ensure_index
from qa.ui.pdf_page import WIDTH_PX, page_image
from qa.ui.render import sources_html

HEADER = "Lighthouse Trust - Annual Report 2023"
SENTENCE_START = "The trust spent 1.2 million pounds on repairs in 2023"
SENTENCE_END = "storms of 2019."
PAGES = [
    [
        HEADER,
        "Introduction",
        "This report covers the year 2023 for the trust and the twelve lighthouses that it",
        "keeps along the northern coast of the county, from Dunnet Head to Cape Wrath.",
        "Page 1 of 3",
    ],
    [
        HEADER,
        "Finances",
        "The trust spent 1.2 million pounds on repairs in 2023, most of it on the lamp room",
        "and on the gallery of the lighthouse at Cape Wrath, which had stood unre-",
        "paired since the storms of 2019.",
        "Income from visitors rose to 310,000 pounds, a record for the trust.",
        "Page 2 of 3",
    ],
    [
        HEADER,
        "Outlook",
        "Next year the trust plans to automate the lights at Noss Head and Duncansby.",
        "Page 3 of 3",
    ],
]
REPAIRS = "How much did the Lighthouse Trust spend on repairs in 2023?"
MUSEUM = "When did the Harbour Museum open?"
TITLE = "Lighthouse Trust 2023"
IMAGE = re.compile(r'<img src="data:image/png;base64,([A-Za-z0-9+/=]+)"')
CHROMIUM = Path("/usr/bin/chromium")


def make_corpus(folder: Path) -> Path:
    folder.mkdir(parents=True)
    write_pdf(folder / "trust-report.pdf", PAGES, title=TITLE)
    (folder / "harbour-notes.txt").write_text(
        "The Harbour Museum opened in 1911 and holds a collection of old charts.\n"
        "Entry is free on Sundays.\n",
        encoding="utf-8",
    )
    return folder


@pytest.fixture(scope="module")
def pdf_qa(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> QA:
    """The real engine over the corpus above. Its index sits beside the session's, so
    the model's ONNX export (cached beside the index folders) is made once per session."""
    corpus = make_corpus(tmp_path_factory.mktemp("pdf-page") / "corpus")
    mine = settings.replace(corpus_dir=corpus, index_dir=settings.index_dir.parent / "pdf-page")
    return QA.open(mine, log=lambda message: None, progress=False)


@pytest.fixture(scope="module")
def repairs(pdf_qa: QA) -> Answer:
    answer = pdf_qa.ask(REPAIRS)
    assert not answer.abstained and "1.2 million pounds" in (answer.text or "")
    assert answer.citations[0].document.id == "trust-report"
    return answer


def items(panel: str) -> list[tuple[str, str]]:
    """Each cited passage's <li> in the sources panel, in order: (its document's title,
    the rest of the item)."""
    found = re.findall(
        r'<li class="qa-source[^"]*" id="[^"]+"><div class="qa-source-head">'
        r'<span class="qa-ref">[^<]*</span> ([^<]*)</div>(.*?)</li>',
        panel,
        flags=re.S,
    )
    return found


def decoded(markup: str) -> Image.Image:
    (data,) = IMAGE.findall(markup)
    return Image.open(io.BytesIO(base64.b64decode(data))).convert("RGB")


def highlighted(image: Image.Image) -> tuple[np.ndarray, np.ndarray]:
    """(x, y) of the pixels of the highlight's colour: yellow, where text and paper are
    grey."""
    r, g, b = np.asarray(image, dtype=np.int16).transpose(2, 0, 1)
    ys, xs = np.nonzero((r > 200) & (g > 180) & (r - b > 50))
    return xs, ys


def sentence_rect(path: Path, page: int, scale: float) -> tuple[float, float, float, float]:
    """Where pdfium says the answer sentence's characters are on `page`, as pixels at
    `scale` (left, top, right, bottom)."""
    pdf = pdfium.PdfDocument(str(path))
    try:
        textpage = pdf[page - 1].get_textpage()
        printed = textpage.get_text_range()
        assert len(printed) == textpage.count_chars()  # one text character per char
        first = printed.index(SENTENCE_START)
        last = printed.index(SENTENCE_END) + len(SENTENCE_END) - 1
        boxes = [
            textpage.get_charbox(i) for i in range(first, last + 1) if not printed[i].isspace()
        ]
        height = pdf[page - 1].get_height()
    finally:
        pdf.close()
    left, right = min(b[0] for b in boxes), max(b[2] for b in boxes)
    bottom, top = min(b[1] for b in boxes), max(b[3] for b in boxes)
    return left * scale, (height - top) * scale, right * scale, (height - bottom) * scale


def render(path: Path, page: int) -> Image.Image:
    """pdfium's own rendering of `page`, at the width page images are drawn at."""
    pdf = pdfium.PdfDocument(str(path))
    try:
        return pdf[page - 1].render(scale=WIDTH_PX / pdf[page - 1].get_width()).to_pil()
    finally:
        pdf.close()


def ink_differs(a: Image.Image, b: Image.Image) -> float:
    """The share of pixels that are ink in one image and paper in the other."""
    grey_a = np.asarray(a.convert("L"), dtype=np.int16)
    grey_b = np.asarray(b.convert("L"), dtype=np.int16)
    return float((np.abs(grey_a - grey_b) > 128).mean())


def test_the_cited_page_is_shown_with_the_sentence_highlighted_where_printed(
    pdf_qa: QA, repairs: Answer
) -> None:
    first = repairs.citations[0]
    assert first.page == 2 and first.answer_span
    title, panel = items(sources_html(repairs))[0]
    assert title == TITLE
    assert '<details class="qa-page"><summary>Open page 2 as printed</summary>' in panel
    assert f'alt="Page 2 of {TITLE} as printed, the answering sentence highlighted"' in panel
    assert '<details class="qa-document">' in panel  # the text viewer stays

    image = decoded(panel)
    path = pdf_qa.settings.corpus_dir / "trust-report.pdf"
    # Page 2, not another: its ink is where pdfium prints page 2's (the highlight lightens
    # the paper, not the glyphs), and not where it prints page 1's.
    assert image.size == render(path, 2).size
    assert ink_differs(image, render(path, 2)) < 0.0005 < ink_differs(image, render(path, 1))

    xs, ys = highlighted(image)
    left, top, right, bottom = sentence_rect(path, 2, image.width / 612)
    # The highlight covers the sentence's characters, with no more than a font's
    # ascent and descent (about 3 points, 4.4 pixels here) around them.
    slack = 8
    assert left - slack <= min(xs) <= left + 1 and right - 1 <= max(xs) <= right + slack
    assert top - slack <= min(ys) <= top + 1 and bottom - 1 <= max(ys) <= bottom + slack
    inside = (xs >= left) & (xs <= right) & (ys >= top) & (ys <= bottom)
    # One band per line from the font's ascent to its descent, so the three lines' bands
    # touch: of the rect around the sentence's glyphs, well over half is highlighted
    # paper (its first two lines are full; the glyphs stay dark, not yellow).
    assert inside.sum() > 0.5 * (right - left) * (bottom - top)


def test_a_sentence_that_begins_on_the_next_page_shows_that_page(repairs: Answer) -> None:
    first = repairs.citations[0]
    document, chunk = first.document, first.hit.chunk
    # The same sentence cited from a passage that begins on page 1.
    start = document.pages[1] - 20
    moved = dataclasses.replace(chunk, text=document.text[start : chunk.end], start=start)
    assert first.answer_span
    shift = chunk.start - start
    span = (first.answer_span[0] + shift, first.answer_span[1] + shift)
    citation = Citation(1, dataclasses.replace(first.hit, chunk=moved), document, span)
    assert citation.page == 1
    panel = sources_html(dataclasses.replace(repairs, citations=(citation,)))
    assert "Open page 2 as printed" in panel
    assert "the answering sentence highlighted" in panel
    assert highlighted(decoded(panel))[0].size


def test_other_formats_keep_the_text_viewer_alone(pdf_qa: QA, repairs: Answer) -> None:
    answer = pdf_qa.ask(MUSEUM)
    assert not answer.abstained and "1911" in (answer.text or "")
    for asked in (answer, repairs):
        assert {c.document.id for c in asked.citations} == {"trust-report", "harbour-notes"}
        shown = items(sources_html(asked))
        for citation, (title, body) in zip(asked.citations, shown, strict=True):
            assert title == citation.document.title
            pdf = citation.document.id == "trust-report"
            assert ('class="qa-page"' in body) == pdf
            assert ("<img" in body) == pdf
            assert '<details class="qa-document">' in body


def test_a_quote_not_on_the_page_shows_the_page_unmarked(pdf_qa: QA) -> None:
    path = str(pdf_qa.settings.corpus_dir / "trust-report.pdf")
    image = page_image(path, 2, "A sentence the report never prints.")
    assert image is not None and not image.highlighted
    assert not highlighted(Image.open(io.BytesIO(image.png)).convert("RGB"))[0].size
    assert page_image(path, 4, "Noss Head") is None  # no such page
    assert page_image(path, 3, "Noss Head and Duncansby.") is not None


def test_pages_drawn_from_parallel_threads_come_out_whole(pdf_qa: QA) -> None:
    """The UI answers in several threads at once, and pdfium is not thread-safe."""
    path = str(pdf_qa.settings.corpus_dir / "trust-report.pdf")
    # Each quote is a cache key of its own (and on no page): every thread renders.
    quotes = [f"Not printed, number {n}." for n in range(8)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        images = list(pool.map(lambda quote: page_image(path, 2, quote), quotes))
    assert all(image is not None and not image.highlighted for image in images)
    assert len({image.png for image in images if image}) == 1


def test_a_pdf_gone_or_changed_since_indexing_renders_sources_without_an_image(
    pdf_qa: QA, tmp_path: Path
) -> None:
    folder = make_corpus(tmp_path / "corpus")
    settings = pdf_qa.settings.replace(corpus_dir=folder, index_dir=tmp_path / "index")
    index = ensure_index(settings, pdf_qa.embedder, log=lambda message: None, progress=False)
    qa = QA(index, pdf_qa.embedder, settings)
    answer = qa.ask(REPAIRS)
    assert "Open page 2 as printed" in sources_html(answer)

    pdf = folder / "trust-report.pdf"
    write_pdf(pdf, [PAGES[0], PAGES[2], PAGES[1]], title=TITLE)  # the pages reordered
    changed = items(sources_html(answer))[0]
    pdf.unlink()
    gone = items(sources_html(answer))[0]
    pdf.write_bytes(b"%PDF-1.4 not a PDF at all")
    broken = items(sources_html(answer))[0]
    for title, body in (changed, gone, broken):
        assert title == TITLE
        assert "qa-page" not in body and "<img" not in body
        assert "<mark>The trust spent 1.2 million pounds" in body
        assert '<details class="qa-document">' in body


def off_host(url: str) -> bool:
    """Whether the page asked for something outside 127.0.0.1 (a data: image is inline)."""
    return not url.startswith(("http://127.0.0.1", "data:"))


@pytest.fixture
def pdf_app_url(pdf_qa: QA) -> Iterator[str]:
    from test_browser import free_port

    from qa.ui import build_app, launch

    app = build_app(pdf_qa)
    yield launch(app, pdf_qa.settings, "127.0.0.1", free_port())
    app.close()


@pytest.mark.browser
@pytest.mark.filterwarnings("ignore:.*no_silent_downcasting")
@pytest.mark.filterwarnings("ignore:The copy keyword is deprecated")
@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed")
def test_the_browser_shows_the_page_image(pdf_app_url: str, browser, tmp_path: Path) -> None:
    from test_browser import TIMEOUT_MS, ask

    outside: list[str] = []
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.on("request", lambda r: outside.append(r.url) if off_host(r.url) else None)
    page.goto(pdf_app_url)
    page.wait_for_selector("#qa-question textarea")
    assert "qa-answered" in (ask(page, REPAIRS).get_attribute("class") or "")

    source = page.locator("#qa-sources .qa-source").first
    source.locator("details.qa-page summary").click()
    image = source.locator("details.qa-page img")
    image.wait_for(state="visible")
    # Decoded, not just present: Gradio kept the data: URI as written.
    assert image.evaluate("img => img.complete && img.naturalWidth") > 0
    assert (image.get_attribute("src") or "").startswith("data:image/png;base64,")
    box, panel = image.bounding_box(), page.locator("#qa-sources").bounding_box()
    assert box and panel and box["width"] <= panel["width"]

    shot = Path(os.environ.get("QA_PDF_SCREENSHOT") or tmp_path / "pdf_page.png")
    page.locator("#qa-sources").screenshot(path=str(shot))
    context.close()
    assert outside == []
    assert shot.stat().st_size > 0
