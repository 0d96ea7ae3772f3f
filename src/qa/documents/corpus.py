"""Files -> Document: reading a folder of documents, with title, date, outlet and pages.

Each format is read by its library (`readers.py`): PDF, HTML, Word, Markdown, text. The
header of a page saved as text (headline, dateline, outlet) is read off by
`page_header.py`. `Document.text` holds the body only, and every offset in `qa` points
into that text.
"""

from __future__ import annotations

import bisect
import dataclasses
import functools
import hashlib
import os
import re
import stat
import tempfile
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from ..digest import file_sha256
from ..errors import CorpusError
from ..text import tokenize
from .page_header import join_paragraphs, split_header
from .readers import READERS, Extracted, Heading, ReadError, read

SUPPORTED_SUFFIXES = tuple(READERS)

# Folders nested deeper than this are not entered: no corpus is organised 100 deep, and
# a path that deep is near the system's length limit.
MAX_DEPTH = 100


@dataclass(frozen=True)
class Document:
    """One document. `text` is the body (header and leftovers removed). `pages` holds the
    offset in `text` where each page starts (PDF), empty for unpaged formats."""

    id: str
    title: str
    text: str
    date: str | None = None
    source: str | None = None
    path: str = ""
    sha256: str = ""
    author: str | None = None
    pages: tuple[int, ...] = ()
    # The headings of the document's structure: (offset in `text` where the heading line
    # starts, level, heading text), in text order. Empty for a document without any.
    sections: tuple[tuple[int, int, str], ...] = ()
    # What a page is ("page", "slide", "row": readers.base.Extracted.page_kind), and the
    # number each page is cited by where that is not its position (a row's number in its
    # sheet); empty when it is.
    page_kind: str = "page"
    page_labels: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        # Rows read back from documents.jsonl carry pages and sections as lists.
        if not isinstance(self.pages, tuple):
            object.__setattr__(self, "pages", tuple(self.pages))
        if not isinstance(self.page_labels, tuple):
            object.__setattr__(self, "page_labels", tuple(self.page_labels))
        object.__setattr__(self, "sections", tuple((a, b, c) for a, b, c in self.sections))

    def cite_pages(self, pages: Iterable[int]) -> str:
        """Pages (1-based positions) as a citation names them: "p. 3", "pp. 2, 5",
        "slide 4", "rows 12, 15" ("" for none)."""
        numbers = sorted(set(pages))
        if not numbers:
            return ""
        if self.page_labels:
            numbers = [
                self.page_labels[p - 1] if p <= len(self.page_labels) else p for p in numbers
            ]
        one, many = PAGE_NAMES.get(self.page_kind, PAGE_NAMES["page"])
        return f"{one if len(numbers) == 1 else many} {', '.join(map(str, numbers))}"

    def page_at(self, offset: int) -> int | None:
        """The 1-based page that `offset` of `text` is on, or None when unpaged."""
        if not self.pages:
            return None
        return max(1, bisect.bisect_right(self.pages, offset))

    def section_index(self, offset: int) -> int | None:
        """The index in `sections` of the heading `offset` stands under, or None."""
        if not self.sections:
            return None
        i = bisect.bisect_right(self._section_starts, offset) - 1
        return i if i >= 0 else None

    def section_path(self, offset: int) -> tuple[str, ...]:
        """The headings `offset` stands under, outermost first ("4 Encoding", "4.3
        Encoding functions"); a heading that only repeats the title is left out."""
        i = self.section_index(offset)
        if i is None:
            return ()
        path: list[tuple[int, str]] = []
        for _, level, heading in self.sections[: i + 1]:
            while path and path[-1][0] >= level:
                path.pop()
            path.append((level, heading))
        title = " ".join(self.title.split()).casefold()
        return tuple(h for _, h in path if h.casefold() != title)

    @functools.cached_property
    def _section_starts(self) -> list[int]:
        return [start for start, _, _ in self.sections]

    @functools.cached_property
    def terms(self) -> frozenset[str]:
        """The BM25 terms of the title and body: what "the document uses this term" is
        tested against. Worked out on first use and kept with the document, which lives as
        long as its index: a long PDF is not tokenized again for each question."""
        return frozenset(tokenize(f"{self.title} {self.text}"))


# How a citation names a page of each kind, one and several.
PAGE_NAMES = {"page": ("p.", "pp."), "slide": ("slide", "slides"), "row": ("row", "rows")}


# An upload's name in the corpus starts with this folder: its citations and the documents
# table say where it came from, and it cannot take the id of a file in the corpus folder.
UPLOADS = "uploads"


@dataclass(frozen=True)
class CorpusFile:
    """A file to read: where it is, its size in bytes, and its name in the corpus (its path
    in the corpus folder, or "uploads/<file>" for an upload). The name keys the
    fingerprint; without its suffix it is the document's id."""

    path: Path
    size: int
    name: str

    @property
    def doc_id(self) -> str:
        return PurePosixPath(self.name).with_suffix("").as_posix()


def load_documents(
    folder: Path | str, max_file_bytes: int | None = None, uploads: Path | str | None = None
) -> tuple[list[Document], list[str]]:
    """Read every supported file under `folder` (see SUPPORTED_SUFFIXES), recursively,
    and the files in the `uploads` folder, if given.

    Args:
        folder: the corpus folder.
        max_file_bytes: files larger than this are skipped (None: no limit).
        uploads: the folder of uploaded documents (Settings.uploads_path), or None.

    Returns:
        (documents sorted by id, warnings): a file that cannot be read (not UTF-8, a
        scanned or damaged PDF, no permission, too large, no text) is skipped with a
        one-line warning naming it, rather than failing the whole corpus.

    Raises:
        CorpusError: the folder is missing, or holds no readable document.
    """
    root, files, warnings = corpus_files(folder, uploads)
    documents: list[Document] = []
    for file in files:
        read = read_file(file, max_file_bytes)
        if isinstance(read, str):
            warnings.append(read)
        else:
            documents.extend(read)
    return sorted_documents(root, documents, warnings, Path(folder)), warnings


def corpus_files(
    folder: Path | str, uploads: Path | str | None = None
) -> tuple[Path, list[CorpusFile], list[str]]:
    """(root, the supported files under it in path order then the uploads', warnings
    about the folders that could not be walked): what `load_documents` reads. A single
    supported file is a corpus of one: its root is the folder it is in.

    Raises:
        CorpusError: the folder is missing, or a file given is not of a supported type.
    """
    given = Path(folder)
    if given.is_file():
        if given.suffix.lower() not in READERS:
            raise CorpusError(
                f"{given} is not a document qa reads ({', '.join(SUPPORTED_SUFFIXES)}). "
                "Point qa at a folder of documents, or at one such file."
            )
    elif not given.is_dir():
        raise CorpusError(
            f"Corpus folder {given}/ does not exist. Point qa at a folder of documents "
            f"({', '.join(SUPPORTED_SUFFIXES)})."
        )
    warnings: list[str] = []
    files = [file for file, _ in _listing(given, uploads, warnings)]
    return corpus_root(given), files, warnings


def _listing(
    given: Path, uploads: Path | str | None, warnings: list[str]
) -> Iterator[tuple[CorpusFile, os.stat_result]]:
    """The corpus's files, then the uploads' (a name the corpus has already is skipped
    with a warning), each with its stat."""
    root = corpus_root(given)
    names: set[str] = set()
    for path, info in _document_files(given, warnings):
        name = path.relative_to(root).as_posix()
        names.add(name)
        yield CorpusFile(path, info.st_size, name), info
    if uploads is None or not Path(uploads).is_dir():
        return
    for path, info in _document_files(Path(uploads), warnings):
        name = f"{UPLOADS}/{path.relative_to(uploads).as_posix()}"
        if name in names:
            warnings.append(f"Skipped {path}: the corpus folder has a file {name} already.")
            continue
        yield CorpusFile(path, info.st_size, name), info


def corpus_root(folder: Path | str) -> Path:
    """What document ids are relative to: the corpus folder, or the folder holding a
    one-file corpus."""
    given = Path(folder)
    return given.parent if given.is_file() else given


def read_file(
    file: CorpusFile, max_file_bytes: int | None, opened: Path | None = None
) -> list[Document] | str:
    """One file of `corpus_files` as its Documents (the file's own, then one per
    attachment read: `read_document`), or the one-line warning saying why it is skipped.
    `opened` is where to open it (default file.path, the path recorded and named): a
    worker on a cluster opens the absolute path of the file its driver lists."""
    name, path, size, doc_id = file.path, opened or file.path, file.size, file.doc_id
    if max_file_bytes is not None and size > max_file_bytes:
        return (
            f"Skipped {name}: {_megabytes(size)}, over the {_megabytes(max_file_bytes)} "
            "limit (raise it with QA_MAX_FILE_MB or Settings.max_file_mb)."
        )
    try:
        documents = _read_documents(path, doc_id, str(name))
    except ReadError as e:
        return f"Skipped {name}: {e}."
    except OSError as e:
        return f"Skipped {name}: cannot read it ({e.strerror or e})."
    document = documents[0]
    if not document.text.strip():
        return f"Skipped {name}: no text."
    text_bytes = sum(len(d.text.encode("utf-8")) for d in documents)
    if max_file_bytes is not None and text_bytes > max_file_bytes:
        # A Word file is a zip: a small file can hold far more text than its size.
        return (
            f"Skipped {name}: {_megabytes(text_bytes)} of text, over the "
            f"{_megabytes(max_file_bytes)} limit (raise it with QA_MAX_FILE_MB or "
            "Settings.max_file_mb)."
        )
    return [d for d in documents if d.text.strip()]


# When no file of a corpus is readable, the error names this many of the reasons.
NAMED_FAILURES = 20


def _unreadable_file(path: Path, warnings: list[str] | tuple[str, ...]) -> str:
    """The error of a one-file corpus that cannot be read: the file, not the folder it
    is in, and why (read_file's warning about it)."""
    skipped = f"Skipped {path}: "
    reason = next((w.removeprefix(skipped) for w in warnings if w.startswith(skipped)), "")
    return (
        f"Cannot read {path}: {reason or 'no text.'} Point qa at another file, or at a "
        "folder of documents."
    )


def sorted_documents(
    root: Path,
    documents: list[Document],
    warnings: list[str] | tuple[str, ...] = (),
    given: Path | None = None,
) -> list[Document]:
    """The documents read from `root` (in path order) sorted by id, as `load_documents`
    returns them; `given` is the corpus as given, when it may be one file.

    Raises:
        CorpusError: there are none; its message names why each file was skipped (the
            first NAMED_FAILURES, then how many more), one a line below the first; for a
            one-file corpus, that file and why, in one line.
    """
    if not documents and given is not None and given.is_file():
        raise CorpusError(_unreadable_file(given, warnings))
    if not documents:
        reasons = [f"  {w}" for w in warnings[:NAMED_FAILURES]]
        if len(warnings) > NAMED_FAILURES:
            reasons.append(f"  ... and {len(warnings) - NAMED_FAILURES} more.")
        raise CorpusError(
            "\n".join(
                [
                    f"No readable documents in {root}/ ({', '.join(SUPPORTED_SUFFIXES)}; text "
                    "must be UTF-8). Add some, or point qa at another folder."
                    + (f" {len(warnings)} skipped:" if warnings else ""),
                    *reasons,
                ]
            )
        )
    kept: dict[str, Document] = {}
    for document in documents:
        if document.id in kept:
            # "a.txt" and "a.md" in one folder: one id, so one document (the first read).
            if isinstance(warnings, list):
                warnings.append(
                    f"Skipped {document.path}: {kept[document.id].path} has the same name "
                    "without its suffix. Rename one of them."
                )
            continue
        kept[document.id] = document
    return sorted(kept.values(), key=lambda d: d.id)


def read_document(path: Path, doc_id: str) -> Document:
    """One file as a Document. Raises ReadError (or OSError) when it cannot be read."""
    return _read_documents(path, doc_id, str(path))[0]


def _read_documents(path: Path, doc_id: str, shown: str) -> list[Document]:
    """The file's Document, then its attachments' (an e-mail's): each named
    "<file's id>#<attachment's file name>" and cited by its own title, with the file it
    came in as its source. An attachment that cannot be read, or of a format qa does not
    read, is left out; attachments inside attachments are not opened."""
    extracted = read(path)
    document = document_from(doc_id, extracted, shown, file_sha256(path))
    documents = [document]
    for name, data in extracted.attachments:
        with tempfile.TemporaryDirectory(prefix="qa-attachment-") as folder:
            # Readers choose by suffix and some need a file: a copy under its own name.
            copy = Path(folder) / (PurePosixPath(name.replace("\\", "/")).name or "attachment")
            copy.write_bytes(data)
            try:
                inner = read(copy)
            except (ReadError, OSError):
                continue
        inner.attachments = []
        inner.title = inner.title or _title_from_id(copy.stem)
        attached = document_from(
            f"{doc_id}#{copy.stem}",
            inner,
            f"{shown}#{copy.name}",
            hashlib.sha256(data).hexdigest(),
        )
        source = f"attached to “{document.title}”"
        documents.append(dataclasses.replace(attached, source=source))
    return documents


# A file whose size and modification time are the ones recorded keeps its recorded
# SHA-256 without being read again (git's and rsync's quick check): a fresh `qa ask`
# over 100,000 files would otherwise read every byte of the corpus. Only a file last
# modified this long before the recorded fingerprint was taken is trusted, so that a
# change within the file system's timestamp granularity of that moment is still seen.
STAT_TRUST_NS = 2_000_000_000


def fingerprint(
    folder: Path | str,
    max_file_bytes: int | None = None,
    known: dict[str, Any] | None = None,
    uploads: Path | str | None = None,
) -> dict[str, Any]:
    """What decides the documents read from `folder` and the `uploads` folder, without
    parsing any file: each candidate file's name and SHA-256, and the size limit. Equal
    fingerprints read equal documents (`same_files`), so an up-to-date index is used
    without extracting a PDF again.

    `known`: a fingerprint taken before (the index manifest's); its hashes are reused for
    files whose size and modification time have not changed since (STAT_TRUST_NS). The
    result also records those, and when it was taken, for the next call.
    """
    taken = time.time_ns()
    known = known or {}
    old_files, old_stats = known.get("files", {}), known.get("stats", {})
    trusted_before = int(known.get("taken_ns", 0)) - STAT_TRUST_NS
    files: dict[str, str] = {}
    stats: dict[str, list[int]] = {}
    for file, info in _listing(Path(folder), uploads, []):
        name, path = file.name, file.path
        now = [info.st_size, info.st_mtime_ns]  # as the walk found it
        try:
            if old_stats.get(name) == now and name in old_files and now[1] < trusted_before:
                files[name] = old_files[name]
            else:
                files[name] = file_sha256(path)
            stats[name] = now
        except OSError:
            files[name] = "unreadable"
    return {"files": files, "max_file_bytes": max_file_bytes, "stats": stats, "taken_ns": taken}


def same_files(a: dict[str, Any] | None, b: dict[str, Any] | None) -> bool:
    """Whether two fingerprints read the same documents: the same files with the same
    hashes and the same size limit (when and how they were taken does not matter)."""
    if a is None or b is None:
        return a is b
    return (a.get("files"), a.get("max_file_bytes")) == (b.get("files"), b.get("max_file_bytes"))


def _document_files(root: Path, warnings: list[str]) -> Iterator[tuple[Path, os.stat_result]]:
    """Supported files under `root` with their stat (size, time), in path order. Walked with an
    explicit stack (no recursion limit), without following links to folders (no
    cycles), skipping hidden names and folders that cannot be listed. A file given as
    `root` is the one file found."""
    if root.is_file():
        if root.suffix.lower() in READERS:
            yield root, root.stat()
        return
    stack: list[tuple[Path, int]] = [(root, 0)]
    found: list[tuple[Path, os.stat_result]] = []
    too_deep = False
    while stack:
        folder, depth = stack.pop()
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as e:
            warnings.append(f"Skipped folder {folder}/: cannot list it ({e.strerror or e}).")
            continue
        for entry in entries:
            if entry.name.startswith("."):
                continue
            try:
                if entry.is_dir(follow_symlinks=False):
                    if depth + 1 > MAX_DEPTH:
                        too_deep = True
                    else:
                        stack.append((Path(entry.path), depth + 1))
                    continue
                info = entry.stat()
            except OSError as e:
                warnings.append(f"Skipped {entry.path}: cannot read it ({e.strerror or e}).")
                continue
            if stat.S_ISREG(info.st_mode) and Path(entry.name).suffix.lower() in READERS:
                found.append((Path(entry.path), info))
    if too_deep:
        warnings.append(f"Skipped folders nested more than {MAX_DEPTH} deep under {root}/.")
    yield from sorted(found, key=lambda item: item[0])


def document_from(doc_id: str, extracted: Extracted, path: str, sha256: str) -> Document:
    """A Document from what a reader found: its metadata, else what the header says."""
    if extracted.pages is not None:
        title = extracted.title or _title_from_id(doc_id)
        first = next((i for i, page in enumerate(extracted.pages) if page), None)
        pages_read = list(extracted.pages)
        if first is not None:
            pages_read[first] = _without_title(pages_read[first], title)
        text, pages = _join_pages(pages_read)
        sections = _sections(text, [p for page in pages_read for p in page])
        return Document(
            id=doc_id,
            title=title,
            text=text,
            date=extracted.date,
            source=extracted.source,
            path=path,
            sha256=sha256,
            author=extracted.author,
            pages=pages,
            sections=sections,
            page_kind=extracted.page_kind,
            page_labels=tuple(extracted.page_labels or ()),
        )
    if extracted.has_header:
        parsed = parse_document(doc_id, "\n".join(extracted.paragraphs), path=path)
        return Document(
            id=doc_id,
            title=parsed.title,
            text=parsed.text,
            date=parsed.date or extracted.date,
            source=parsed.source or extracted.source,
            path=path,
            sha256=sha256,
            author=extracted.author,
            sections=_sections(parsed.text, extracted.paragraphs),
        )
    title = extracted.title or _title_from_id(doc_id)
    paragraphs = _without_title(extracted.paragraphs, title)
    text = join_paragraphs([p.strip() for p in paragraphs])
    return Document(
        id=doc_id,
        title=title,
        text=text,
        date=extracted.date,
        source=extracted.source,
        path=path,
        sha256=sha256,
        author=extracted.author,
        sections=_sections(text, paragraphs),
    )


def _sections(text: str, paragraphs: list[str]) -> tuple[tuple[int, int, str], ...]:
    """Where each Heading of `paragraphs` stands in `text` (which joins them, in order):
    (offset, level, heading), found by walking the text from one heading's line to the
    next."""
    found = []
    at = 0
    for paragraph in paragraphs:
        if not isinstance(paragraph, Heading):
            continue
        words = paragraph.strip()
        if not words:
            continue
        # The heading is a line of its own: the same words inside a paragraph are not it.
        line = re.compile(rf"^{re.escape(words)}$", re.MULTILINE).search(text, at)
        if line is None:
            continue
        found.append((line.start(), paragraph.level, words))
        at = line.end()
    return tuple(found)


def _without_title(paragraphs: list[str], title: str) -> list[str]:
    """The paragraphs without a first one that only repeats the title (a PDF's or Word
    file's first line often does). Citations and every passage's context carry the title
    already; left in the text it is a "sentence" that matches any question about the
    document, and was quoted as the answer to them."""
    if paragraphs and " ".join(paragraphs[0].split()).casefold() == (
        " ".join(title.split()).casefold()
    ):
        return paragraphs[1:]
    return paragraphs


def _join_pages(pages: list[list[str]]) -> tuple[str, tuple[int, ...]]:
    """The pages' paragraphs as one text, and the offset where each page starts."""
    parts: list[str] = []
    starts: list[int] = []
    at = 0
    for paragraphs in pages:
        page_text = join_paragraphs([p.strip() for p in paragraphs])
        if parts and page_text:
            at += 2  # the blank line between pages
        starts.append(at)
        if page_text:
            parts.append(page_text)
            at += len(page_text)
    return "\n\n".join(parts), tuple(starts)


def _title_from_id(doc_id: str) -> str:
    stem = doc_id.rsplit("/", 1)[-1]
    words = re.sub(r"[-_]+", " ", stem).strip()
    return words[:1].upper() + words[1:] if words else doc_id


def _megabytes(size: int) -> str:
    return f"{size / 1_000_000:,.1f} MB"


def parse_document(doc_id: str, content: str, path: str = "") -> Document:
    """A text as a Document: its header (page_header.split_header) as metadata, the rest
    as body; the title from the file name when the text has none."""
    header = split_header(content)
    return Document(
        id=doc_id,
        title=header.title or _title_from_id(doc_id),
        text=header.body,
        date=header.date,
        source=header.source,
        path=path,
        sha256=_sha256(content),
    )


def _sha256(content: str) -> str:
    return hashlib.sha256(content.encode("utf-8")).hexdigest()
