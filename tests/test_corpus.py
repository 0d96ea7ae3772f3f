"""Corpus loading, sentence splitting, chunk offsets and the tokenizer, on the real articles."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import CORPUS, make_bad_corpus

from qa.documents.chunking import chunk_document, context, split_sentences
from qa.documents.corpus import load_documents, parse_document
from qa.documents.page_header import parse_date
from qa.errors import CorpusError
from qa.text import find_acronyms, tokenize, variants


@pytest.fixture(scope="module")
def documents():
    docs, warnings = load_documents(CORPUS)
    assert warnings == []
    return {d.id: d for d in docs}


def test_titles_dates_and_outlets(documents):
    hunan = documents["hunan-counties-top20-industrial-internet"]
    assert hunan.title == "Liuyang city, Changsha county among China’s Top 20 counties"
    assert hunan.date == "2022-07-27"
    hub = documents["liangjiang-digital-industrial-hub"]
    assert (hub.date, hub.source) == ("2023-04-24", "中国网")
    center = documents["changsha-advanced-manufacturing-center"]
    assert (center.date, center.source) == ("2021-12-07", "People's Daily Online")
    assert documents["smart-china-expo-2021-liangjiang"].date is None
    assert documents["changsha-top20-intelligent-manufacturing-cities"].title.startswith(
        "Changsha included"
    )


def test_page_leftovers_dropped_and_captions_kept(documents):
    everything = "\n".join(d.text for d in documents.values())
    assert "Please enter your comment" not in everything
    assert "【Author:】" not in everything
    assert "Liangjiang Digital Economy Industrial Park. (Photo/Zhang Kunkun)" in everything
    assert "(People's Daily Online/Liu Bin)" in everything
    # The body does not repeat the headline or the dateline.
    assert not documents["hunan-counties-top20-industrial-internet"].text.startswith("Liuyang city")
    assert "Updated:" not in everything


@pytest.mark.parametrize(
    ("line", "iso"),
    [
        ("Updated:2022-07-27 14:33:49", "2022-07-27"),
        ("来源:中国网 时间:2023-04-24 15:00:02 编辑:李柯佑", "2023-04-24"),
        ("People's Daily Online) 17:13, December 07, 2021", "2021-12-07"),
        ("Published 7 March 2024", "2024-03-07"),
        ("2023年5月30日", "2023-05-30"),
        ("no date here, only 2021", None),
    ],
)
def test_parse_date(line, iso):
    assert parse_date(line) == iso


def test_title_is_first_line_without_dateline():
    doc = parse_document("x", "\n\nA headline\n\nFirst sentence. Second one.\n")
    assert (doc.title, doc.date, doc.text) == ("A headline", None, "First sentence. Second one.")


def _sentences(text: str) -> list[str]:
    return [text[s:e] for s, e in split_sentences(text)]


def test_sentence_splitting_survives_abbreviations_numbers_and_credits():
    text = (
        "Sany Group No. 18 Factory was selected. It produced 208.981 billion yuan. "
        "Chongqing GYMD Digital Technology Co., Ltd. spokesperson said so. "
        "Liangjiang Park. (Photo/Zhang Kunkun)\n【Author:】 【Editor:谈诗谊】\n"
        'It was adopted by many companies."In the future, we will grow," he said.'
    )
    assert _sentences(text) == [
        "Sany Group No. 18 Factory was selected.",
        "It produced 208.981 billion yuan.",
        "Chongqing GYMD Digital Technology Co., Ltd. spokesperson said so.",
        "Liangjiang Park. (Photo/Zhang Kunkun)",
        "【Author:】 【Editor:谈诗谊】",
        "It was adopted by many companies.",
        '"In the future, we will grow," he said.',
    ]


@pytest.mark.parametrize(("words", "overlap"), [(1, 0), (25, 0), (60, 0), (60, 1), (200, 2)])
def test_chunk_offsets_slice_back_exactly(documents, words, overlap):
    for doc in documents.values():
        chunks = chunk_document(doc, words, overlap)
        assert chunks, doc.id
        for chunk in chunks:
            assert doc.text[chunk.start : chunk.end] == chunk.text
            for s, e in chunk.sentences:
                sentence = chunk.text[s:e]
                assert sentence == sentence.strip() and sentence
        # Without overlap, every sentence lands in exactly one chunk, in order.
        if overlap == 0:
            spans = [(c.start + s, c.start + e) for c in chunks for s, e in c.sentences]
            assert spans == split_sentences(doc.text)


def test_chunks_respect_the_word_budget_but_never_cut_a_sentence(documents):
    doc = documents["liangjiang-digital-industrial-hub"]
    for chunk in chunk_document(doc, 40):
        if len(chunk.sentences) > 1:
            assert len(chunk.text.split()) <= 40
    assert all(len(c.sentences) == 1 for c in chunk_document(doc, 1))


def test_overlap_repeats_the_last_sentence(documents):
    chunks = chunk_document(documents["changsha-advanced-manufacturing-center"], 60, overlap=1)
    for a, b in zip(chunks, chunks[1:], strict=False):
        last = a.text[slice(*a.sentences[-1])]
        assert b.text.startswith(last)


def test_tokenizer_keeps_numbers_whole_and_splits_hyphenated_names():
    terms = tokenize(
        "It has 1,462 firms, 208.981 billion yuan, up 54.6 percent, in Changsha-Zhuzhou-Xiangtan."
    )
    assert {"1462", "208.981", "54.6", "changsha", "zhuzhou", "xiangtan"} <= set(terms)
    assert "changsha-zhuzhou-xiangtan" in terms
    assert tokenize("6,000 workers") == tokenize("6000 workers")


def test_tokenizer_does_not_mangle_words():
    assert tokenize("named rated counties factories") == ["named", "rated", "county", "factory"]
    assert variants("settled", {"settling", "set"}) == {"settled", "settling"}
    assert variants("named", {"nam", "name"}) == {"named", "name"}


def test_chinese_text_is_tokenized_not_dropped():
    assert tokenize("两江新区") == ["两", "江", "新", "区"]


def test_acronyms_found_only_when_initials_match():
    text = "the Ministry of Industry and Information Technology (MIIT) in Hunan (China)"
    assert find_acronyms(text) == {"miit": "Ministry of Industry and Information Technology"}


def test_loader_skips_non_utf8_and_reads_nested_markdown(tmp_path: Path, capsys):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "note.md").write_text(
        "# A note\n\nThe bridge is 300 metres long.\n", encoding="utf-8"
    )
    (tmp_path / "latin1.txt").write_bytes("Caf\xe9 prices rose.".encode("latin-1"))
    (tmp_path / "image.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    docs, warnings = load_documents(tmp_path)
    assert [d.id for d in docs] == ["sub/note"]
    assert docs[0].title == "A note"
    # A .png is read by OCR now: this one, 10 bytes of a header, is a damaged image.
    latin1, image = sorted(warnings, key=lambda w: "image.png" in w)
    assert "latin1.txt" in latin1 and "UTF-8" in latin1
    assert "image.png" in image and "damaged or not an image" in image


@pytest.mark.parametrize("make", ["missing", "empty", "binary_only"])
def test_unreadable_corpus_folders_raise(tmp_path: Path, make):
    folder = make_bad_corpus(tmp_path, make)
    with pytest.raises(CorpusError, match="docs"):
        load_documents(folder)


@pytest.mark.parametrize("overlap", [0, 1])
def test_a_passage_context_is_the_title_and_the_sentence_before_it(documents, overlap):
    doc = documents["changsha-advanced-manufacturing-center"]
    sentences = split_sentences(doc.text)
    starts = [s for s, _ in sentences]
    for chunk in chunk_document(doc, 40, overlap):
        i = starts.index(chunk.start)
        before = doc.text[slice(*sentences[i - 1])] if i else ""
        assert context(chunk, doc) == (f"{doc.title} {before}" if before else doc.title)


def test_a_fingerprint_reads_again_only_files_whose_size_or_time_changed(tmp_path, monkeypatch):
    """The quick check: a file whose size and modification time are the recorded ones,
    and that was last modified well before they were recorded, keeps its hash unread;
    any other file is hashed, so a change is always seen."""
    import os

    from qa.documents import corpus as corpus_module

    for name in ("a.txt", "b.txt", "c.txt"):
        (tmp_path / name).write_text(f"Title {name}\n\nSome text about {name}.\n")
    old = 1_600_000_000_000_000_000  # 2020: long before any fingerprint below
    for name in ("a.txt", "b.txt", "c.txt"):
        os.utime(tmp_path / name, ns=(old, old))
    first = corpus_module.fingerprint(tmp_path, 1000)

    read: list[str] = []
    hash_file = corpus_module.file_sha256
    monkeypatch.setattr(
        corpus_module, "file_sha256", lambda path: read.append(path.name) or hash_file(path)
    )
    again = corpus_module.fingerprint(tmp_path, 1000, known=first)
    assert read == [] and corpus_module.same_files(again, first)

    # Same size, new content: its time changed, so it is read again, and differs.
    (tmp_path / "b.txt").write_text((tmp_path / "b.txt").read_text().replace("Some", "More"))
    # Same size, same content, only touched: read again, and the same.
    os.utime(tmp_path / "c.txt")
    changed = corpus_module.fingerprint(tmp_path, 1000, known=first)
    assert sorted(read) == ["b.txt", "c.txt"]
    assert changed["files"]["b.txt"] != first["files"]["b.txt"]
    assert changed["files"]["c.txt"] == first["files"]["c.txt"]
    assert not corpus_module.same_files(changed, first)

    # A file modified within STAT_TRUST_NS of when the known fingerprint was taken is
    # never trusted: its time may not have moved although its content did.
    recent = corpus_module.fingerprint(tmp_path, 1000)
    read.clear()
    corpus_module.fingerprint(tmp_path, 1000, known=recent)
    assert sorted(read) == ["b.txt", "c.txt"]  # a.txt still dates from 2020
    assert not corpus_module.same_files(recent, {**recent, "max_file_bytes": 2000})


def test_one_name_with_two_suffixes_is_one_document_and_a_warning(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("Notes\n\nThe first notes.", encoding="utf-8")
    (tmp_path / "notes.md").write_text("# Notes\n\nThe second notes.", encoding="utf-8")
    documents, warnings = load_documents(tmp_path)
    assert [d.id for d in documents] == ["notes"]
    assert documents[0].path.endswith("notes.md")  # the first in path order
    assert warnings == [
        f"Skipped {tmp_path / 'notes.txt'}: {tmp_path / 'notes.md'} has the same name "
        "without its suffix. Rename one of them."
    ]


def test_uploads_are_read_after_the_corpus_under_their_own_name(tmp_path: Path) -> None:
    corpus, uploads = tmp_path / "corpus", tmp_path / "index-uploads"
    (corpus / "uploads").mkdir(parents=True)
    uploads.mkdir()
    (corpus / "a.txt").write_text("A\n\nThe corpus's own article.", encoding="utf-8")
    (corpus / "uploads" / "b.txt").write_text("B\n\nA corpus file.", encoding="utf-8")
    (uploads / "a.txt").write_text("A\n\nAn upload named like a corpus file.", encoding="utf-8")
    (uploads / "b.txt").write_text("B\n\nAn upload whose id is taken.", encoding="utf-8")
    documents, warnings = load_documents(corpus, uploads=uploads)
    assert {d.id: d.text for d in documents} == {
        "a": "The corpus's own article.",
        "uploads/a": "An upload named like a corpus file.",
        "uploads/b": "A corpus file.",
    }
    assert warnings == [
        f"Skipped {uploads / 'b.txt'}: the corpus folder has a file uploads/b.txt already."
    ]
