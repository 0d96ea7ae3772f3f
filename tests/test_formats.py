"""Documents as people have them: PDF, HTML, Word, Markdown and plain text, read into
one index and answered from, with the faults of a real folder (a scan, a truncated PDF,
a broken link, a folder nested 1,500 deep, a file over the size limit)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from conftest import as_nobody
from documents import write_docx, write_html, write_minutes_docx, write_pdf

from qa import QA, Settings
from qa.cli import main
from qa.documents.chunking import chunk_document
from qa.documents.corpus import load_documents
from qa.errors import CorpusError

REPORT_PAGES = [
    [
        "Annual Report of the Lighthouse Trust",
        "This report covers the year 2023 for the trust and the twelve lighthouses",
        "that it keeps along the northern coast of the county.",
    ],
    [
        "Finances",
        "The trust spent 1.2 million pounds on repairs in 2023, most of it on the",
        "lamp room and the gallery of the lighthouse at Cape Wrath.",
        "Income from visitors rose to 310,000 pounds, a record for the trust.",
    ],
    [
        "Outlook",
        "Next year the trust plans to automate the lights at Noss Head and Duncansby.",
    ],
]


def make_folder(root: Path) -> Path:
    folder = root / "mixed"
    (folder / "reports").mkdir(parents=True)
    write_pdf(folder / "reports" / "trust-report.pdf", REPORT_PAGES, title="Lighthouse Trust 2023")
    write_pdf(folder / "reports" / "scan.pdf", [[], []])
    whole = (folder / "reports" / "trust-report.pdf").read_bytes()
    (folder / "reports" / "cut-off.pdf").write_bytes(whole[: len(whole) // 2])
    write_html(folder / "harbour-times.html")
    write_docx(
        folder / "puffin-memo.docx",
        title="Puffin survey memo",
        heading="Survey results",
        paragraphs=[
            "The spring survey counted 312 nesting puffins on Skerry Island.",
            "Counts were made from boats in the first week of June.",
        ],
    )
    (folder / "cafe.md").write_text(
        "---\ntitle: Cafe opening hours\ndate: 2024-03-03\nauthor: Visitor Services\n---\n"
        "# Cafe\n\nThe museum cafe serves fresh scones **nine times a day**, see "
        "[the menu](https://example.org/menu).\n\n- Children under five eat *free*.\n",
        encoding="utf-8",
    )
    (folder / "harbour-notes.txt").write_text(
        "The Harbour Museum opened in 1911 and holds a collection of old charts.\n"
        "Entry is free on Sundays.\n",
        encoding="utf-8",
    )
    (folder / "reminder.txt").write_text("Buy milk\n", encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_folder(tmp_path_factory.mktemp("formats"))


@pytest.fixture(scope="module")
def loaded(folder: Path):
    return load_documents(folder)


@pytest.fixture(scope="module")
def mixed_qa(folder: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[QA, list[str]]:
    logged: list[str] = []
    settings = Settings(corpus_dir=folder, index_dir=tmp_path_factory.mktemp("ix") / "index")
    return QA.open(settings, log=logged.append, progress=False), logged


def by_id(loaded) -> dict:
    return {d.id: d for d in loaded[0]}


def test_a_scan_and_a_truncated_pdf_are_skipped_with_a_warning_and_the_rest_indexed(loaded):
    documents, warnings = loaded
    assert sorted(d.id for d in documents) == [
        "cafe",
        "harbour-notes",
        "harbour-times",
        "puffin-memo",
        "reminder",
        "reports/trust-report",
    ]
    scan = [w for w in warnings if "scan.pdf" in w]
    cut = [w for w in warnings if "cut-off.pdf" in w]
    assert len(scan) == 1 and "no text layer" in scan[0]
    assert len(cut) == 1 and "damaged or truncated" in cut[0]
    assert all("\n" not in w for w in warnings)


def test_pdf_pages_are_known_and_passages_never_span_two(loaded):
    report = by_id(loaded)["reports/trust-report"]
    assert report.title == "Lighthouse Trust 2023"
    assert len(report.pages) == 3
    # pypdf's lines are joined into sentences: a line break inside a sentence is not one.
    assert "on the lamp room and the gallery" in report.text
    assert report.page_at(report.text.index("1.2 million")) == 2
    assert report.page_at(report.text.index("Noss Head")) == 3
    for chunk in chunk_document(report, chunk_words=60):
        assert report.page_at(chunk.start) == report.page_at(chunk.end - 1)


def test_a_first_line_that_repeats_the_title_is_not_text(tmp_path):
    """A PDF whose first line is its title: the title is the document's, not a sentence
    of its text (where it matched every question about the document, and was quoted)."""
    pages = [
        [
            "Harbor Tools Annual Report 2025",
            "Revenue grew to 48 million euros in 2025, up from 41.",
        ],
        ["Page 2."],
    ]
    write_pdf(tmp_path / "report.pdf", pages, title="Harbor Tools annual report 2025")
    (tmp_path / "memo.md").write_text("---\ntitle: Memo\n---\nMemo\n\nThe memo says little.\n")
    documents = by_id(load_documents(tmp_path))
    report = documents["report"]
    assert report.title == "Harbor Tools annual report 2025"  # compared regardless of case
    assert report.text.startswith("Revenue grew to 48 million euros in 2025")
    assert report.page_at(report.text.index("Page 2.")) == 2
    assert documents["memo"].text == "The memo says little."
    # A first line that differs from the title stays: it is text.
    assert by_id(load_documents(make_folder(tmp_path / "m")))[
        "reports/trust-report"
    ].text.startswith("Annual Report of the Lighthouse Trust")


def test_a_pdf_answer_on_page_2_is_cited_with_p_2(mixed_qa, capsys):
    qa, _ = mixed_qa
    answer = qa.ask("How much did the Lighthouse Trust spend on repairs in 2023?")
    assert not answer.abstained
    assert "1.2 million pounds" in answer.text
    first = answer.citations[0]
    assert first.document.id == "reports/trust-report"
    assert first.page == 2
    assert first.label == "Lighthouse Trust 2023, p. 2"
    data = answer.to_dict()
    assert data["passages"][0]["page"] == 2
    others = [p for p in data["passages"] if p["doc_id"] != "reports/trust-report"]
    assert others and all(p["page"] is None for p in others)


def test_the_cli_prints_the_page_in_the_citation(mixed_qa, capsys):
    qa, _ = mixed_qa
    settings = qa.settings
    argv = ["--corpus", str(settings.corpus_dir), "--index-dir", str(settings.index_dir)]
    code = main(["ask", "How much did the Lighthouse Trust spend on repairs in 2023?", *argv])
    out = capsys.readouterr().out
    assert code == 0
    assert "[1] Lighthouse Trust 2023, p. 2" in out
    code = main(["ask", "--json", "When does the trust plan to automate Noss Head?", *argv])
    data = json.loads(capsys.readouterr().out)
    assert data["passages"][0]["page"] == 3


def test_html_keeps_the_article_and_its_markup_metadata_not_the_page_furniture(loaded):
    page = by_id(loaded)["harbour-times"]
    assert page.title == "Harbour Museum opens its new wing"
    assert page.date == "2023-05-04"  # from <time datetime>
    assert page.author == "Jo Smith"
    assert page.source == "Harbour Times"
    assert "4,000 ship models" in page.text
    for furniture in ("Weather forecast", "cookies", "Copyright", "analytics", "Sport"):
        assert furniture not in page.text


def test_word_paragraphs_and_title_from_core_properties(loaded, mixed_qa):
    memo = by_id(loaded)["puffin-memo"]
    assert memo.title == "Puffin survey memo"
    assert memo.author == "Field Office"
    assert memo.date == "2024-06-10"  # core properties' created date
    assert "312 nesting puffins" in memo.text
    answer = mixed_qa[0].ask("How many nesting puffins did the spring survey count?")
    assert not answer.abstained and "312" in answer.text
    assert answer.citations[0].document.id == "puffin-memo"


def test_markdown_front_matter_is_metadata_and_markup_is_not_quoted(loaded, mixed_qa):
    cafe = by_id(loaded)["cafe"]
    assert (cafe.title, cafe.date, cafe.author) == (
        "Cafe opening hours",
        "2024-03-03",
        "Visitor Services",
    )
    assert "---" not in cafe.text and "title:" not in cafe.text
    for markup in ("**", "](", "https://", "# ", "- Children"):
        assert markup not in cafe.text
    answer = mixed_qa[0].ask("How often does the museum cafe serve fresh scones?")
    assert not answer.abstained
    assert "serves fresh scones nine times a day" in answer.text


def test_a_text_whose_first_line_is_a_sentence_is_answerable_from_it(loaded, mixed_qa):
    notes = by_id(loaded)["harbour-notes"]
    assert notes.text.startswith("The Harbour Museum opened in 1911")
    assert notes.title == "Harbour notes"
    answer = mixed_qa[0].ask("When did the Harbour Museum open?")
    assert not answer.abstained
    assert "1911" in answer.text


def test_a_one_line_note_is_indexed_not_skipped(loaded):
    reminder = by_id(loaded)["reminder"]
    assert reminder.text == "Buy milk"


def test_offsets_slice_back_exactly_in_every_format(loaded):
    for document in loaded[0]:
        for chunk in chunk_document(document, chunk_words=20):
            assert document.text[chunk.start : chunk.end] == chunk.text
            for s, e in chunk.sentences:
                assert chunk.text[s:e].strip() == chunk.text[s:e]


def test_warnings_reach_the_log_when_indexing(mixed_qa):
    _, logged = mixed_qa
    assert any("scan.pdf" in line for line in logged)
    assert any("cut-off.pdf" in line for line in logged)


# Faults of a real folder -------------------------------------------------------------


def test_a_folder_nested_1500_deep_is_walked_without_recursion(tmp_path: Path):
    root = tmp_path / "deep"
    root.mkdir()
    (root / "top.txt").write_text("The top file says the pier is 300 metres long.\n")
    # Built one level at a time from inside, as the path grows past what rglob recursed.
    fd = os.open(root, os.O_RDONLY)
    try:
        for _ in range(1500):
            os.mkdir("d", dir_fd=fd)
            inner = os.open("d", os.O_RDONLY, dir_fd=fd)
            os.close(fd)
            fd = inner
        with open(os.open("bottom.txt", os.O_WRONLY | os.O_CREAT, dir_fd=fd), "w") as f:
            f.write("The bottom file is never read.\n")
    finally:
        os.close(fd)
    try:
        documents, warnings = load_documents(root)
    finally:
        # pytest's own clean-up of tmp_path recurses, and Python's shutil.rmtree did
        # too before 3.12; GNU rm walks any depth.
        subprocess.run(["rm", "-rf", str(root)], check=True)
    assert [d.id for d in documents] == ["top"]
    assert any("nested more than" in w for w in warnings)


def test_a_broken_link_and_a_link_loop_are_skipped(tmp_path: Path):
    root = tmp_path / "links"
    root.mkdir()
    (root / "real.txt").write_text("The real file says the bridge opened in 1890.\n")
    (root / "gone.txt").symlink_to(root / "nowhere.txt")
    (root / "loop").symlink_to(root, target_is_directory=True)
    documents, warnings = load_documents(root)
    assert [d.id for d in documents] == ["real"]
    assert any("gone.txt" in w and "cannot read" in w for w in warnings)


def test_a_file_over_the_size_limit_is_skipped_naming_the_limit_and_setting(tmp_path: Path):
    root = tmp_path / "big"
    root.mkdir()
    (root / "small.txt").write_text("The small file says the ferry leaves at noon.\n")
    line = "The big file repeats this sentence about the harbour wall many times.\n"
    (root / "big.txt").write_text(line * (2_000_000 // len(line)))
    documents, warnings = load_documents(root, max_file_bytes=1_000_000)
    assert [d.id for d in documents] == ["small"]
    [warning] = warnings
    assert "big.txt" in warning and "1.0 MB limit" in warning and "QA_MAX_FILE_MB" in warning


def test_the_size_limit_setting_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("QA_MAX_FILE_MB", "2.5")
    assert Settings.from_env().max_file_bytes() == 2_500_000
    monkeypatch.setenv("QA_MAX_FILE_MB", "lots")
    with pytest.raises(Exception, match="QA_MAX_FILE_MB must be a number"):
        Settings.from_env()


def _load_unprivileged(root: Path) -> tuple[list[str], list[str]]:
    """load_documents(root) as user nobody (conftest.as_nobody), as ids and warnings."""

    def load() -> tuple[list[str], list[str]]:
        documents, warnings = load_documents(root)
        return [d.id for d in documents], warnings

    outcome = as_nobody(load)
    assert "result" in outcome, outcome
    ids, warnings = outcome["result"]
    return ids, warnings


def test_a_file_without_read_permission_is_skipped_with_a_warning():
    # Not under tmp_path: pytest makes that private to root, and the reader is not root.
    root = Path(tempfile.mkdtemp(prefix="qa-perm-"))
    try:
        root.chmod(0o755)
        (root / "open.txt").write_text("The open file says the lock gates date from 1820.\n")
        (root / "closed.txt").write_text("The closed file is private.\n")
        (root / "closed.txt").chmod(0o000)
        ids, warnings = _load_unprivileged(root)
        assert ids == ["open"]
        [warning] = warnings
        assert "closed.txt" in warning and "cannot read it (Permission denied)" in warning
    finally:
        shutil.rmtree(root)


def test_an_up_to_date_index_parses_no_file_again(tmp_path: Path):
    folder = make_folder(tmp_path)
    settings = Settings(corpus_dir=folder, index_dir=tmp_path / "index")
    first: list[str] = []
    QA.open(settings, log=first.append, progress=False)
    assert any("scan.pdf" in line for line in first)
    again: list[str] = []
    qa = QA.open(settings, log=again.append, progress=False)
    # Nothing changed: the skipped files are not read (nor warned about) again.
    assert again == []
    assert "1911" in qa.ask("When did the Harbour Museum open?").text
    (folder / "harbour-notes.txt").write_text(
        "The Harbour Museum opened in 1923 and holds a collection of old charts.\n",
        encoding="utf-8",
    )
    changed: list[str] = []
    qa = QA.open(settings, log=changed.append, progress=False)
    assert any("1 changed" in line for line in changed)
    # The changed file's new text is what the index now holds and cites.
    cited = qa.ask("When did the Harbour Museum open?").citations
    assert any("1923" in c.hit.chunk.text for c in cited)
    assert not any("1911" in c.hit.chunk.text for c in cited)


def test_word_is_read_in_document_order_with_table_rows_under_their_heading(tmp_path: Path):
    (document,), _ = load_documents(_one(tmp_path, write_minutes_docx(tmp_path / "m.docx")))
    text = document.text
    order = [
        "The meeting opened at 7 pm",
        "Officers",
        "Role | Name",
        "Treasurer | Maria Okafor",
        "Secretary post vacant",
        "The next meeting will be held on 18 March.",
    ]
    positions = [text.index(part) for part in order]
    assert positions == sorted(positions)
    # A merged cell once, not once per grid column it spans.
    assert text.count("Secretary post vacant") == 1
    # The running header and footer are parts of their own: never text.
    assert "Confidential" not in text and "Page 1 of 1" not in text


def test_pdf_running_headers_and_page_footers_are_not_text(tmp_path: Path):
    body = [
        "The cooperative sold 3,100 refurbished bicycles in 2024.",
        "It employs 42 staff across three shops.",
        "A fourth shop will open in the harbour district in 2025.",
    ]
    pages = [
        ["Northwind Bicycle Cooperative - Annual Report 2024", line, f"Page {n} of 3"]
        for n, line in enumerate(body, start=1)
    ]
    (document,), _ = load_documents(_one(tmp_path, write_pdf(tmp_path / "r.pdf", pages)))
    assert "Page" not in document.text and "Annual Report 2024" not in document.text
    assert all(line in document.text for line in body)
    # The running header is the title, once, when the file's properties name none.
    assert document.title == "Northwind Bicycle Cooperative - Annual Report 2024"


def _one(root: Path, path: Path) -> Path:
    folder = root / "one"
    folder.mkdir(exist_ok=True)
    path.rename(folder / path.name)
    return folder


def test_when_no_file_is_readable_each_reason_is_named(tmp_path: Path):
    folder = tmp_path / "binsupp"
    folder.mkdir()
    noise = bytes(range(256)) * 12
    for suffix in (".pdf", ".txt", ".docx", ".html"):
        (folder / f"random{suffix}").write_bytes(noise)
    run = subprocess.run(
        [sys.executable, "-m", "qa.cli", "ask", "Anything?", "--corpus", str(folder),
         "--index-dir", str(tmp_path / "index")],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert run.returncode == 1 and "Traceback" not in run.stderr
    lines = run.stderr.strip().splitlines()
    assert lines[0].startswith("Error: No readable documents") and lines[0].endswith("4 skipped:")
    named = {line.split(":")[0].strip() for line in lines[1:]}
    assert named == {f"Skipped {folder / f'random{s}'}" for s in (".docx", ".html", ".pdf", ".txt")}


def test_many_unreadable_files_name_twenty_then_a_count(tmp_path: Path):
    folder = tmp_path / "many"
    folder.mkdir()
    for n in range(25):
        (folder / f"bad-{n:02d}.txt").write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(CorpusError) as error:
        load_documents(folder)
    lines = str(error.value).splitlines()
    assert len(lines) == 1 + 20 + 1 and lines[-1].strip() == "... and 5 more."


def test_a_file_given_as_the_corpus_is_a_corpus_of_one(tmp_path: Path):
    notes = tmp_path / "mydocs" / "notes.txt"
    notes.parent.mkdir()
    notes.write_text("Bike notes\n\nThe workshop opens on Saturdays from 10 am.\n", "utf-8")
    (notes.parent / "other.txt").write_text("Other notes\n\nNot part of it.\n", "utf-8")
    documents, warnings = load_documents(notes)
    assert [d.id for d in documents] == ["notes"] and warnings == []
    settings = Settings(corpus_dir=notes, index_dir=tmp_path / "index")
    answer = QA.open(settings, progress=False, log=lambda m: None).ask("When does it open?")
    assert {c.document.id for c in answer.citations} == {"notes"}
    other = notes.with_suffix(".xyz")
    other.write_text("x", encoding="utf-8")
    with pytest.raises(CorpusError, match="is not a document qa reads"):
        load_documents(other)
