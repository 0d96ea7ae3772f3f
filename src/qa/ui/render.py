"""HTML for the chat UI: replies, the sources panel, the document viewer, the documents table.

Safety rule: every string that comes from a question, a document or a file name goes
through `text()`, and markup is only ever added around text already escaped. So a corpus
file or a question holding <script>, <img onerror=...> or a Markdown link renders as the
characters it is, whatever the component showing it does with HTML or Markdown.
"""

from __future__ import annotations

import html
from collections import Counter
from collections.abc import Collection, Iterable
from importlib import resources
from pathlib import PurePath

from ..answer import HEDGE, NOT_FOUND, Answer, Citation
from ..documents.corpus import Document

# Besides HTML's own characters, those that Markdown, KaTeX ($$) and JS/Handlebars
# templates (${...}, {{...}}) give meaning to become numeric entities: they display the
# same, and no later renderer can read them as syntax.
_INERT = str.maketrans(
    {
        "`": "&#96;",
        "$": "&#36;",
        "{": "&#123;",
        "}": "&#125;",
        "[": "&#91;",
        "]": "&#93;",
        "\\": "&#92;",
        "*": "&#42;",
        "_": "&#95;",
        "~": "&#126;",
        "|": "&#124;",
    }
)
# The document viewer shows a document whole up to this size; a longer upload shows this
# many characters around the passage, so the page stays light whatever is uploaded.
ARTICLE_WINDOW = 40_000
# A question is shown in the chat up to this many characters (a pasted novel is refused
# anyway; its echo need not fill the screen).
QUESTION_PREVIEW = 500


def text(value: str | None) -> str:
    """`value` as inert HTML text (see the module docstring)."""
    return html.escape(value or "", quote=True).translate(_INERT)


def highlight(
    value: str,
    span: tuple[int, int] | None,
    tag: str = "mark",
    inner: tuple[int, int] | None = None,
) -> str:
    """`value` escaped, with `<tag>` around value[start:end] when a span is given, and
    the short answer value[inner] (inside the span) in bold within it."""
    if not span:
        return text(value)
    start, end = span
    marked = text(value[start:end])
    if inner and start <= inner[0] < inner[1] <= end:
        marked = bold_span(value[start:end], (inner[0] - start, inner[1] - start))
    return f"{text(value[:start])}<{tag}>{marked}</{tag}>{text(value[end:])}"


def bold_span(value: str, span: tuple[int, int] | None) -> str:
    """`value` escaped, its short answer value[start:end] in bold."""
    if not span:
        return text(value)
    start, end = span
    return (
        f'{text(value[:start])}<strong class="qa-span">{text(value[start:end])}</strong>'
        f"{text(value[end:])}"
    )


def citation_refs(citations: Iterable[Citation]) -> str:
    """One line per cited document, "[1] [3] Title, pp. 2, 5 (date)", in order of first
    citation."""
    by_document: dict[str, list[Citation]] = {}
    for citation in citations:
        by_document.setdefault(citation.document.id, []).append(citation)
    lines = []
    for group in by_document.values():
        document = group[0].document
        refs = " ".join(_ref(c) for c in group)
        pages = document.cite_pages(c.page for c in group if c.page)
        where = f", {pages}" if pages else ""
        date = f' <span class="qa-date">({text(document.date)})</span>' if document.date else ""
        lines.append(f"<li>{refs} {text(document.title + where)}{date}</li>")
    return "".join(lines)


def _ref(citation: Citation) -> str:
    return f'<span class="qa-ref">{text(f"[{citation.rank}]")}</span>'


def question_html(question: str) -> str:
    """The user's message as shown in the chat: escaped, long ones cut short."""
    shown = question if len(question) <= QUESTION_PREVIEW else question[:QUESTION_PREVIEW] + "…"
    note = ""
    if len(question) > QUESTION_PREVIEW:
        note = f' <span class="qa-note">({len(question):,} characters)</span>'
    return f'<div class="qa-question">{text(shown)}{note}</div>'


def reply_html(answer: Answer) -> str:
    """The bot's chat message: the answer sentence and its numbered citations, or the
    "documents don't say" reply with the nearest passages marked as not answering."""
    refs = citation_refs(answer.citations)
    searched = _searched_html(answer)
    if answer.abstained:
        nearest = ""
        if refs:
            nearest = (
                '<p class="qa-nearest-note">Nearest passages (they do not answer the question):</p>'
                f'<ul class="qa-refs">{refs}</ul>'
            )
        return (
            f'<div class="qa-reply qa-abstained"><p class="qa-not-found">{text(NOT_FOUND)}</p>'
            f"{nearest}{searched}</div>"
        )
    first = answer.citations[0] if answer.citations else None
    cite = f" {_ref(first)}" if first else ""
    if answer.hedged:
        # Neither an answer nor a refusal: the closest sentence, said to be no more.
        return (
            f'<div class="qa-reply qa-hedged"><p class="qa-hedge">{text(HEDGE)}</p>'
            f'<p class="qa-answer-text">{text(answer.text)}{cite}</p>'
            f'<ul class="qa-refs">{refs}</ul>{searched}</div>'
        )
    span = (answer.span.start, answer.span.end) if answer.span else None
    sentence = bold_span(answer.text or "", span)
    return (
        f'<div class="qa-reply qa-answered"><p class="qa-answer-text">{sentence}{cite}</p>'
        f'<ul class="qa-refs">{refs}</ul>{searched}</div>'
    )


def notice_html(message: str) -> str:
    """A polite bot message that is neither an answer nor an abstention (bad input, busy)."""
    return f'<div class="qa-reply qa-notice"><p>{text(message)}</p></div>'


def pending_html() -> str:
    """The bot's placeholder while a question is being answered."""
    return '<div class="qa-reply qa-pending"><p>Searching the documents…</p></div>'


def _searched_html(answer: Answer) -> str:
    if not answer.rewritten:
        return ""
    return f'<p class="qa-searched">Searched for: <q>{text(answer.searched)}</q></p>'


def empty_sources_html() -> str:
    return (
        '<section class="qa-sources qa-empty"><h3>Sources</h3>'
        "<p>Ask a question: the passages its answer cites appear here, with the answering "
        "sentence highlighted and a link into the whole document.</p></section>"
    )


def sources_html(
    answer: Answer, explain: bool = False, key: str = "a", mode: str = "hybrid"
) -> str:
    """The sources panel for one answer: every cited passage with the answering sentence
    highlighted, its document's title, date and source, and the whole document folded
    below it with the passage highlighted in place.

    Args:
        answer: the answer to show.
        explain: add each passage's BM25 rank, dense rank and score.
        key: makes element ids unique across answers (e.g. the turn number).
        mode: the retrieval mode asked with: it names the score (fused in hybrid mode).
    """
    if answer.abstained:
        heading = (
            '<h3 class="qa-nearest-title">Nearest passages: they do not answer the question</h3>'
        )
        state = "abstained"
    elif answer.hedged:
        heading = '<h3 class="qa-nearest-title">Sources: the closest they come</h3>'
        state = "hedged"
    else:
        heading = "<h3>Sources</h3>"
        state = "answered"
    score = "fused score" if mode == "hybrid" else f"{text(mode)} score"
    items = "".join(
        _source_html(c, score if explain else None, f"qa-{text(key)}-{c.rank}")
        for c in answer.citations
    )
    if not items:
        items = "<li>No passage matched.</li>"
    question = f'<p class="qa-asked">For: <q>{text(answer.question)}</q></p>'
    searched = _searched_html(answer)
    coverage = ""
    if explain:
        coverage = (
            f'<p class="qa-explain">Confidence {answer.confidence:.2f}, '
            f"question coverage {answer.coverage:.2f}, "
            f"similarity {answer.similarity:.2f}</p>"
        )
    return (
        f'<section class="qa-sources qa-{state}">{heading}{question}{searched}{coverage}'
        f'<ol class="qa-source-list">{items}</ol></section>'
    )


def _source_html(citation: Citation, score: str | None, anchor: str) -> str:
    """One cited passage; `score` names the score to explain the ranking with (None: no
    explanation)."""
    document, hit = citation.document, citation.hit
    classes = "qa-source qa-answering" if citation.answer_span else "qa-source"
    page = citation.where or None
    section = f"§ {citation.section}" if citation.section else None
    meta = " · ".join(
        text(part) for part in (section, page, document.date, document.source) if part
    )
    ranks = ""
    if score:
        ranks = (
            f'<p class="qa-explain">BM25 rank {hit.bm25_rank or "–"} · dense rank '
            f"{hit.dense_rank or '–'} · {score} {hit.score:.4f} "
            f"(BM25 {hit.bm25_score:.2f}, cosine {hit.dense_score:.3f})</p>"
        )
    passage = highlight(hit.chunk.text, citation.answer_span, inner=citation.short_span)
    whole = document_html(
        document,
        hit.chunk.start,
        hit.chunk.end,
        citation.answer_span,
        anchor,
        citation.short_span,
    )
    return (
        f'<li class="{classes}" id="{anchor}">'
        f'<div class="qa-source-head">{_ref(citation)} {text(document.title)}</div>'
        f'<div class="qa-meta">{meta}</div>'
        f'<blockquote class="qa-passage">{passage}</blockquote>{ranks}'
        f'<details class="qa-document"><summary>Open the whole document</summary>'
        f"{whole}</details>{_page_html(citation)}</li>"
    )


def _page_html(citation: Citation) -> str:
    """The cited PDF page as printed, folded, with the answering sentence (or, for a
    passage that does not answer, the passage) highlighted where it is printed; "" for
    other formats and for a PDF whose file is gone, changed or unreadable."""
    from .pdf_page import page_image

    document, chunk = citation.document, citation.hit.chunk
    if not document.pages or not document.path or document.page_kind != "page":
        return ""  # slides and rows are not drawn: their text is the whole of them
    start, end = citation.answer_span or (0, len(chunk.text))
    # The sentence may begin on the page after the one the passage begins on.
    page = document.page_at(chunk.start + start) or citation.page
    if not page:
        return ""
    image = page_image(document.path, page, chunk.text[start:end], document.sha256)
    if image is None:
        return ""
    what = "answering sentence" if citation.answer_span else "passage"
    marked = f", the {what} highlighted" if image.highlighted else ""
    alt = f"Page {page} of {document.title} as printed{marked}"
    return (
        f'<details class="qa-page"><summary>Open page {page} as printed</summary>'
        f'<img src="{image.data_uri}" width="{image.width}" height="{image.height}" '
        f'alt="{text(alt)}"></details>'
    )


def document_html(
    document: Document,
    start: int,
    end: int,
    answer_span: tuple[int, int] | None = None,
    anchor: str = "qa-passage",
    short_span: tuple[int, int] | None = None,
) -> str:
    """The document's text with document.text[start:end] (the passage) highlighted in
    place and marked as the anchor the viewer scrolls to; `answer_span` (relative to the
    passage) is marked inside it."""
    body = document.text
    lo, hi = 0, len(body)
    if len(body) > ARTICLE_WINDOW:
        middle = (start + end) // 2
        lo = min(start, max(0, min(middle - ARTICLE_WINDOW // 2, len(body) - ARTICLE_WINDOW)))
        hi = max(end, min(len(body), lo + ARTICLE_WINDOW))
    passage = highlight(body[start:end], answer_span, inner=short_span)
    window = ""
    if (lo, hi) != (0, len(body)):
        window = f'<p class="qa-note">Characters {lo:,}–{hi:,} of {len(body):,}.</p>'
    return (
        f'<div class="qa-document-text" data-anchor="{anchor}-passage">{window}'
        f"<h4>{text(document.title)}</h4>{text(body[lo:start])}"
        f'<span class="qa-in-document" id="{anchor}-passage">{passage}</span>'
        f"{text(body[end:hi])}</div>"
    )


def documents_html(
    documents: Iterable[Document], passages: Counter[str], uploaded: Collection[str] = ()
) -> str:
    """The indexed documents as a table: title, date, source, passages, file; the ids in
    `uploaded` are marked as uploads."""
    badge = ' <span class="qa-uploaded">uploaded</span>'
    rows = "".join(
        f'<tr><td>{text(d.title)}</td><td class="qa-date-cell">{text(d.date or "–")}</td>'
        f"<td>{text(d.source or '–')}</td>"
        f'<td class="qa-num">{passages.get(d.id, 0)}</td>'
        f"<td><code>{text(d.id + PurePath(d.path).suffix)}</code>"
        f"{badge if d.id in uploaded else ''}</td></tr>"
        for d in documents
    )
    return (
        '<table class="qa-documents"><thead><tr><th>Title</th><th>Date</th><th>Source</th>'
        f"<th>Passages</th><th>File</th></tr></thead><tbody>{rows}</tbody></table>"
    )


# Under the question box: what the thumbs on a reply mean, and what they are for. In
# words, not emoji: a machine without an emoji font (Debian's chromium) shows boxes.
VERDICT_HINT = (
    '<p class="qa-hint">Rate a reply with the thumbs under it. On “the documents don’t '
    "say”, thumbs down means it should have answered. Your verdicts stay beside the index; "
    "<code>qa calibrate</code> sets this index’s threshold from them.</p>"
)


def status_html(lines: Iterable[str], ok: bool = True) -> str:
    """An upload's outcome, one escaped line each."""
    items = "".join(f"<li>{text(line)}</li>" for line in lines)
    return f'<ul class="qa-status {"qa-ok" if ok else "qa-problem"}">{items}</ul>'


# Styling for the markup above and the document viewer's script, as files beside this
# module (static/, shipped as package data), read once at import.
def _static(name: str) -> str:
    return (resources.files("qa.ui") / "static" / name).read_text(encoding="utf-8")


CSS = _static("qa.css")
VIEWER_JS = _static("viewer.js")
