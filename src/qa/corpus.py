"""Files -> Document: reading a folder of articles, with title, date and outlet.

A news page saved as text carries a header (site banner, headline, dateline) and page
leftovers (comment forms, empty author stamps). The header becomes metadata and the
leftovers are dropped, so `Document.text` holds the article body only; every offset in
`qa` points into that text.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from .errors import CorpusError
from .language import MONTHS

SUPPORTED_SUFFIXES = (".txt", ".md")

_ISO_DATE = re.compile(r"(?<!\d)(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?(?!\d)")
_MONTH_DAY_YEAR = re.compile(r"\b([A-Za-z]{3,9})\.?\s+(\d{1,2}),?\s+(\d{4})\b")
_DAY_MONTH_YEAR = re.compile(r"\b(\d{1,2})\s+([A-Za-z]{3,9})\.?,?\s+(\d{4})\b")
_TIME = re.compile(r"\b\d{1,2}:\d{2}(?::\d{2})?\b")
# "Label:value" pairs in a dateline, in English or Chinese, with either colon.
_LABEL = re.compile(
    r"(updated|published|posted|date|time|source|editor|author|时间|发布时间|来源|编辑|作者)"
    r"\s*[:：]\s*(\S*)",
    re.IGNORECASE,
)
_SOURCE_LABELS = {"source", "来源"}
# Page leftovers that carry no content: comment forms and stamp lines such as
# "【Author:】 【Editor:谈诗谊】".
_LEFTOVERS = (
    re.compile(r"^please enter your (comment|name|email|website)\b.*$", re.IGNORECASE),
    re.compile(r"^(\s*【[^】]*】)+\s*$"),
)
# A dateline is looked for among the first lines only: dates in the body are content.
_HEADER_LINES = 4


@dataclass(frozen=True)
class Document:
    """One article. `text` is the body (header and leftovers removed)."""

    id: str
    title: str
    text: str
    date: str | None = None
    source: str | None = None
    path: str = ""
    sha256: str = ""


def load_documents(folder: Path | str) -> tuple[list[Document], list[str]]:
    """Read every .txt and .md file under `folder`, recursively, as UTF-8.

    Args:
        folder: the corpus folder.

    Returns:
        (documents sorted by id, warnings): a file that is not UTF-8 or has no text is
        skipped with a warning rather than failing the whole corpus.

    Raises:
        CorpusError: the folder is missing, or holds no readable document.
    """
    root = Path(folder)
    if not root.is_dir():
        raise CorpusError(
            f"Corpus folder {root}/ does not exist. Point qa at a folder of .txt or .md files."
        )
    documents: list[Document] = []
    warnings: list[str] = []
    for path in _document_files(root):
        raw = path.read_bytes()
        try:
            content = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            warnings.append(f"Skipped {path}: not UTF-8 text.")
            continue
        if "\x00" in content:
            warnings.append(f"Skipped {path}: binary content.")
            continue
        doc_id = path.relative_to(root).with_suffix("").as_posix()
        document = parse_document(doc_id, content, path=str(path))
        if not document.text.strip():
            warnings.append(f"Skipped {path}: no text.")
            continue
        documents.append(document)
    if not documents:
        raise CorpusError(
            f"No readable .txt or .md documents in {root}/ "
            "(files must be UTF-8 text). Add some, or point qa at another folder."
        )
    return sorted(documents, key=lambda d: d.id), warnings


def _document_files(root: Path) -> Iterator[Path]:
    for path in sorted(root.rglob("*")):
        hidden = any(part.startswith(".") for part in path.relative_to(root).parts)
        if path.is_file() and not hidden and path.suffix.lower() in SUPPORTED_SUFFIXES:
            yield path


def parse_document(doc_id: str, content: str, path: str = "") -> Document:
    """Split a saved article into header metadata and body text.

    The title is the first non-empty line, unless a dateline follows within the first
    lines: then the title is the line just before it, and lines above that (a site
    banner) are kept as the outlet when the dateline names none.
    """
    content = content.replace("\r\n", "\n").replace("\r", "\n")
    lines = [line.strip() for line in content.split("\n")]
    nonempty = [i for i, line in enumerate(lines) if line]
    if not nonempty:
        return Document(id=doc_id, title=doc_id, text="", path=path, sha256=_sha256(content))

    title_at = nonempty[0]
    date = source = None
    header_end = title_at
    for position, i in enumerate(nonempty[:_HEADER_LINES]):
        found = parse_date(lines[i])
        if found and position > 0 and _is_dateline(lines[i]):
            date, source = found, _dateline_source(lines[i])
            title_at = nonempty[position - 1]
            banner = [lines[j] for j in nonempty[: position - 1]]
            if not source and banner:
                source = " ".join(banner)
            header_end = i
            break
    title = lines[title_at].lstrip("#").strip()
    body_lines = [
        line for line in lines[header_end + 1 :] if not any(p.match(line) for p in _LEFTOVERS)
    ]
    return Document(
        id=doc_id,
        title=title,
        text=_join_paragraphs(body_lines),
        date=date,
        source=source,
        path=path,
        sha256=_sha256(content),
    )


def parse_date(text: str) -> str | None:
    """The first date in `text` as ISO YYYY-MM-DD, or None."""
    candidates: list[tuple[int, str]] = []
    if m := _ISO_DATE.search(text):
        candidates.append((m.start(), _iso(m.group(1), m.group(2), m.group(3))))
    if (m := _MONTH_DAY_YEAR.search(text)) and m.group(1).lower() in MONTHS:
        candidates.append((m.start(), _iso(m.group(3), MONTHS[m.group(1).lower()], m.group(2))))
    if (m := _DAY_MONTH_YEAR.search(text)) and m.group(2).lower() in MONTHS:
        candidates.append((m.start(), _iso(m.group(3), MONTHS[m.group(2).lower()], m.group(1))))
    valid = [(at, iso) for at, iso in candidates if iso]
    return min(valid)[1] if valid else None


def _iso(year: str | int, month: str | int, day: str | int) -> str:
    y, m, d = int(year), int(month), int(day)
    if not (1900 <= y <= 2200 and 1 <= m <= 12 and 1 <= d <= 31):
        return ""
    return f"{y:04d}-{m:02d}-{d:02d}"


def _is_dateline(line: str) -> bool:
    """A short line made of a date plus labels, a time or an outlet: not a sentence."""
    return len(line) <= 120 and not line.rstrip().endswith((".", "。"))


def _dateline_source(line: str) -> str | None:
    for label, value in _LABEL.findall(line):
        if label.lower() in _SOURCE_LABELS and value:
            return value
    rest = _LABEL.sub(" ", line)
    rest = _ISO_DATE.sub(" ", rest)
    rest = _MONTH_DAY_YEAR.sub(" ", rest)
    rest = _DAY_MONTH_YEAR.sub(" ", rest)
    rest = _TIME.sub(" ", rest)
    rest = re.sub(r"\s+", " ", rest).strip(" ()[]（）,，|-")
    return rest or None


def _join_paragraphs(lines: list[str]) -> str:
    """Non-empty lines, one paragraph each, separated by a blank line."""
    return "\n\n".join(line for line in lines if line)


def _sha256(content: str) -> str:
    return hashlib.sha256(content.encode("utf-8")).hexdigest()
