"""The PDF reader on files laid out as generators lay them out, written by the test with
each line at its place on the page and in the content-stream order a generator uses:
furniture drawn before the body, a texinfo-like manual (title page, running headers with
page numbers, a table of contents, an index), ligature glyphs, page-number footers, lists
and options, two columns."""

from __future__ import annotations

from pathlib import Path

import pytest
from documents import Placed, write_placed_pdf, write_stream_pdf

from qa.documents.corpus import load_documents
from qa.documents.readers.base import Heading
from qa.documents.readers.pdf import read_pdf

LEADING = 13.0  # the body's line spacing in these files, for 10.5-point text


def body(lines: list[str], top: float, x: float = 72, size: float = 10.5) -> list[Placed]:
    """Lines set one under the other from `top` down."""
    return [Placed(text, x, top - i * LEADING, size) for i, text in enumerate(lines)]


def texts(pages: list[list[str]]) -> list[str]:
    return [paragraph for page in pages for paragraph in page]


@pytest.mark.parametrize("forms", [False, True], ids=["text", "form-xobjects"])
def test_a_header_and_footer_drawn_before_the_body_are_not_text(tmp_path: Path, forms: bool):
    """A report tool draws each page's footer and header first: pypdf's text order puts
    "Page 2 of 3" second on the page. By position they are furniture, and the body's first
    sentence, which spans two printed lines, is one paragraph. The same when each line is
    a form XObject placed on the page (pypdf reports its text in the form's own space)."""
    header = "Harbour Authority - Annual Review 2024"
    bodies = [
        [
            "The harbour authority handled 4,200 ship calls in 2024, more than in any year",
            "since the new quay opened.",
        ],
        [
            "Cargo volumes rose by twelve percent, most of it in containers carried from",
            "Rotterdam and Antwerp.",
        ],
        ["The authority plans to dredge the eastern channel in the spring of 2025."],
    ]
    pages = [
        [Placed(f"Page {n} of 3", 280, 36, 9), Placed(header, 72, 760, 9), *body(lines, 720)]
        for n, lines in enumerate(bodies, start=1)
    ]
    extracted = read_pdf(write_placed_pdf(tmp_path / "review.pdf", pages, forms=forms))
    assert extracted.pages == [[" ".join(lines)] for lines in bodies]
    # The header is the same on every page and names no chapter: the document's title.
    assert extracted.title == header


TITLE = "GNU Widget Manual"
CHAPTER_2 = "Chapter 2: Structure handling"


def manual_pages() -> list[list[Placed]]:
    """A manual as texinfo typesets it: a title page, a table of contents (page "i"),
    chapters that start on a new page under a bare page number, running headers
    "Chapter 2: Structure handling 3" (with the page number) elsewhere, and an index."""
    leaders = " . . . . . . . . . . . . . . . . . . . . "

    def head(text: str) -> Placed:
        return Placed(text, 72, 734, 10.5)

    def number(n: str) -> Placed:
        return Placed(n, 520, 734, 10.5)

    return [
        [
            Placed(TITLE, 72, 560, 24, "Helvetica-Bold"),
            Placed("for version 1.2, 3 March 2024", 330, 530, 10.5),
            Placed("Ada Lovelace", 72, 140, 14, "Helvetica-Bold"),
        ],
        [
            number("i"),
            Placed("Table of Contents", 72, 684, 17, "Helvetica-Bold"),
            *body(
                [
                    f"1 Introduction{leaders}1",
                    f"2 Structure handling{leaders}2",
                    f"2.1 Syntax{leaders}",
                    f"2.2 Naming{leaders}",
                    f"3 Utilities{leaders}5",
                    f"Index{leaders}7",
                ],
                650,
            ),
            # Page numbers set apart from their entries, drawn after them (as pdfTeX does).
            Placed("2", 520, 650 - 2 * LEADING, 10.5),
            Placed("3", 520, 650 - 3 * LEADING, 10.5),
        ],
        [
            number("1"),
            Placed("1 Introduction", 72, 684, 17, "Helvetica-Bold"),
            *body(
                [
                    "This manual describes the widget library, which reads and writes",
                    "widget definitions.",
                ],
                650,
            ),
        ],
        [
            number("2"),
            Placed("2 Structure handling", 72, 684, 17, "Helvetica-Bold"),
            Placed("2.1 Syntax", 72, 650, 14, "Helvetica-Bold"),
            *body(["The parser is case sensitive, and comments begin with two dashes."], 625),
        ],
        [
            head(f"{CHAPTER_2} 3"),
            Placed("2.2 Naming", 72, 684, 14, "Helvetica-Bold"),
            *body(["Every widget has a name made of its parents' names and its own."], 660),
        ],
        [
            head(f"{CHAPTER_2} 4"),
            Placed("2.2.1 Long names", 72, 684, 12.5, "Helvetica-Bold"),
            *body(["A name may hold up to 128 characters."], 660),
        ],
        [
            number("5"),
            Placed("3 Utilities", 72, 684, 17, "Helvetica-Bold"),
            *body(["The widget tool converts definitions into C source files."], 650),
        ],
        [
            # A chapter's one running header: it repeats on no other page.
            head("Chapter 3: Utilities 6"),
            *body(["The tool exits with status 1 when a definition cannot be read."], 684),
        ],
        [
            number("7"),
            Placed("Index", 72, 684, 17, "Helvetica-Bold"),
            Placed("A", 72, 650, 12, "Helvetica-Bold"),
            *body(
                [
                    "asn1_create_element: 3",
                    "asn1_delete_structure: 4, 6",
                    f"configuration, options of{leaders}5",
                    "long names, 6",
                ],
                630,
                size=9,
            ),
            Placed("N", 72, 560, 12, "Helvetica-Bold"),
            *body([f"naming{leaders}4", "names of widgets, 4-5"], 540, size=9),
        ],
    ]


@pytest.fixture
def manual(tmp_path: Path) -> Path:
    # Its outline's first entry is chapter 1, as texinfo writes it: no title either.
    outline = [("1 Introduction", 2), ("2 Structure handling", 3), ("3 Utilities", 6)]
    return write_placed_pdf(tmp_path / "widget.pdf", manual_pages(), outline=outline)


def test_a_manuals_title_is_its_own_not_a_running_header_or_chapter(manual: Path):
    extracted = read_pdf(manual)
    assert extracted.title == TITLE
    (document,), _ = load_documents(manual.parent)
    assert document.title == TITLE


def test_a_manuals_navigation_and_running_headers_are_not_text(manual: Path):
    extracted = read_pdf(manual)
    assert len(extracted.pages) == 9
    # The table of contents and the index are navigation: their pages are left empty.
    assert extracted.pages[1] == [] and extracted.pages[8] == []
    text = "\n".join(texts(extracted.pages))
    for furniture in ("Chapter", ". . .", "Table of Contents", "asn1_create_element", "Index"):
        assert furniture not in text
    assert extracted.pages[7] == ["The tool exits with status 1 when a definition cannot be read."]
    # Pages keep their places: the text on page 8 is cited as page 8.
    (document,), _ = load_documents(manual.parent)
    assert document.page_at(document.text.index("exits with status 1")) == 8
    assert document.page_at(document.text.index("case sensitive")) == 4


def test_a_manuals_numbered_headings_are_headings_with_their_level(manual: Path):
    extracted = read_pdf(manual)
    headings = [(p, p.level) for p in texts(extracted.pages) if isinstance(p, Heading)]
    assert headings == [
        ("1 Introduction", 1),
        ("2 Structure handling", 1),
        ("2.1 Syntax", 2),
        ("2.2 Naming", 2),
        ("2.2.1 Long names", 3),
        ("3 Utilities", 1),
    ]
    # A heading's section starts with a whole sentence.
    assert extracted.pages[2] == [
        "1 Introduction",
        "This manual describes the widget library, which reads and writes widget definitions.",
    ]
    # The title page's lines are no sections: the title is the document's (and the first
    # paragraph, which the corpus drops as a repeat of it), its author plain text.
    assert extracted.pages[0] == [TITLE, "for version 1.2, 3 March 2024", "Ada Lovelace"]
    assert not any(isinstance(p, Heading) for p in extracted.pages[0])


def test_ligature_glyphs_read_as_their_letters(tmp_path: Path):
    sentence = "The \ufb01rst e\ufb03cient \ufb02ow o\ufb00ers \ufb01ve \ufb02oors and a ba\ufb04e."
    expected = "The first efficient flow offers five floors and a baffle."
    # Other compatibility characters stay as printed: "m²" is not "m2".
    area = "Each floor covers 120 m² of space."
    for ligatures in ("named", "underscored", "ot1"):
        # TeX's OT1 fonts print ASCII only.
        lines = [sentence] if ligatures == "ot1" else [sentence, area]
        pages = [body(lines, 700)]
        path = write_placed_pdf(tmp_path / f"{ligatures}.pdf", pages, ligatures=ligatures)
        assert read_pdf(path).pages == [[" ".join([expected, *lines[1:]])]], ligatures


def test_a_page_number_footer_alone_is_not_text(tmp_path: Path):
    sentences = [
        "The lighthouse at Noss Head was built in 1849.",
        "Its lamp was automated in 1987 and still turns every night.",
        "Visitors may climb the tower on Saturdays from May to September.",
    ]
    pages = [
        [Placed(marker, 300, 40, 10), *body([line], 720)]
        for marker, line in zip(["1", "- 2 -", "3"], sentences, strict=True)
    ]
    extracted = read_pdf(write_placed_pdf(tmp_path / "noss.pdf", pages))
    assert extracted.pages == [[line] for line in sentences]


def test_a_sentence_at_the_bottom_edge_is_text(tmp_path: Path):
    """A line in the bottom margin that ends a sentence is text, even when the same line
    stands at the bottom of every page (a closing remark repeated is still said)."""
    closing = "Entry to the museum is free on Sundays."
    pages = [
        [
            *body([f"Room {n} shows the museum's collection of {kind}."], 720),
            Placed(closing, 72, 50, 10.5),
            Placed(f"Page {n} of 2", 280, 30, 9),
        ]
        for n, kind in ((1, "ship models"), (2, "sea charts"))
    ]
    extracted = read_pdf(write_placed_pdf(tmp_path / "museum.pdf", pages))
    assert extracted.pages == [
        ["Room 1 shows the museum's collection of ship models.", closing],
        ["Room 2 shows the museum's collection of sea charts.", closing],
    ]


def test_gaps_lists_and_options_make_the_paragraphs(tmp_path: Path):
    """A gap larger than the line spacing ends a paragraph even after a full line; an
    option and the indented description under it are one item; a bullet starts one."""
    first = [
        "The widget tool reads each definition file named on its command line and writes a",
        "C source file next to it, with the same name and the suffix .c in place of its own.",
    ]
    second = [
        "It stops at the first error and says which line of which file it could not read, and",
        "it exits with status 1.",
    ]
    lines = [
        *body(first, 720),
        *body(second, 720 - 2 * LEADING - 8),
        Placed("Options:", 72, 640, 10.5),
        Placed("-q, --quiet", 90, 640 - LEADING, 10.5),
        Placed("print nothing but errors", 150, 640 - 2 * LEADING, 10.5),
        Placed("-o, --output=FILE", 90, 640 - 3 * LEADING, 10.5),
        Placed("write the C source to FILE", 150, 640 - 4 * LEADING, 10.5),
        Placed("• Each definition is read once, however many files include it,", 90, 560, 10.5),
        Placed("and only the first one is kept.", 100, 560 - LEADING, 10.5),
        Placed("• Names are case sensitive.", 90, 560 - 2 * LEADING, 10.5),
    ]
    extracted = read_pdf(write_placed_pdf(tmp_path / "tool.pdf", [lines]))
    assert extracted.pages == [
        [
            " ".join(first),
            " ".join(second),
            "Options:",
            "-q, --quiet print nothing but errors",
            "-o, --output=FILE write the C source to FILE",
            "• Each definition is read once, however many files include it, and only the first "
            "one is kept.",
            "• Names are case sensitive.",
        ]
    ]


def test_two_columns_are_read_column_by_column(tmp_path: Path):
    """Lines of two columns share their baselines; sorted by height alone they would
    interleave. Each column is drawn in reading order, so each sentence stays whole."""
    left = [
        "The north pier was rebuilt in",
        "1998 with stone from the old",
        "quarry at Castletown.",
    ]
    right = [
        "The south pier is older and",
        "still has its original iron",
        "mooring rings.",
    ]
    page = [
        Placed("Page 1 of 1", 280, 30, 9),
        *body(left, 700, x=72),
        *body(right, 700, x=320),
    ]
    extracted = read_pdf(write_placed_pdf(tmp_path / "piers.pdf", [page]))
    assert extracted.pages == [[" ".join(left), " ".join(right)]]


def test_a_title_property_that_names_a_file_is_no_title(tmp_path: Path):
    page = [
        Placed("Puffin Survey 2024", 72, 700, 20, "Helvetica-Bold"),
        *body(["The spring survey counted 312 nesting puffins on Skerry Island."], 660),
    ]
    path = write_placed_pdf(tmp_path / "survey.pdf", [page], title="survey-final.docx")
    assert read_pdf(path).title == "Puffin Survey 2024"


def test_a_table_of_figures_is_text_not_navigation(tmp_path: Path):
    """Lines that end in a number are a table of contents or an index only when their
    pages or their terms come in order; a table of figures is in neither."""
    rows = ["Visitors 310", "Revenue 48", "Costs 41", "Staff 42", "Ships 12", "Berths 7"]
    page = [Placed("Harbour figures for 2024", 72, 720, 14, "Helvetica-Bold"), *body(rows, 690)]
    extracted = read_pdf(write_placed_pdf(tmp_path / "figures.pdf", [page]))
    assert texts(extracted.pages)[1:] == rows


def test_a_chapters_running_header_is_never_the_title(tmp_path: Path):
    """No title property, no title page: the header that names a chapter on every page
    is no title (the corpus names the document after its file instead)."""
    sentences = [
        "Install the widget tool with your system's package manager.",
        "Run the tool once to create its configuration file.",
        "Edit the configuration file to name your widget folders.",
    ]
    pages = [
        [Placed(f"Chapter 1: Getting started {n}", 72, 760, 9), *body([line], 720)]
        for n, line in enumerate(sentences, start=1)
    ]
    path = write_placed_pdf(tmp_path / "guide.pdf", pages)
    extracted = read_pdf(path)
    assert extracted.title is None
    assert extracted.pages == [[line] for line in sentences]
    (document,), _ = load_documents(tmp_path)
    assert document.title == "Guide"


def test_a_two_page_man_pages_header_and_footer_are_not_text(tmp_path: Path):
    """groff prints a man page's header from its second page on and a different footer
    on each page: on two pages neither repeats. The header names the page at both ends;
    the footer stands where the first page printed its page number, and ends in one."""
    first = ["Create hard links by default, symbolic links with --symbolic."]
    second = ["Written by Mike Parker and David MacKenzie."]
    pages = [
        [*body(first, 825), Placed("1", 535, 74, 10)],
        [
            Placed("LN(1) User Commands LN(1)", 72, 794, 10),
            *body(second, 758),
            Placed("GNU coreutils 9.1 September 2022 2", 72, 74, 10),
        ],
    ]
    extracted = read_pdf(write_placed_pdf(tmp_path / "ln.1.pdf", pages, size=(595, 842)))
    assert extracted.pages == [first, second]
    assert extracted.title == "LN(1)"


# Glyph widths (thousandths of an em) of Times-Roman, for the words set below.
TIMES = {" ": 250, "I": 333, "T": 611, "t": 278, "i": 278, "s": 389, "e": 444, "h": 500}
TIMES |= {"b": 500, "y": 500, "d": 500, "f": 333}


def times_width(text: str, size: float) -> float:
    return sum(TIMES[c] for c in text) * size / 1000


def test_a_word_split_at_a_kerning_pair_is_one_word(tmp_path: Path):
    """groff sets a kerning pair as two strings, the second moved back a little from
    where the first ends ("def" + "ault"), in a line justified by word spacing (Tw),
    which widens the first string's spaces: the gap between them is no space."""
    first = "It is set by def"
    # Where "ault" starts: the end of the first string (its glyphs, and 0.9 pt of word
    # spacing at each of its 4 spaces), less 0.15 pt of kerning.
    move = times_width(first, 10) + 4 * 0.9 - 0.15
    content = (
        f"BT /F0 10 Tf 1 0 0 1 72 700 Tm 0.9 Tw ({first}) Tj {move:.3f} 0 Td "
        "0 Tw (ault, and it runs every 2 seconds.) Tj ET"
    )
    path = write_stream_pdf(tmp_path / "watch.pdf", content, {"F0": "Times-Roman"})
    assert read_pdf(path).pages == [["It is set by default, and it runs every 2 seconds."]]


def test_strings_a_space_apart_are_two_words(tmp_path: Path):
    """texinfo (through groff) sets a command in the code font and leaves the space after
    it as a move in a TJ array, narrower than half the code font's space: 0.26 em is a
    space between words all the same. So is a string placed a space's width (0.25 em)
    after the one before."""
    turns = 72 + times_width("The tide", 11) + 0.25 * 11
    content = (
        "BT /F1 11 Tf 1 0 0 1 72 700 Tm [(bc) -262.636] TJ /F0 11 Tf "
        "[(starts) -262.636 (by) -262.636 (reading) -262.636 (its) -262.636 (files.)] TJ ET "
        f"BT /F0 11 Tf 1 0 0 1 72 686 Tm (The tide) Tj ET "
        f"BT /F0 11 Tf 1 0 0 1 {turns:.3f} 686 Tm (turns.) Tj ET"
    )
    fonts = {"F0": "Times-Roman", "F1": "Courier"}
    path = write_stream_pdf(tmp_path / "bc.pdf", content, fonts)
    assert read_pdf(path).pages == [["bc starts by reading its files. The tide turns."]]


def test_a_man_pages_bold_section_names_are_headings(tmp_path: Path):
    """groff sets a man page's section names in bold at the page's left margin, a little
    larger than the body, which stands indented: each is a heading of level 1. A bold
    option ("-a, --all") and a bold sentence at the margin are text."""
    bold = "Times-Bold"
    page = [
        Placed("NAME", 72, 758, 10.95, bold),
        Placed("watch - execute a program periodically", 108, 746, 10, "Times-Roman"),
        Placed("DESCRIPTION", 72, 729, 10.95, bold),
        Placed("watch runs a command again and again.", 108, 717, 10, "Times-Roman"),
        Placed("OPTIONS", 72, 700, 10.95, bold),
        Placed("-a, --all", 108, 688, 10, bold),
        Placed("Show every change.", 144, 676, 10, "Times-Roman"),
        Placed("Exit Status", 72, 659, 10.95, bold),
        Placed("It exits with 0 on success.", 108, 647, 10, "Times-Roman"),
        Placed("Never run it as root.", 72, 630, 10, bold),
    ]
    extracted = read_pdf(write_placed_pdf(tmp_path / "watch.1.pdf", [page], size=(595, 842)))
    (paragraphs,) = extracted.pages
    assert paragraphs == [
        "NAME",
        "watch - execute a program periodically",
        "DESCRIPTION",
        "watch runs a command again and again.",
        "OPTIONS",
        "-a, --all Show every change.",
        "Exit Status",
        "It exits with 0 on success.",
        "Never run it as root.",
    ]
    headings = [(p, p.level) for p in paragraphs if isinstance(p, Heading)]
    assert headings == [("NAME", 1), ("DESCRIPTION", 1), ("OPTIONS", 1), ("Exit Status", 2)]


def test_a_number_wrapped_to_the_start_of_a_line_is_no_list_item(tmp_path: Path):
    # bc's manual: "... the default SCALE is set to" / "20. The math functions ...": the
    # sentence runs on; a numbered line after a sentence's end is still an item.
    lines = [
        "If calc is invoked with the -l option, a math library is preloaded and its scale "
        "is set to",
        "20. The math functions use the scale set.",
        "The steps are these ones, in order:",
        "1. Open the file and read it.",
        "2. Close the file when done.",
    ]
    page = [Placed(text, 72, 700 - 14 * i) for i, text in enumerate(lines)]
    paragraphs = read_pdf(write_placed_pdf(tmp_path / "calc.pdf", [page])).pages[0]
    assert (
        "If calc is invoked with the -l option, a math library is preloaded and its scale is "
        "set to 20. The math functions use the scale set." in paragraphs
    )
    assert "1. Open the file and read it." in paragraphs
    assert "2. Close the file when done." in paragraphs
