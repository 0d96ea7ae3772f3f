"""Document -> sentences -> Chunk: passages of whole sentences, with exact offsets.

Every span is a pair of character offsets into `Document.text`, so
`document.text[chunk.start:chunk.end] == chunk.text` and a quoted sentence can always be
found again, highlighted, in the whole article.
"""

from __future__ import annotations

import re

from ..language import ABBREVIATIONS
from ..passage import Chunk
from .corpus import Document

# A candidate end: terminal punctuation plus any closing quotes or brackets.
_END = re.compile(r"[.!?。！？]+[\"'”’)\]）】]*")
_CJK_STOP = "。！？"


def context(chunk: Chunk, document: Document) -> str:
    """What precedes `chunk` in `document`: its title, the section it stands in ("4
    Encoding › 4.3 Encoding functions") and the sentence before the passage. A sentence
    that says "This version doesn't handle ..." names its library only through these.

    The text between a sentence's start and the next one's is that sentence and the white
    space after it, which `strip` removes.
    """
    previous = document.text[chunk.start - chunk.previous : chunk.start].strip()
    section = SECTION_SEPARATOR.join(document.section_path(chunk.start))
    return " ".join(part for part in (document.title, section, previous) if part)


# Between the headings of a section path, as context and in citations.
SECTION_SEPARATOR = " › "


def split_sentences(text: str, offset: int = 0) -> list[tuple[int, int]]:
    """Sentence spans of `text` as (start, end) offsets, stripped of surrounding space.

    A line break always ends a sentence (headings and captions are lines of their own).
    A period does not end one after an abbreviation ("No. 18", "Co., Ltd."), inside a
    number ("208.981"), before a lower-case word, or before a parenthesis that credits it
    ("Park. (Photo/Zhang Kunkun)").
    """
    spans: list[tuple[int, int]] = []
    for line in re.finditer(r"[^\n]+", text):
        start = line.start()
        for end in _line_breaks(line.group(0)):
            _add_span(text, start, line.start() + end, spans, offset)
            start = line.start() + end
        _add_span(text, start, line.end(), spans, offset)
    return spans


def _line_breaks(line: str) -> list[int]:
    breaks = []
    for match in _END.finditer(line):
        end = match.end()
        rest = line[end:]
        if match.group(0)[0] in _CJK_STOP:
            breaks.append(end)
            continue
        if not rest:
            continue
        if match.group(0).endswith('"') and rest[0].isupper():
            # 'companies."In the future': a straight quote glued to the next sentence opens it.
            breaks.append(end - 1)
            continue
        if not rest[0].isspace():
            continue
        following = rest.lstrip()
        if not following or following[0] in "(（" or following[0].islower():
            continue
        before = line[: match.start()].split()
        word = before[-1].lower().strip("(\"“'") if before else ""
        if match.group(0) == "." and (word in ABBREVIATIONS or (len(word) == 1 and word.isalpha())):
            continue
        breaks.append(end)
    return breaks


def _add_span(text: str, start: int, end: int, spans: list[tuple[int, int]], offset: int) -> None:
    piece = text[start:end]
    stripped = piece.strip()
    if stripped:
        lead = len(piece) - len(piece.lstrip())
        spans.append((offset + start + lead, offset + start + lead + len(stripped)))


def chunk_document(document: Document, chunk_words: int, overlap: int = 0) -> list[Chunk]:
    """Pack a document's sentences into passages of at most `chunk_words` words.

    A sentence is never cut: one longer than `chunk_words` is a passage of its own. A
    passage never spans two pages of a paged document (PDF), nor two sections: each
    passage stands under one heading, which its context and citation name.
    `overlap` sentences of each passage start the next one as well.

    Args:
        document: the document to split.
        chunk_words: the most words a passage holds (unless a single sentence is longer).
        overlap: sentences repeated from the end of one passage at the start of the next.

    Returns:
        The passages in document order; ids are "<doc_id>#<n>".
    """
    if chunk_words < 1 or overlap < 0:
        raise ValueError("chunk_words must be >= 1 and overlap >= 0")
    text = document.text
    sentences = split_sentences(text)
    groups: list[list[int]] = []
    current: list[int] = []
    words = 0
    page = document.page_at(0)
    section = document.section_index(0)
    for i, (s, e) in enumerate(sentences):
        n = len(text[s:e].split())
        # A passage never spans two pages or two sections, so its citation names one each.
        new_page = document.page_at(s) != page or document.section_index(s) != section
        page, section = document.page_at(s), document.section_index(s)
        if current and new_page:
            groups.append(current)
            current, words = [], 0
        if current and words + n > chunk_words:
            groups.append(current)
            current = (
                current[len(current) - overlap :] if overlap and len(current) > overlap else []
            )
            words = sum(len(text[slice(*sentences[j])].split()) for j in current)
        current.append(i)
        words += n
    if current:
        groups.append(current)

    chunks = []
    for n, group in enumerate(groups):
        start, end = sentences[group[0]][0], sentences[group[-1]][1]
        chunks.append(
            Chunk(
                id=f"{document.id}#{n}",
                doc_id=document.id,
                text=text[start:end],
                start=start,
                end=end,
                offsets=tuple(x - start for j in group for x in sentences[j]),
                previous=start - sentences[group[0] - 1][0] if group[0] > 0 else 0,
            )
        )
    return chunks
