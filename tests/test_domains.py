"""The two domains built from documents nobody on the project wrote (data/manuals: GNU
manuals and man pages as HTML, PDF and text; data/typed: questions as people type them):
their files are well formed, split by document, and every answer is in the text exactly
as qa reads it, so a reader that cuts a sentence or loses a word fails here first."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest

from qa.documents.chunking import split_sentences
from qa.documents.corpus import load_documents

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "train"))

import check_manuals  # noqa: E402
import check_typed  # noqa: E402

MANUALS = ROOT / "data" / "manuals"


def _questions(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


@pytest.fixture(scope="module")
def manuals() -> dict:
    documents, warnings = load_documents(MANUALS / "manuals")
    assert warnings == []
    return {d.id: d for d in documents}


def test_the_manuals_gold_checks_pass():
    # Keys, kinds, answers found in their document as qa reads it, no document in two
    # splits, and the overlap check against every domain's train and dev questions.
    assert check_manuals.main([]) == 0


def test_the_typed_gold_checks_pass():
    assert check_typed.main() == 0


@pytest.mark.parametrize("split", ["train", "dev", "test"])
def test_each_domain_has_enough_questions_a_third_unanswerable(split: str):
    for folder in (MANUALS, ROOT / "data" / "typed"):
        items = _questions(folder / f"{split}.jsonl")
        unanswerable = [q for q in items if not q["answers"]]
        assert len(unanswerable) >= len(items) / 3 - 1
        assert {q["kind"] for q in unanswerable} == {"near_miss", "off_corpus"}
    total = sum(len(_questions(MANUALS / f"{s}.jsonl")) for s in ("train", "dev", "test"))
    assert total >= 150


def test_every_manual_has_its_own_title(manuals: dict):
    for document in manuals.values():
        title = document.title
        # Not a running header, a man page's header line, a section heading or an anchor.
        assert not re.match(r"(Chapter|Appendix) \d", title), document.id
        assert not re.search(r"\(\d\).*\(\d\)", title), document.id
        assert "¶" not in title and not re.match(r"\d+(\.\d+)* ", title), document.id


def test_no_manual_indexes_its_contents_or_index_pages(manuals: dict):
    # Dot leaders ending in a page number: "Header file libtasn1.h . . . . . 4".
    leaders = re.compile(r"(\. ?){4,}\s*\d+\s*$")
    for document in manuals.values():
        for line in document.text.split("\n"):
            assert not leaders.search(line), (document.id, line)


def test_manual_sentences_are_whole(manuals: dict):
    # A sentence never ends inside a parenthesis or mid-word, as markup used to cut them
    # ("... (pointing to", "... the first call of").
    cut = re.compile(r"\((?![^)]*\))[^)]{0,40}$")
    for document in manuals.values():
        text = document.text
        sentences = [text[s:e] for s, e in split_sentences(text)]
        ragged = [s for s in sentences if s.endswith((" of", " the", " to", " a")) and len(s) > 40]
        # A handful of code lines, or prose a manual itself sets preformatted, may end so;
        # sentences of running text do not.
        assert len(ragged) <= max(3, len(sentences) // 100), (document.id, ragged[:3])
        assert sum(1 for s in sentences if cut.search(s) and len(s) > 60) <= max(
            2, len(sentences) // 100
        ), document.id


def test_manual_passages_carry_sections(manuals: dict):
    sed = manuals["gnu/sed"]
    assert sed.sections
    offset = sed.text.index("-n")
    assert sed.section_path(offset)
