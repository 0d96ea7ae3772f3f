"""The chat UI without a browser: escaping, follow-up resolution, uploads, the event handlers."""

from __future__ import annotations

import dataclasses
import html
import os
import re
import shutil
import subprocess
import threading
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

import gradio as gr
import pytest
from conftest import CORPUS

from qa import QA, Answer, Settings
from qa.answer import NOT_FOUND
from qa.engine import ensure_index
from qa.errors import QAError, UsageError
from qa.search.followup import is_elliptical, resolve_followup
from qa.ui.app import build_app
from qa.ui.chat import ChatApp, Conversation
from qa.ui.examples import TITLE_QUESTION, corpus_examples, folder_examples
from qa.ui.render import (
    document_html,
    documents_html,
    notice_html,
    question_html,
    reply_html,
    sources_html,
    text,
)
from qa.ui.server import check_free, listen_address, sign_in
from qa.ui.uploads import format_size, read_upload, remove_upload, safe_name, save_upload

FUJIAN = "How many Fujian counties are among the top 20 for industrial internet?"
COUNTIES_DOC = "hunan-counties-top20-industrial-internet"
# Each payload would set window.__xss or open a dialog if any renderer ran it.
PAYLOADS = (
    "<script>window.__xss=1</script>",
    '<img src=x onerror="window.__xss=2">',
    "[click me](javascript:window.__xss=3)",
    "${window.__xss=4}",
    "{{constructor.constructor('window.__xss=5')()}}",
    "$$\\href{javascript:alert(1)}{x}$$",
    '"><svg onload=alert(1)>',
)
# The only markup render.py writes: any other tag or attribute came from the payload.
TAGS = frozenset(
    """div p span ul ol li mark q section h3 h4 blockquote details summary
    table thead tbody tr th td code img""".split()
)
# img and its attributes: a cited PDF page (pdf_page.py), its src a data: URI of our PNG.
ATTRIBUTES = frozenset({"class", "id", "data-anchor", "src", "width", "height", "alt"})
# Syntax that Markdown, KaTeX or a JS/Handlebars template would act on.
SYNTAX = re.compile(r"\$\{|\{\{|\]\(|\$\$")

LIMIT = Settings().max_upload_bytes
ROOT = Path(__file__).resolve().parent.parent
# The bundled articles' own examples (corpus/.qa-examples.json): what they answer, then
# what they do not.
_OWN = folder_examples(CORPUS)
assert _OWN is not None
ANSWERED = _OWN.answered
EXAMPLES = _OWN.answered + _OWN.refused
SQUAD_ARTICLES = ROOT / "data" / "squad" / "articles"


class Markup(HTMLParser):
    """Collects the tags and attributes of an HTML string."""

    def __init__(self, markup: str) -> None:
        super().__init__()
        self.tags: set[str] = set()
        self.attributes: set[str] = set()
        self.feed(markup)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self.attributes.update(name for name, _ in attrs)


def assert_inert(markup: str) -> None:
    parsed = Markup(markup)
    assert parsed.tags <= TAGS, parsed.tags - TAGS
    assert parsed.attributes <= ATTRIBUTES, parsed.attributes - ATTRIBUTES
    assert not SYNTAX.search(markup), SYNTAX.search(markup)


def visible(markup: str) -> str:
    """The text a browser shows for `markup` (tags dropped, entities decoded)."""
    return html.unescape(re.sub(r"<[^>]+>", "", markup))


# --- rendering -----------------------------------------------------------------------


@pytest.mark.parametrize("payload", PAYLOADS)
def test_text_is_inert_and_shows_the_same_characters(payload: str) -> None:
    escaped = text(payload)
    assert_inert(escaped)
    assert "<" not in escaped and ">" not in escaped
    assert html.unescape(escaped) == payload


def hostile(answer: Answer, payload: str) -> Answer:
    """`answer` with every article field and passage carrying `payload`."""
    citations = []
    for c in answer.citations:
        document = dataclasses.replace(
            c.document,
            title=f"Title {payload}",
            source=f"Outlet {payload}",
            date=f"2024 {payload}",
            text=c.document.text + f"\n\nTail {payload}",
        )
        citations.append(dataclasses.replace(c, document=document))
    return dataclasses.replace(
        answer,
        question=f"Q {payload}",
        searched=f"S {payload}",
        text=f"A {payload}" if answer.text else None,
        citations=tuple(citations),
    )


@pytest.mark.parametrize("payload", PAYLOADS)
def test_every_rendered_view_escapes_hostile_articles_and_questions(qa: QA, payload: str) -> None:
    answer = hostile(qa.ask(FUJIAN), payload)
    documents = [c.document for c in answer.citations]
    views = [
        reply_html(answer),
        sources_html(answer, explain=True),
        question_html(payload),
        documents_html(documents, Counter()),
    ]
    for markup in views:
        assert_inert(markup)
        assert payload in visible(markup)


def test_reply_names_the_answer_sentence_and_numbered_articles(qa: QA) -> None:
    answer = qa.ask(FUJIAN)
    reply = visible(reply_html(answer))
    assert answer.text is not None and reply.startswith(answer.text)
    assert "[1]" in reply and f"{answer.citations[0].document.title} (2022-07-27)" in reply
    # Every passage is numbered, passages of one article on one line.
    assert all(f"[{c.rank}]" in reply for c in answer.citations)
    assert reply.count(answer.citations[0].document.title) == len(
        {c.document.id for c in answer.citations}
    )


def test_sources_mark_exactly_the_answering_sentence(qa: QA) -> None:
    answer = qa.ask(FUJIAN)
    first = answer.citations[0]
    assert first.answer_span is not None
    panel = sources_html(answer)
    start, end = first.answer_span
    marks = re.findall(r"<mark>(.*?)</mark>", panel, re.DOTALL)
    # Once in the passage, once in the article view.
    assert [html.unescape(m) for m in marks] == [first.hit.chunk.text[start:end]] * 2
    assert answer.text == first.hit.chunk.text[start:end]
    assert "2022-07-27 · Knowing All about Hunan" in visible(panel)
    assert "BM25 rank" not in panel
    explained = visible(sources_html(answer, explain=True))
    assert "BM25 rank" in explained and "fused score" in explained
    assert "bm25 score" in visible(sources_html(answer, explain=True, mode="bm25"))


def test_article_view_highlights_the_passage_in_place(qa: QA) -> None:
    citation = qa.ask(FUJIAN).citations[0]
    document, chunk = citation.document, citation.hit.chunk
    markup = document_html(document, chunk.start, chunk.end, citation.answer_span, "qa-x-1")
    passage = re.search(
        r'<span class="qa-in-document" id="qa-x-1-passage">(.*?)</span>', markup, re.DOTALL
    )
    assert passage is not None
    assert visible(passage.group(1)) == document.text[chunk.start : chunk.end]
    body = markup.split("</h4>", 1)[1]
    assert visible(body) == document.text


def test_abstention_is_plain_and_lists_nearest_passages_as_not_answering(qa: QA) -> None:
    answer = qa.ask("How do I bake sourdough bread?")
    assert answer.abstained
    reply = reply_html(answer)
    assert 'class="qa-reply qa-abstained"' in reply
    assert visible(reply).startswith(NOT_FOUND)
    assert "do not answer" in visible(reply)
    panel = sources_html(answer)
    assert "qa-sources qa-abstained" in panel and "<mark>" not in panel


def test_long_question_is_cut_short_in_the_chat() -> None:
    shown = visible(question_html("x" * 100_000))
    assert len(shown) < 600 and "100,000 characters" in shown


# --- follow-ups ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "previous", "searched"),
    [
        (
            "And Zhejiang?",
            FUJIAN,
            "How many Zhejiang counties are among the top 20 for industrial internet?",
        ),
        (
            "What about Hunan?",
            FUJIAN,
            "How many Hunan counties are among the top 20 for industrial internet?",
        ),
        (
            "Zhejiang?",
            FUJIAN,
            "How many Zhejiang counties are among the top 20 for industrial internet?",
        ),
        (
            "And the fourth?",
            "Which city hosted the fifth Digital China Summit?",
            "Which city hosted the fourth Digital China Summit?",
        ),
        (
            "What about in 2020?",
            "What was the output value of the Liangjiang park in 2021?",
            "What was the output value of the Liangjiang park in 2020?",
        ),
        # A pronoun with little else: the previous question's key terms are folded in.
        (
            "How many workers does it employ?",
            "When did Liangjiang open its Digital Economy Industrial Park?",
            "How many workers does it employ? (Liangjiang open Digital Economy Industrial Park)",
        ),
        # Two names in the previous question: which one to swap is unclear, so fold.
        (
            "And Sany?",
            "Who selected Bosch Auto Parts (Changsha) as a lighthouse factory?",
            "And Sany? (selected Bosch Auto Parts Changsha lighthouse factory)",
        ),
        (
            "Where?",
            "Where did the Smart China Expo 2021 open?",
            "Where? (Smart China Expo 2021 open)",
        ),
        # Questions with a subject of their own are searched as typed.
        ("Who founded Sany Group?", FUJIAN, "Who founded Sany Group?"),
        ("How do I bake sourdough bread?", FUJIAN, "How do I bake sourdough bread?"),
        (
            "Which city hosted the fifth Digital China Summit?",
            FUJIAN,
            "Which city hosted the fifth Digital China Summit?",
        ),
    ],
)
def test_resolve_followup(question: str, previous: str, searched: str) -> None:
    assert resolve_followup(question, [previous]) == searched


def test_followups_chain_through_what_was_searched() -> None:
    second = resolve_followup("And Zhejiang?", [FUJIAN])
    assert resolve_followup("And Hunan?", [FUJIAN, second]) == FUJIAN.replace("Fujian", "Hunan")


def test_nothing_to_resolve_from() -> None:
    assert resolve_followup("And Zhejiang?", []) == "And Zhejiang?"
    assert resolve_followup("And Zhejiang?", ["", "  "]) == "And Zhejiang?"
    assert not is_elliptical(FUJIAN)
    assert is_elliptical("And Zhejiang?")


def test_followup_is_answered_from_the_right_article(qa: QA) -> None:
    first = qa.ask(FUJIAN)
    searched = resolve_followup("And Zhejiang?", [first.searched])
    answer = qa.ask("And Zhejiang?", searched=searched)
    assert answer.searched == searched and not answer.abstained
    top = answer.citations[0]
    assert top.document.id == COUNTIES_DOC
    assert "6 in Zhejiang" in top.hit.chunk.text


# --- uploads -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "saved"),
    [("notes.txt", "notes.txt"), ("My Notes.TXT", "My-Notes.txt"), ("río_2024.md", "río_2024.md")],
)
def test_safe_names_are_kept(name: str, saved: str) -> None:
    assert safe_name(name) == saved


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("../../etc/passwd.txt", "plain file name"),
        ("..\\evil.txt", "plain file name"),
        ("/etc/cron.d/x.txt", "plain file name"),
        ("C:evil.txt", "plain file name"),
        ("a/b.txt", "plain file name"),
        (".hidden.txt", "hidden"),
        ("slides.key", "not a file type qa reads"),
        ("run.exe", "not a file type qa reads"),
        ("notes.txt.exe", "not a file type qa reads"),
        ("noext", "not a file type qa reads"),
        ("<script>.txt", "not allowed"),
        ("tab\there.txt", "not allowed"),
        ("nul.txt", "not a usable"),
        ("", "no name"),
        ("x" * 200 + ".txt", "limit is 100"),
    ],
)
def test_unsafe_names_are_refused(name: str, reason: str) -> None:
    with pytest.raises(UsageError, match=re.escape(reason)):
        safe_name(name)


def test_upload_size_refusal_states_sizes_in_binary_units(tmp_path: Path) -> None:
    path = tmp_path / "upload"
    limit = 1_000_000
    path.write_bytes(b"x" * (limit + 1))
    with pytest.raises(UsageError, match=re.escape("is just over the 976.6 KiB limit")):
        read_upload(path, "big.txt", limit)
    path.write_bytes(b"x" * (2 * limit))
    with pytest.raises(UsageError, match=re.escape("is 1.9 MiB, over the 976.6 KiB limit")):
        read_upload(path, "big.txt", limit)
    path.write_bytes(b"x" * limit)
    assert read_upload(path, "exactly.txt", limit).text == "x" * limit


def test_upload_checks_encoding_and_content(tmp_path: Path) -> None:
    path = tmp_path / "upload"
    path.write_bytes("Café au lait\n\nBody.".encode("latin-1"))
    with pytest.raises(UsageError, match="not UTF-8"):
        read_upload(path, "latin.txt", LIMIT)
    path.write_bytes(b"Title\n\nBody \x00 with a NUL.")
    with pytest.raises(UsageError, match="binary"):
        read_upload(path, "zero.md", LIMIT)
    path.write_text("\n  \n\t\n", encoding="utf-8")
    with pytest.raises(UsageError, match="has no text"):
        read_upload(path, "blank.txt", LIMIT)
    # A one-line note is a document like any other: every sentence must be citable.
    path.write_text("Just a title\n", encoding="utf-8")
    assert read_upload(path, "title.txt", LIMIT).text == "Just a title\n"
    path.write_bytes(b"%PDF-1.4\n1 0 obj")
    with pytest.raises(UsageError, match="report.pdf cannot be read: damaged or truncated PDF"):
        read_upload(path, "report.pdf", LIMIT)
    path.write_text("A title\n\nA body sentence.", encoding="utf-8")
    assert read_upload(path, "ok.txt", LIMIT).text == "A title\n\nA body sentence."


@pytest.mark.parametrize(
    ("size", "shown"),
    [
        (0, "0 bytes"),
        (1023, "1,023 bytes"),
        (1024, "1.0 KiB"),
        # What Gradio's upload check in the browser says for these limits: "976.6 Kb",
        # "1024.0 Kb" (its units are binary too), "1.0 Mb".
        (1_000_000, "976.6 KiB"),
        (1_048_535, "1024.0 KiB"),
        (1_048_576, "1.0 MiB"),
        (5 * 1024**3, "5.0 GiB"),
        (3 * 1024**5, "3072.0 TiB"),
    ],
)
def test_sizes_are_shown_in_binary_units(size: int, shown: str) -> None:
    assert format_size(size) == shown


def component(app: gr.Blocks, elem_id: str) -> gr.components.Component:
    [found] = [b for b in app.blocks.values() if getattr(b, "elem_id", None) == elem_id]
    return found  # type: ignore[return-value]


def test_upload_label_and_refusal_state_the_limit_alike(qa: QA, tmp_path: Path) -> None:
    small = qa.settings.replace(max_upload_bytes=250_000)
    app = build_app(QA(qa.index, qa.embedder, small), examples=())
    label = str(component(app, "qa-upload").label)
    assert "244.1 KiB at most" in label and "kB" not in label
    path = tmp_path / "big.txt"
    path.write_bytes(b"x" * 300_000)
    with pytest.raises(UsageError) as refused:
        read_upload(path, "big.txt", small.max_upload_bytes)
    assert "over the 244.1 KiB limit" in str(refused.value)


def test_save_refuses_to_replace_and_leaves_no_temporary_files(tmp_path: Path) -> None:
    source = tmp_path / "in.txt"
    source.write_text("Title\n\nFirst version.", encoding="utf-8")
    uploads = tmp_path / "index-uploads"  # made by the first upload
    saved = save_upload(read_upload(source, "article.txt", LIMIT), uploads)
    assert saved == uploads / "article.txt"
    assert saved.read_text(encoding="utf-8") == "Title\n\nFirst version."
    source.write_text("Title\n\nSecond version.", encoding="utf-8")
    with pytest.raises(UsageError, match="has been uploaded already"):
        save_upload(read_upload(source, "article.txt", LIMIT), uploads)
    # Another suffix would be the same document (uploads/article): refused too.
    markdown = tmp_path / "in.md"
    markdown.write_text("# Title\n\nThird version.", encoding="utf-8")
    with pytest.raises(UsageError, match="only the suffix"):
        save_upload(read_upload(markdown, "Article.md", LIMIT), uploads)
    assert saved.read_text(encoding="utf-8") == "Title\n\nFirst version."
    assert sorted(p.name for p in uploads.iterdir()) == ["article.txt"]


def test_only_a_listed_upload_is_removed(tmp_path: Path) -> None:
    uploads = tmp_path / "uploads"
    uploads.mkdir()
    (uploads / "a.txt").write_text("A\n\nText.", encoding="utf-8")
    corpus_file = tmp_path / "corpus.txt"
    corpus_file.write_text("Kept.", encoding="utf-8")
    for name in ("../corpus.txt", "b.txt", "", str(corpus_file)):
        with pytest.raises(UsageError, match="not an uploaded document"):
            remove_upload(name, uploads)
    assert corpus_file.exists()
    assert remove_upload("a.txt", uploads) == uploads / "a.txt"
    assert list(uploads.iterdir()) == []


def test_uploads_live_beside_the_index_outside_the_tracked_files(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("QA_UPLOADS_DIR", raising=False)
    monkeypatch.delenv("QA_INDEX_DIR", raising=False)
    assert Settings().uploads_path() == Path("index/corpus-uploads")
    assert Settings(index_dir=Path("/srv/ix")).uploads_path() == Path("/srv/ix-uploads")
    # git ignores it: an upload never shows in `git status` of the checkout.
    ignored = subprocess.run(
        ["git", "check-ignore", "-q", "index/corpus-uploads/notes.txt"], cwd=ROOT, check=False
    )
    assert ignored.returncode == 0
    monkeypatch.setenv("QA_UPLOADS_DIR", "/data/qa-uploads")
    assert Settings.from_env().uploads_path() == Path("/data/qa-uploads")


# --- handlers ------------------------------------------------------------------------


def turn(app: ChatApp, message: str, conversation: Conversation, k: int = 5, mode: str = "hybrid"):
    """The last yield of one chat turn: (textbox, messages, sources, conversation)."""
    *_, last = app.respond(message, conversation, k, mode, False)
    return last


def test_chat_turns_answer_follow_up_and_show_what_was_searched(qa: QA) -> None:
    app, conversation = ChatApp(qa), Conversation()
    # The question shows at once, with a placeholder reply, and the box is cleared.
    first = next(app.respond(FUJIAN, conversation, 5, "hybrid", False))
    assert first[0] == "" and "qa-pending" in first[1][-1]["content"]
    box, messages, sources, conversation = turn(app, FUJIAN, Conversation())
    assert [m["role"] for m in messages] == ["user", "assistant"]
    assert "qa-answered" in messages[1]["content"] and "<mark>" in sources
    _, messages, sources, conversation = turn(app, "And Zhejiang?", conversation)
    assert "Searched for: How many Zhejiang counties" in visible(messages[3]["content"])
    assert "6 in Zhejiang" in visible(sources)
    assert conversation.searched[-1].startswith("How many Zhejiang counties")
    assert sorted(conversation.replies) == [1, 3] and conversation.shown == 3


@pytest.mark.parametrize(
    ("message", "reply"),
    [
        ("", "Please type a question"),
        ("   ", "Please type a question"),
        ("x" * 100_000, "the limit is"),
    ],
)
def test_bad_messages_get_a_polite_reply(qa: QA, message: str, reply: str) -> None:
    _, messages, sources, _ = turn(ChatApp(qa), message, Conversation())
    content = messages[-1]["content"]
    assert "qa-notice" in content and reply in visible(content)
    if message.strip():
        # Input the engine refuses: the notice is its UsageError's message, whole and
        # alone (nothing added to it, nothing cut from it).
        with pytest.raises(UsageError) as refused:
            qa.ask(message)
        assert content == notice_html(str(refused.value))
    assert sources == gr.skip()  # the sources panel is left as it was


def test_a_bug_becomes_an_apology_not_a_traceback(qa: QA, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("index exploded")

    app = ChatApp(qa)
    monkeypatch.setattr(app.qa, "ask", broken)
    _, messages, _, conversation = turn(app, FUJIAN, Conversation())
    assert "something went wrong" in visible(messages[-1]["content"])
    assert "exploded" not in messages[-1]["content"] and conversation.searched == []


def test_api_returns_what_qa_ask_json_prints(qa: QA) -> None:
    app = ChatApp(qa)
    assert app.ask_api(FUJIAN, k=3, mode="bm25") == qa.ask(FUJIAN, k=3, mode="bm25").to_dict()
    with pytest.raises(gr.Error, match="question is empty"):
        app.ask_api("")
    with pytest.raises(gr.Error, match="k must be between"):
        app.ask_api(FUJIAN, k=0)


def test_upload_becomes_answerable_without_breaking_questions_in_flight(
    private_qa: QA, tmp_path: Path
) -> None:
    upload = tmp_path / "upload" / "zorblax lighthouse.txt"
    upload.parent.mkdir()
    upload.write_text(
        "Zorblax lighthouse repainted\n2024-03-02 Source: Pemberly Gazette\n\n"
        "The Zorblax lighthouse on Pemberly Island was repainted teal by 37 volunteers.",
        encoding="utf-8",
    )
    bad = tmp_path / "upload" / "slides.key"
    bad.write_text("<p>no</p>", encoding="utf-8")

    failures: list[BaseException] = []
    answers: list[Answer] = []
    stop = threading.Event()

    def keep_asking() -> None:
        while not stop.is_set():
            try:
                answers.append(private_qa.ask(FUJIAN))
            except BaseException as e:  # noqa: BLE001 - any failure in flight is the bug
                failures.append(e)

    workers = [threading.Thread(target=keep_asking) for _ in range(3)]
    for worker in workers:
        worker.start()
    try:
        status, documents, cleared, menu = ChatApp(private_qa).add_files([str(upload), str(bad)])
    finally:
        stop.set()
        for worker in workers:
            worker.join()

    assert failures == [] and answers
    assert all(a.citations[0].document.id == COUNTIES_DOC for a in answers)
    assert "Added zorblax-lighthouse.txt" in visible(status)
    assert "slides.key" in visible(status) and "not a file type qa reads" in visible(status)
    assert "Zorblax lighthouse repainted" in visible(documents) and cleared is None
    assert menu["choices"] == ["zorblax-lighthouse.txt"]
    answer = private_qa.ask("How many volunteers repainted the Zorblax lighthouse?")
    assert answer.citations[0].document.id == "uploads/zorblax-lighthouse"
    assert "37 volunteers" in answer.citations[0].hit.chunk.text
    # Saved beside the index, not into the corpus folder; the table says it is an upload.
    uploads = private_qa.settings.uploads_path()
    assert uploads == private_qa.settings.index_path().with_name("index-uploads")
    assert [p.name for p in uploads.iterdir()] == ["zorblax-lighthouse.txt"]
    assert sorted(p.name for p in private_qa.settings.corpus_dir.iterdir()) == sorted(
        p.name for p in CORPUS.iterdir()
    )
    rows = documents.split("<tr>")
    assert "uploaded" in visible(next(r for r in rows if "Zorblax" in r))
    assert sum("qa-uploaded" in r for r in rows) == 1


def test_an_upload_can_be_removed_and_is_no_longer_searched(private_qa: QA, tmp_path: Path) -> None:
    upload = tmp_path / "heron.txt"
    upload.write_text(
        "Heron count\n\nVolunteers counted 212 grey herons on the Marrow estuary.",
        encoding="utf-8",
    )
    app = ChatApp(private_qa)
    app.add_files([str(upload)])
    question = "How many grey herons were counted on the Marrow estuary?"
    answered = private_qa.ask(question)
    assert answered.answer_document is not None
    assert answered.answer_document.id == "uploads/heron"
    status, documents, _, menu = app.remove_file("heron.txt")
    assert "Removed heron.txt" in visible(status) and "Heron count" not in visible(documents)
    assert menu["choices"] == []
    assert not (private_qa.settings.uploads_path() / "heron.txt").exists()
    assert "uploads/heron" not in private_qa.index.documents
    assert private_qa.ask(question).text is None
    status, *_ = app.remove_file("heron.txt")
    assert "not an uploaded document" in visible(status)


def test_evaluation_leaves_uploads_out_in_an_index_of_its_own(
    private_qa: QA, tmp_path: Path
) -> None:
    """What `make test` measures (qa eval) does not move when a user uploads."""
    upload = tmp_path / "fujian.txt"
    upload.write_text(
        "Fujian note\n\nNine Fujian counties are among the top 20 for industrial internet.",
        encoding="utf-8",
    )
    ChatApp(private_qa).add_files([str(upload)])
    served = private_qa.settings
    measured = served.replace(include_uploads=False)
    assert measured.index_path() == served.index_path().with_name("index-without-uploads")
    index = ensure_index(measured, private_qa.embedder, log=lambda m: None, progress=False)
    assert sorted(index.documents) == sorted(p.stem for p in CORPUS.glob("*.txt"))
    # The served index is left as it was, the upload in it.
    again = ensure_index(served, private_qa.embedder, log=lambda m: None, progress=False)
    assert "uploads/fujian" in again.documents


def test_documents_table_lists_articles_with_passage_counts(qa: QA) -> None:
    table = ChatApp(qa).documents()
    cell = r"<td[^>]*>(.*?)</td>"
    rows = re.findall("<tr>" + cell * 4, table)
    assert len(rows) == len(qa.index.documents) == 5
    assert sum(int(r[3]) for r in rows) == len(qa.index.chunks)
    assert ("Liuyang city, Changsha county among China’s Top 20 counties", "2022-07-27") in [
        (html.unescape(r[0]), r[1]) for r in rows
    ]


# --- serving -------------------------------------------------------------------------


def test_address_defaults_and_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("QA_HOST", raising=False)
    monkeypatch.delenv("QA_PORT", raising=False)
    assert listen_address(Settings.from_env()) == ("127.0.0.1", 7860)
    monkeypatch.setenv("QA_HOST", "0.0.0.0")
    monkeypatch.setenv("QA_PORT", "8080")
    assert listen_address(Settings.from_env()) == ("0.0.0.0", 8080)
    assert listen_address(Settings.from_env(), "127.0.0.1", 9000) == ("127.0.0.1", 9000)
    monkeypatch.setenv("QA_PORT", "http")
    with pytest.raises(UsageError, match="QA_PORT must be a port number"):
        Settings.from_env()
    with pytest.raises(UsageError, match="between 1 and 65535"):
        listen_address(Settings(), port=70000)


def test_a_busy_port_gets_our_own_one_line(tmp_path: Path) -> None:
    import socket
    import subprocess
    import sys

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(QAError) as error:
            check_free("127.0.0.1", port)
        assert str(error.value) == f"Port {port} is in use: pass --port N or set QA_PORT."
        # The whole command: one line on stderr, exit 1, no traceback, no Gradio advice.
        run = subprocess.run(
            [sys.executable, str(ROOT / "app.py"), "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=300,
            env={**os.environ, "QA_INDEX_DIR": str(tmp_path / "index")},
        )
    assert run.returncode == 1
    assert run.stderr.strip().splitlines()[-1] == (
        f"Error: Port {port} is in use: pass --port N or set QA_PORT."
    )
    assert "Traceback" not in run.stderr and "GRADIO_SERVER_PORT" not in run.stderr
    with pytest.raises(QAError, match="no such address"):
        check_free("no-such-host.invalid", 7860)


def test_auth_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("QA_AUTH", raising=False)
    assert sign_in(Settings.from_env()) is None
    monkeypatch.setenv("QA_AUTH", "ann:s3cr:et")
    settings = Settings.from_env()
    assert sign_in(settings) == ("ann", "s3cr:et")
    assert "s3cr" not in repr(settings)
    monkeypatch.setenv("QA_AUTH", "ann")
    with pytest.raises(UsageError, match="user:password"):
        sign_in(Settings.from_env())


# --- examples ------------------------------------------------------------------------


def test_bundled_articles_keep_their_examples(qa: QA, tmp_path: Path) -> None:
    # `qa` serves a copy of corpus/ in a temporary folder: its examples travel with it,
    # and are shown because its index answers them.
    assert corpus_examples(qa) == EXAMPLES
    app = build_app(qa)
    samples = component(app, "qa-examples")
    assert samples.visible and [s[0] for s in samples.samples] == list(EXAMPLES)
    assert "Which cities made the top 20?" in str(component(app, "qa-question").placeholder)


@pytest.fixture(scope="module")
def squad_qa(qa: QA, tmp_path_factory: pytest.TempPathFactory) -> QA:
    """A user's own corpus: three SQuAD articles, nothing about Chinese industry."""
    root = tmp_path_factory.mktemp("squad")
    corpus = root / "corpus"
    corpus.mkdir()
    for name in ("004_1973_oil_crisis.txt", "006_Packet_switching.txt", "009_Immune_system.txt"):
        shutil.copy(SQUAD_ARTICLES / name, corpus / name)
    settings = qa.settings.replace(corpus_dir=corpus, index_dir=root / "index")
    index = ensure_index(settings, qa.embedder, log=lambda message: None, progress=False)
    return QA(index, qa.embedder, settings)


def test_another_corpus_gets_answered_questions_about_its_titles(squad_qa: QA) -> None:
    assert not any(squad_qa.ask(q).text for q in ANSWERED)
    examples = corpus_examples(squad_qa)
    titles = {d.title for d in squad_qa.index.documents.values()}
    assert set(examples) == {TITLE_QUESTION.format(title=t) for t in titles}
    assert "What does “Packet switching” say?" in examples
    for question in examples:
        answer = squad_qa.ask(question)
        assert answer.text is not None, question
        # Answered from the article the question names.
        assert answer.answer_document is not None
        assert TITLE_QUESTION.format(title=answer.answer_document.title) == question

    app = build_app(squad_qa)
    samples = component(app, "qa-examples")
    assert samples.visible and [s[0] for s in samples.samples] == list(examples)
    assert not any("Fujian" in s[0] or "sourdough" in s[0] for s in samples.samples)
    assert component(app, "qa-question").placeholder == "Ask a question"


def test_title_examples_are_capped_and_spread(squad_qa: QA) -> None:
    examples = corpus_examples(squad_qa, limit=2)
    assert len(examples) == 2 and len(set(examples)) == 2


def test_no_examples_when_nothing_is_answered(
    squad_qa: QA, monkeypatch: pytest.MonkeyPatch
) -> None:
    abstention = squad_qa.ask("How do I bake sourdough bread?")
    assert abstention.text is None
    asked: list[str] = []

    def abstain(question: str, **_: object) -> Answer:
        asked.append(question)
        return abstention

    monkeypatch.setattr(squad_qa, "ask", abstain)
    assert corpus_examples(squad_qa) == ()
    # A folder without examples of its own: no more title questions are asked than
    # there are titles.
    assert len(asked) == 3 and all(q.startswith("What does") for q in asked)
    app = build_app(squad_qa)
    assert not component(app, "qa-examples").visible
    assert component(app, "qa-question").placeholder == "Ask a question"


def test_pdf_and_word_uploads_are_read_like_the_corpus(private_qa: QA, tmp_path: Path) -> None:
    from documents import write_docx, write_pdf

    folder = tmp_path / "upload"
    folder.mkdir()
    pdf = write_pdf(
        folder / "Quarry report.pdf",
        [
            ["Quarry report", "The quarry at Brannock Hill opened in 1872."],
            ["Output", "In 2022 the Brannock Hill quarry shipped 41,000 tonnes of granite."],
        ],
        title="Brannock Hill quarry report",
    )
    docx = write_docx(
        folder / "ferry.docx",
        title="Ferry timetable note",
        heading="Ferry",
        paragraphs=["The Brannock ferry crosses the sound eleven times a day in summer."],
    )
    scan = write_pdf(folder / "scan.pdf", [[]])
    status, documents, *_ = ChatApp(private_qa).add_files([str(pdf), str(docx), str(scan)])
    shown = visible(status)
    assert "Added Quarry-report.pdf, ferry.docx." in shown
    assert "scan.pdf cannot be read: no text layer" in shown
    assert "Brannock Hill quarry report" in visible(documents)
    answer = private_qa.ask("How many tonnes of granite did the Brannock Hill quarry ship?")
    assert not answer.abstained and "41,000 tonnes" in answer.text
    assert answer.citations[0].label == "Brannock Hill quarry report, p. 2"
    ferry = private_qa.ask("How often does the Brannock ferry cross the sound in summer?")
    assert not ferry.abstained and "eleven times a day" in ferry.text


def test_a_question_with_extra_spaces_is_not_shown_as_rewritten(qa: QA) -> None:
    answer = qa.ask("How many  digital workshops has   Liangjiang built?")
    assert answer.searched == "How many digital workshops has Liangjiang built?"
    assert not answer.rewritten
    assert "Searched for" not in reply_html(answer) + sources_html(answer)
    assert answer.to_dict()["searched_question"] == answer.searched
