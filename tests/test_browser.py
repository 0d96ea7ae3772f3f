"""The chat UI in a real browser: Playwright drives Debian's Chromium against the real app.

The app is built once per session over a private corpus copy (plus an article full of
script payloads) and served on a free port of 127.0.0.1 in this process. Each test gets a
fresh page (so a fresh chat session) that fails the test if it fires a dialog or asks for
anything outside 127.0.0.1.

Set QA_SCREENSHOT=docs/screenshot.png to save the follow-up conversation as a screenshot.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import CORPUS
from playwright.sync_api import Browser, Dialog, Locator, Page, Request, expect

from qa import QA, Settings
from qa.engine import ensure_index
from qa.ui.server import CJK_FONTS
from qa.ui.uploads import format_size

pytestmark = [
    pytest.mark.browser,
    # Gradio's queue statistics use pandas options that pandas 3 deprecates: not ours.
    pytest.mark.filterwarnings("ignore:.*no_silent_downcasting"),
    pytest.mark.filterwarnings("ignore:The copy keyword is deprecated"),
]

CHROMIUM = Path("/usr/bin/chromium")
FUJIAN = "How many Fujian counties are among the top 20 for industrial internet?"
COUNTIES_TITLE = "Liuyang city, Changsha county among China’s Top 20 counties"
# Every payload sets window.__xss (or opens a dialog) if anything runs it.
HOSTILE_ARTICLE = """\
Qwerty Orchard <script>window.__xss=1</script> festival <img src=x onerror="window.__xss=2">
2023-05-01 Source: <svg onload="window.__xss=3">Gazette</svg>

The Qwerty Orchard festival <img src=x onerror="window.__xss=4;alert(4)"> draws 4,321 visitors \
<script>window.__xss=5</script> every spring.

Organisers link to [the programme](javascript:window.__xss=6) and print ${window.__xss=7} \
and {{constructor.constructor('window.__xss=8')()}} on their posters.
"""
HOSTILE_QUESTION = (
    '<img src=x onerror="window.__xss=9;alert(9)"> [x](javascript:alert(10)) '
    "${window.__xss=11} How many visitors does the Qwerty Orchard festival draw?"
)
FINISHED = "#qa-chat .qa-reply:not(.qa-pending)"
TIMEOUT_MS = 20_000

if not CHROMIUM.exists():
    pytest.skip("Debian's chromium is not installed (make browser-deps)", allow_module_level=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def served(qa: QA, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """The settings of the app served: a private corpus, the bundled articles plus a
    hostile one."""
    root = tmp_path_factory.mktemp("browser")
    corpus = root / "corpus"
    shutil.copytree(CORPUS, corpus)
    (corpus / "qwerty-orchard.txt").write_text(HOSTILE_ARTICLE, encoding="utf-8")
    return qa.settings.replace(corpus_dir=corpus, index_dir=root / "index")


@pytest.fixture(scope="session")
def app_url(qa: QA, served: Settings) -> Iterator[str]:
    """The real app over `served`, sharing the session's loaded model; served until the
    session ends."""
    from qa.ui import build_app, launch

    settings = served
    index = ensure_index(settings, qa.embedder, log=lambda message: None, progress=False)
    app = build_app(QA(index, qa.embedder, settings))
    url = launch(app, settings, "127.0.0.1", free_port())
    yield url
    app.close()


@pytest.fixture
def page(browser: Browser, app_url: str) -> Iterator[Page]:
    """A fresh chat session; fails the test on any dialog or any request off 127.0.0.1."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    dialogs: list[str] = []
    outside: list[str] = []

    def on_dialog(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    def on_request(request: Request) -> None:
        if not request.url.startswith(("http://127.0.0.1", "data:", "blob:")):
            outside.append(request.url)

    page.on("dialog", on_dialog)
    page.on("request", on_request)
    page.goto(app_url)
    page.wait_for_selector("#qa-question textarea")
    yield page
    assert page.evaluate("window.__xss") is None
    assert dialogs == []
    assert outside == []
    assert page.locator(".toast-body").count() == 0
    context.close()


def ask(page: Page, question: str) -> Locator:
    """Type `question`, press Enter, wait for its reply; returns the reply element."""
    before = page.locator(FINISHED).count()
    box = page.locator("#qa-question textarea")
    box.fill(question)
    box.press("Enter")
    return wait_for_reply(page, before)


def wait_for_reply(page: Page, before: int) -> Locator:
    """Wait until the chat holds more than `before` finished replies and none pending."""
    page.wait_for_function(
        "([selector, n]) => document.querySelectorAll(selector).length > n"
        " && !document.querySelector('#qa-chat .qa-pending')",
        arg=[FINISHED, before],
    )
    return page.locator(FINISHED).last


def classes(element: Locator) -> str:
    return element.get_attribute("class") or ""


def test_answer_cites_articles_and_highlights_the_sentence(page: Page) -> None:
    reply = ask(page, FUJIAN)
    assert "qa-answered" in classes(reply)
    answer = reply.locator(".qa-answer-text").inner_text()
    assert "[1]" in answer
    assert f"{COUNTIES_TITLE} (2022-07-27)" in reply.locator(".qa-refs").inner_text()

    first = page.locator("#qa-sources .qa-source").first
    assert first.locator(".qa-source-head").inner_text().startswith("[1]")
    assert "2022-07-27 · Knowing All about Hunan" in first.locator(".qa-meta").inner_text()
    marked = first.locator(".qa-passage mark").inner_text()
    assert marked and marked in answer

    # The whole article opens scrolled to the passage, highlighted in place.
    first.locator("details.qa-document summary").click()
    passage = first.locator(".qa-document-text .qa-in-document")
    passage.wait_for(state="visible")
    assert passage.locator("mark").inner_text() == marked
    box = first.locator(".qa-document-text").bounding_box()
    spot = passage.locator("mark").bounding_box()
    assert box is not None and spot is not None
    assert box["y"] <= spot["y"] and spot["y"] + spot["height"] <= box["y"] + box["height"] + 1


def test_follow_up_is_resolved_from_the_conversation(page: Page) -> None:
    ask(page, FUJIAN)
    reply = ask(page, "And Zhejiang?")
    assert "qa-answered" in classes(reply)
    searched = "How many Zhejiang counties are among the top 20 for industrial internet?"
    assert searched in reply.locator(".qa-searched").inner_text()
    assert COUNTIES_TITLE in reply.locator(".qa-refs").inner_text()
    sources = page.locator("#qa-sources")
    assert searched in sources.locator(".qa-searched").inner_text()
    assert "6 in Zhejiang" in sources.locator(".qa-source").first.inner_text()

    # Clicking the first reply brings its sources back.
    page.locator("#qa-chat .qa-reply").first.click()
    page.wait_for_function(
        "q => document.querySelector('#qa-sources .qa-asked').innerText.includes(q)", arg=FUJIAN
    )

    if os.environ.get("QA_SCREENSHOT"):
        page.locator("#qa-chat .qa-reply").last.click()
        page.wait_for_function(
            "() => document.querySelector('#qa-sources .qa-asked').innerText.includes('Zhejiang')"
        )
        page.locator("#qa-sources details.qa-document summary").first.click()
        page.set_viewport_size({"width": 1400, "height": 1150})
        page.evaluate("window.scrollTo(0, 0)")
        page.wait_for_timeout(300)
        page.screenshot(path=os.environ["QA_SCREENSHOT"])


def test_unanswerable_question_gets_a_plain_different_reply(page: Page) -> None:
    reply = ask(page, "How do I bake sourdough bread?")
    assert "qa-abstained" in classes(reply)
    assert reply.locator(".qa-not-found").inner_text() == "The documents don't say."
    assert "they do not answer the question" in reply.inner_text()
    sources = page.locator("#qa-sources .qa-sources")
    assert "qa-abstained" in classes(sources)
    assert "they do not answer the question" in sources.locator("h3").inner_text()
    assert sources.locator("mark").count() == 0
    # Visibly different from an answer: the reply is drawn in another colour.
    colour = reply.locator(".qa-not-found").evaluate("e => getComputedStyle(e).color")
    assert colour == "rgb(180, 83, 9)"


def test_script_payloads_in_articles_and_questions_stay_text(page: Page) -> None:
    reply = ask(page, "How many visitors does the Qwerty Orchard festival draw?")
    assert "4,321 visitors" in reply.inner_text()
    assert "<script>window.__xss=5</script>" in reply.inner_text()
    first = page.locator("#qa-sources .qa-source").first
    assert '<img src=x onerror="window.__xss=4;alert(4)">' in first.inner_text()
    first.locator("details.qa-document summary").click()
    article = first.locator(".qa-document-text")
    article.wait_for(state="visible")
    for literal in (
        "[the programme](javascript:window.__xss=6)",
        "${window.__xss=7}",
        "{{constructor",
    ):
        assert literal in article.inner_text()

    mine = ask(page, HOSTILE_QUESTION)
    question = page.locator("#qa-chat .qa-question").last.inner_text()
    assert question == HOSTILE_QUESTION
    # Answered or not (the payload is noise to retrieval), the hostile article is cited.
    assert "Qwerty Orchard <script>window.__xss=1</script>" in mine.inner_text()

    page.get_by_role("tab", name="Documents").click()
    assert "<script>window.__xss=1</script>" in page.locator("#qa-documents").inner_text()
    # Nothing the payloads would create exists, and (checked by the fixture) none ran.
    assert (
        page.locator("#qa-chat img, #qa-sources img, #qa-documents img, #qa-chat script").count()
        == 0
    )


def test_settings_examples_and_explain(page: Page) -> None:
    page.locator("#qa-settings").get_by_text("Settings").click()
    page.locator("#qa-mode").get_by_text("bm25").click()
    page.locator("#qa-explain input[type=checkbox]").check()
    before = page.locator(FINISHED).count()
    page.locator("#qa-examples").get_by_text("Which two factories in Changsha").click()
    reply = wait_for_reply(page, before)
    # This test is about the settings and the ranking explanation. Which Bosch sentence
    # is quoted is the answer model's call (docs/EVAL.md lists this example as a miss).
    assert "Bosch" in reply.inner_text()
    explain = page.locator("#qa-sources .qa-source").first.locator(".qa-explain").inner_text()
    # The answer's passage is cited first, whatever its BM25 rank.
    assert re.search(r"BM25 rank \d+ · dense rank", explain) and "bm25 score" in explain
    page.locator("#qa-explain input[type=checkbox]").uncheck()
    page.wait_for_function("() => !document.querySelector('#qa-sources .qa-explain')")


def test_empty_huge_and_burst_messages_get_polite_replies(page: Page) -> None:
    reply = ask(page, "")
    assert "Please type a question" in reply.inner_text()
    reply = ask(page, "why " * 25_000)
    assert "the limit is 2,000" in reply.inner_text()
    assert "100,000 characters" in page.locator("#qa-chat .qa-question").last.inner_text()

    box = page.locator("#qa-question textarea")
    for n in range(6):
        box.fill(f"{FUJIAN} ({n})")
        box.press("Enter")
    page.wait_for_function("() => !document.querySelector('#qa-chat .qa-pending')")
    page.wait_for_timeout(500)
    reply = ask(page, "And Zhejiang?")
    assert "6 in Zhejiang" in page.locator("#qa-sources .qa-source").first.inner_text()
    text = page.locator("#qa-chat").inner_text()
    assert "Error" not in text and "Traceback" not in text


def test_upload_makes_a_new_article_answerable(page: Page, tmp_path: Path) -> None:
    article = tmp_path / "zorblax lighthouse.txt"
    article.write_text(
        "Zorblax lighthouse repainted\n2024-03-02 Source: Pemberly Gazette\n\n"
        "The Zorblax lighthouse on Pemberly Island was repainted teal by 37 volunteers.",
        encoding="utf-8",
    )
    page.get_by_role("tab", name="Documents").click()
    # As a user does it: click the drop zone, pick the file in the chooser.
    with page.expect_file_chooser() as chooser:
        page.locator("#qa-upload").get_by_text("Click to Upload").click()
    chooser.value.set_files(str(article))
    page.locator("#qa-upload").get_by_text("zorblax lighthouse.txt").wait_for()
    page.locator("#qa-add").click()
    status = page.locator("#qa-upload-status .qa-status")
    status.wait_for()
    assert "Added zorblax-lighthouse.txt" in status.inner_text()
    assert "Zorblax lighthouse repainted" in page.locator("#qa-documents").inner_text()

    page.get_by_role("tab", name="Ask").click()
    reply = ask(page, "How many volunteers repainted the Zorblax lighthouse?")
    assert "Zorblax lighthouse repainted (2024-03-02)" in reply.locator(".qa-refs").inner_text()
    assert "37 volunteers" in page.locator("#qa-sources .qa-source").first.inner_text()

    # Removed again from the UI: no longer listed, nothing in the corpus folder touched.
    page.get_by_role("tab", name="Documents").click()
    page.locator("#qa-uploaded input").click()
    page.get_by_role("option", name="zorblax-lighthouse.txt").click()
    page.locator("#qa-remove").click()
    page.locator("#qa-upload-status .qa-status", has_text="Removed").wait_for()
    expect(page.locator("#qa-documents")).not_to_contain_text("Zorblax")
    expect(page.locator("#qa-documents")).to_contain_text("Liangjiang")


def test_oversized_upload_is_refused_in_the_units_of_the_label(
    page: Page, qa: QA, tmp_path: Path
) -> None:
    # The app is served with the session's settings (see app_url).
    limit = format_size(qa.settings.max_upload_bytes)
    big = tmp_path / "big.txt"
    big.write_bytes(b"x" * (qa.settings.max_upload_bytes + 1))
    page.get_by_role("tab", name="Documents").click()
    upload = page.locator("#qa-upload")
    assert f"{limit} at most" in upload.inner_text()
    with page.expect_file_chooser() as chooser:
        upload.get_by_text("Click to Upload").click()
    chooser.value.set_files(str(big))
    # Gradio refuses it in the browser before sending it, in its own words ("976.6 Kb"):
    # the same figure, in binary units too.
    toast = page.locator(".toast-body")
    number, unit = limit.split()
    expect(toast).to_contain_text(
        re.compile(rf"exceed the maximum allowed size of {re.escape(number)} {unit[0]}"),
        timeout=TIMEOUT_MS,
    )
    page.locator(".toast-close").click()
    toast.wait_for(state="detached")


def test_chinese_outlet_is_drawn_with_a_cjk_font(page: Page) -> None:
    page.get_by_role("tab", name="Documents").click()
    outlet = page.locator("#qa-documents td", has_text="中国网").first
    outlet.wait_for()
    family = outlet.evaluate("e => getComputedStyle(e).fontFamily")
    assert any(f'"{font}"' in family or font in family for font in CJK_FONTS), family
    # The fonts Chromium actually drew the glyphs with (boxes come from a font without
    # them): one of the stack's CJK fonts, for all three characters.
    cdp = page.context.new_cdp_session(page)
    cdp.send("DOM.enable")
    cdp.send("CSS.enable")
    root = cdp.send("DOM.getDocument", {"depth": -1})["root"]["nodeId"]
    cells = cdp.send("DOM.querySelectorAll", {"nodeId": root, "selector": "#qa-documents td"})
    drawn: list[dict] = []
    for node in cells["nodeIds"]:
        described = cdp.send("DOM.describeNode", {"nodeId": node, "depth": 1})["node"]
        texts = [c.get("nodeValue", "") for c in described.get("children", [])]
        if "中国网" in texts:
            drawn = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]
            break
    assert drawn, "no table cell holds exactly 中国网"
    cjk = [f for f in drawn if f["familyName"] in CJK_FONTS]
    assert cjk and sum(f["glyphCount"] for f in cjk) == 3, drawn


def test_a_thumb_on_a_reply_is_kept_beside_the_index(page: Page, served: Settings) -> None:
    path = served.verdicts_path()
    before = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    assert "qa calibrate" in page.locator("#qa-verdict-hint").inner_text()
    ask(page, "What is the capital of Peru?")
    # Gradio puts the thumbs under the reply they judge: the last ones are this reply's.
    page.locator("#qa-chat button[aria-label='Dislike']").last.click()
    # The server writes the line when the like event reaches it.
    for _ in range(50):
        lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
        if len(lines) > len(before):
            break
        page.wait_for_timeout(100)
    record = json.loads(lines[-1])
    assert record["question"] == "What is the capital of Peru?" and record["liked"] is False
    assert record["should_answer"] == (record["answer"] is None)


def test_no_thumbs_under_a_notice(page: Page, served: Settings) -> None:
    """An empty or over-long question gets a notice, not an answer: nothing to judge."""
    ask(page, "What is the capital of Peru?")
    ask(page, "   ")
    ask(page, "Why " * (served.max_question_chars // 4 + 1))
    notices = page.locator("#qa-chat .qa-notice")
    expect(notices).to_have_count(2)
    assert "Please type a question" in notices.first.inner_text()
    assert "Ask a shorter question" in notices.last.inner_text()
    # Gradio draws the thumbs under all three bot messages; only the answer's are shown.
    thumbs = page.locator("#qa-chat button[aria-label='Like']")
    expect(thumbs).to_have_count(3)
    assert [thumbs.nth(i).is_visible() for i in range(3)] == [True, False, False]


def test_an_uploaded_scan_is_read_by_ocr_and_its_sentence_highlighted_on_the_page(
    page: Page, tmp_path: Path
) -> None:
    """A scanned newsletter (an image-only PDF, noisy and slightly rotated) uploaded as a
    user does, asked about, and its page opened in the sources panel: the sentence is
    marked where Tesseract read it. QA_SCAN_SCREENSHOT=path saves the panel's source."""
    import office_documents as od

    source = od.write_scan_source(tmp_path / "source.pdf")
    scan = od.write_scanned_pdf(tmp_path / "club newsletter.pdf", source, seed=3)
    page.get_by_role("tab", name="Documents").click()
    with page.expect_file_chooser() as chooser:
        page.locator("#qa-upload").get_by_text("Click to Upload").click()
    chooser.value.set_files(str(scan))
    page.locator("#qa-upload").get_by_text("club newsletter.pdf").wait_for()
    page.locator("#qa-add").click()
    status = page.locator("#qa-upload-status .qa-status")
    status.wait_for(timeout=120_000)  # OCR: seconds a page
    assert "Added club-newsletter.pdf" in status.inner_text()

    page.get_by_role("tab", name="Ask").click()
    question, expected = od.FACTS["scan"]
    reply = ask(page, question)
    assert expected in reply.inner_text()
    source_item = page.locator("#qa-sources .qa-source").first
    assert "p. 1" in source_item.locator(".qa-meta").inner_text()
    viewer = source_item.locator("details.qa-page")
    viewer.locator("summary").click()
    image = viewer.locator("img")
    expect(image).to_be_visible()
    assert "the answering sentence highlighted" in (image.get_attribute("alt") or "")
    if os.environ.get("QA_SCAN_SCREENSHOT"):
        source_item.scroll_into_view_if_needed()
        source_item.screenshot(path=os.environ["QA_SCAN_SCREENSHOT"])

    page.get_by_role("tab", name="Documents").click()
    page.locator("#qa-uploaded input").click()
    page.get_by_role("option", name="club-newsletter.pdf").click()
    page.locator("#qa-remove").click()
    page.locator("#qa-upload-status .qa-status", has_text="Removed").wait_for()
