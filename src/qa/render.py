"""HTML for the chat UI: replies, the sources panel, the article viewer, the documents table.

Safety rule: every string that comes from a question, an article or a file name goes
through `text()`, and markup is only ever added around text already escaped. So a corpus
file or a question holding <script>, <img onerror=...> or a Markdown link renders as the
characters it is, whatever the component showing it does with HTML or Markdown.
"""

from __future__ import annotations

import html
from collections import Counter
from collections.abc import Iterable
from pathlib import PurePath

from .answer import NOT_FOUND, Answer, Citation
from .corpus import Document

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
# The article viewer shows a document whole up to this size; a longer upload shows this
# many characters around the passage, so the page stays light whatever is uploaded.
ARTICLE_WINDOW = 40_000
# A question is shown in the chat up to this many characters (a pasted novel is refused
# anyway; its echo need not fill the screen).
QUESTION_PREVIEW = 500


def text(value: str | None) -> str:
    """`value` as inert HTML text (see the module docstring)."""
    return html.escape(value or "", quote=True).translate(_INERT)


def highlight(value: str, span: tuple[int, int] | None, tag: str = "mark") -> str:
    """`value` escaped, with `<tag>` around value[start:end] when a span is given."""
    if not span:
        return text(value)
    start, end = span
    return f"{text(value[:start])}<{tag}>{text(value[start:end])}</{tag}>{text(value[end:])}"


def citation_refs(citations: Iterable[Citation]) -> str:
    """One line per cited article, "[1] [3] Title, pp. 2, 5 (date)", in order of first
    citation."""
    by_document: dict[str, list[Citation]] = {}
    for citation in citations:
        by_document.setdefault(citation.document.id, []).append(citation)
    lines = []
    for group in by_document.values():
        document = group[0].document
        refs = " ".join(_ref(c) for c in group)
        pages = sorted({c.page for c in group if c.page})
        where = ""
        if pages:
            where = f", {'p.' if len(pages) == 1 else 'pp.'} {', '.join(map(str, pages))}"
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
    "articles don't say" reply with the nearest passages marked as not answering."""
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
    return (
        f'<div class="qa-reply qa-answered"><p class="qa-answer-text">{text(answer.text)}{cite}</p>'
        f'<ul class="qa-refs">{refs}</ul>{searched}</div>'
    )


def notice_html(message: str) -> str:
    """A polite bot message that is neither an answer nor an abstention (bad input, busy)."""
    return f'<div class="qa-reply qa-notice"><p>{text(message)}</p></div>'


def pending_html() -> str:
    """The bot's placeholder while a question is being answered."""
    return '<div class="qa-reply qa-pending"><p>Searching the articles…</p></div>'


def _searched_html(answer: Answer) -> str:
    if not answer.searched or answer.searched == answer.question:
        return ""
    return f'<p class="qa-searched">Searched for: <q>{text(answer.searched)}</q></p>'


def empty_sources_html() -> str:
    return (
        '<section class="qa-sources qa-empty"><h3>Sources</h3>'
        "<p>Ask a question: the passages its answer cites appear here, with the answering "
        "sentence highlighted and a link into the whole article.</p></section>"
    )


def sources_html(
    answer: Answer, explain: bool = False, key: str = "a", mode: str = "hybrid"
) -> str:
    """The sources panel for one answer: every cited passage with the answering sentence
    highlighted, its article's title, date and outlet, and the whole article folded
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
    page = f"p. {citation.page}" if citation.page else None
    meta = " · ".join(text(part) for part in (page, document.date, document.source) if part)
    ranks = ""
    if score:
        ranks = (
            f'<p class="qa-explain">BM25 rank {hit.bm25_rank or "–"} · dense rank '
            f"{hit.dense_rank or '–'} · {score} {hit.score:.4f} "
            f"(BM25 {hit.bm25_score:.2f}, cosine {hit.dense_score:.3f})</p>"
        )
    passage = highlight(hit.chunk.text, citation.answer_span)
    article = article_html(document, hit.chunk.start, hit.chunk.end, citation.answer_span, anchor)
    return (
        f'<li class="{classes}" id="{anchor}">'
        f'<div class="qa-source-head">{_ref(citation)} {text(document.title)}</div>'
        f'<div class="qa-meta">{meta}</div>'
        f'<blockquote class="qa-passage">{passage}</blockquote>{ranks}'
        f'<details class="qa-article"><summary>Open the whole article</summary>'
        f"{article}</details></li>"
    )


def article_html(
    document: Document,
    start: int,
    end: int,
    answer_span: tuple[int, int] | None = None,
    anchor: str = "qa-passage",
) -> str:
    """The article's text with document.text[start:end] (the passage) highlighted in
    place and marked as the anchor the viewer scrolls to; `answer_span` (relative to the
    passage) is marked inside it."""
    body = document.text
    lo, hi = 0, len(body)
    if len(body) > ARTICLE_WINDOW:
        middle = (start + end) // 2
        lo = min(start, max(0, min(middle - ARTICLE_WINDOW // 2, len(body) - ARTICLE_WINDOW)))
        hi = max(end, min(len(body), lo + ARTICLE_WINDOW))
    passage = highlight(body[start:end], answer_span)
    window = ""
    if (lo, hi) != (0, len(body)):
        window = f'<p class="qa-note">Characters {lo:,}–{hi:,} of {len(body):,}.</p>'
    return (
        f'<div class="qa-article-text" data-anchor="{anchor}-passage">{window}'
        f"<h4>{text(document.title)}</h4>{text(body[lo:start])}"
        f'<span class="qa-in-article" id="{anchor}-passage">{passage}</span>'
        f"{text(body[end:hi])}</div>"
    )


def documents_html(documents: Iterable[Document], passages: Counter[str]) -> str:
    """The indexed articles as a table: title, date, outlet, passages, file."""
    rows = "".join(
        f'<tr><td>{text(d.title)}</td><td class="qa-date-cell">{text(d.date or "–")}</td>'
        f"<td>{text(d.source or '–')}</td>"
        f'<td class="qa-num">{passages.get(d.id, 0)}</td>'
        f"<td><code>{text(d.id + PurePath(d.path).suffix)}</code></td></tr>"
        for d in documents
    )
    return (
        '<table class="qa-documents"><thead><tr><th>Title</th><th>Date</th><th>Outlet</th>'
        f"<th>Passages</th><th>File</th></tr></thead><tbody>{rows}</tbody></table>"
    )


def status_html(lines: Iterable[str], ok: bool = True) -> str:
    """An upload's outcome, one escaped line each."""
    items = "".join(f"<li>{text(line)}</li>" for line in lines)
    return f'<ul class="qa-status {"qa-ok" if ok else "qa-problem"}">{items}</ul>'


# Styling for the markup above. Colours come from Gradio's theme variables, so light and
# dark mode both work; fonts are the system's (nothing is fetched).
CSS = """
.qa-reply p { margin: 0 0 .4em 0; }
.qa-answer-text { font-weight: 600; }
.qa-ref { font-variant-numeric: tabular-nums; color: var(--color-accent); font-weight: 600; }
.qa-refs { margin: .2em 0 .3em 1.1em; padding: 0; list-style: none; font-size: .92em; }
.qa-refs li { margin: .1em 0; }
.qa-date, .qa-note, .qa-meta, .qa-asked { color: var(--body-text-color-subdued); font-size: .9em; }
.qa-abstained { border-left: 4px solid #b45309; padding-left: .6em; }
.qa-not-found { font-style: italic; font-weight: 600; color: #b45309; }
.qa-nearest-note { color: var(--body-text-color-subdued); font-size: .9em; }
.qa-notice { border-left: 4px solid var(--border-color-accent, #888); padding-left: .6em;
  font-style: italic; }
.qa-pending { color: var(--body-text-color-subdued); font-style: italic; }
.qa-searched { color: var(--body-text-color-subdued); font-size: .88em; margin-top: .3em; }
.qa-question { white-space: pre-wrap; overflow-wrap: anywhere; }
.qa-sources h3 { margin: 0 0 .3em 0; font-size: 1.05em; }
.qa-sources.qa-abstained { border-left: 4px solid #b45309; padding-left: .6em; }
.qa-nearest-title { color: #b45309; }
.qa-source-list { padding-left: 0; list-style: none; margin: 0; }
.qa-source { border: 1px solid var(--border-color-primary); border-radius: 8px; padding: .5em .7em;
  margin: .5em 0; background: var(--background-fill-secondary); }
.qa-source.qa-answering { border-color: var(--color-accent);
  box-shadow: 0 0 0 1px var(--color-accent); }
.qa-source-head { font-weight: 600; }
.qa-passage { margin: .4em 0; padding: 0 0 0 .6em;
  border-left: 3px solid var(--border-color-primary); white-space: pre-wrap; font-size: .95em; }
.qa-sources mark, .qa-article-text mark { background: #fde68a; color: #111; padding: 0 .1em;
  border-radius: 2px; }
.qa-explain { font-family: var(--font-mono); font-size: .82em;
  color: var(--body-text-color-subdued); margin: .2em 0; }
.qa-article summary { cursor: pointer; color: var(--color-accent); font-size: .92em; }
.qa-article-text { max-height: 18em; overflow-y: auto; white-space: pre-wrap; margin-top: .4em;
  padding: .5em; border: 1px solid var(--border-color-primary); border-radius: 6px;
  background: var(--background-fill-primary); font-size: .92em; }
.qa-article-text h4 { margin: 0 0 .5em 0; white-space: normal; }
.qa-in-article { background: rgba(253, 230, 138, .4); box-decoration-break: clone;
  -webkit-box-decoration-break: clone; }
.qa-documents { width: 100%; border-collapse: collapse; }
.qa-documents th, .qa-documents td { text-align: left; padding: .3em .5em;
  border-bottom: 1px solid var(--border-color-primary); vertical-align: top; }
.qa-documents td.qa-num { text-align: right; }
.qa-documents td.qa-date-cell { white-space: nowrap; }
.qa-status { margin: .3em 0; padding-left: 1.1em; }
.qa-status.qa-problem { color: #b91c1c; }
"""

# Runs once when the sources panel loads: opening an article scrolls its viewer to the
# cited passage. `toggle` does not bubble, hence the capturing listener on the panel.
VIEWER_JS = """
element.addEventListener('toggle', (event) => {
  const details = event.target;
  if (!details.matches || !details.matches('details.qa-article') || !details.open) return;
  const box = details.querySelector('.qa-article-text');
  const passage = box && box.querySelector('.qa-in-article');
  if (!passage) return;
  const offset = passage.getBoundingClientRect().top - box.getBoundingClientRect().top;
  box.scrollTop += offset - box.clientHeight / 3;
  passage.scrollIntoView({block: 'nearest'});
}, true);
"""
