"""Spreadsheets: Excel workbooks (.xlsx, through openpyxl in read-only mode) and CSV files
(the standard library's csv). Each row is a page of its own, written as a line
"Header: value; Header: value", so it is a passage of its own and a citation names its
sheet and row ("§ Stations, row 14"), as LangChain's CSV loader makes a document of each
row. A sheet's header row is found, not assumed to be its first (a title and a blank line
often stand above it); the lines above it are kept as the sheet's caption."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from .base import Extracted, Heading, ReadError, check_package, clean_text, decode_text, first_line

# The header row is looked for among a sheet's first rows with a value.
HEADER_SEARCH_ROWS = 10
# A sheet wider than this is a matrix of numbers, not a table of records; its further
# columns are left out rather than made into lines no one reads.
MAX_COLUMNS = 200


def read_xlsx(path: Path) -> Extracted:
    """A workbook: each worksheet under its name (a Heading), each row a page.

    Raises ReadError for an encrypted, damaged or old binary (.xls) workbook."""
    import openpyxl

    check_package(path, "workbook")
    try:
        # read_only streams the rows instead of building every cell; data_only reads the
        # value a formula last computed, which is what the sheet shows.
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as e:  # openpyxl raises KeyError, InvalidFileException, zip errors
        raise ReadError(f"a damaged workbook ({first_line(e) or type(e).__name__})") from e
    pages: list[list[str]] = []
    labels: list[int] = []
    try:
        for sheet in book.worksheets:
            rows = ((n, row) for n, row in enumerate(sheet.iter_rows(values_only=True), start=1))
            _add_table(pages, labels, sheet.title, rows)
        props = book.properties
    except Exception as e:
        raise ReadError(f"a damaged workbook ({first_line(e) or type(e).__name__})") from e
    finally:
        book.close()
    if not pages:
        raise ReadError("a workbook with no rows")
    return Extracted(
        pages=pages,
        title=clean_text(props.title),
        date=_date(props.modified or props.created),
        author=clean_text(props.creator),
        page_kind="row",
        page_labels=labels,
    )


def read_csv(path: Path) -> Extracted:
    """A CSV file (comma, semicolon or tab separated, as its first lines show): each row
    a page. Raises ReadError for a file that is not UTF-8 text or not a table."""
    content = decode_text(path.read_bytes())
    try:
        dialect: Any = csv.Sniffer().sniff(content[:64_000], delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel  # one column, or too irregular to tell: commas
    reader = csv.reader(io.StringIO(content), dialect)
    try:
        rows = list(_numbered(reader))
    except csv.Error as e:
        raise ReadError(f"not a readable CSV file ({first_line(e)})") from e
    pages: list[list[str]] = []
    labels: list[int] = []
    _add_table(pages, labels, None, rows)
    if not pages:
        raise ReadError("a CSV file with no rows")
    return Extracted(pages=pages, page_kind="row", page_labels=labels)


def _numbered(reader: Any) -> Iterator[tuple[int, tuple[Any, ...]]]:
    """Each record with the line it starts on (a quoted value may span lines)."""
    start = 1
    for record in reader:
        yield start, tuple(record)
        start = reader.line_num + 1


def _add_table(
    pages: list[list[str]],
    labels: list[int],
    name: str | None,
    rows: Iterable[tuple[int, tuple[Any, ...]]],
) -> None:
    """Append one table's rows to `pages` (one page each) and their row numbers to
    `labels`: the first page opens with the table's name and caption."""
    filled = [(n, cells) for n, row in rows if any(cells := [_cell(v) for v in row[:MAX_COLUMNS]])]
    if not filled:
        return
    at = header_row(filled)
    opening: list[str] = [Heading(name, 1)] if name else []
    opening += [" ".join(c for c in cells if c) for _, cells in filled[:at]]  # the caption
    headers = filled[at][1] if at is not None else []
    for n, cells in filled[(at + 1) if at is not None else 0 :]:
        pairs = [f"{_header(headers, i)}: {value}" for i, value in enumerate(cells) if value]
        pages.append(opening + ["; ".join(pairs)])
        labels.append(n)
        opening = []


def header_row(rows: list[tuple[int, list[str]]]) -> int | None:
    """Which of the first HEADER_SEARCH_ROWS rows is the header: the first whose values
    are all text (no number, date or empty name among them) and that fills at least half
    as many columns as the rows below it do; None when none is (every row is data)."""
    widths = [sum(1 for c in cells if c) for _, cells in rows]
    for i, (_, cells) in enumerate(rows[:HEADER_SEARCH_ROWS]):
        below = widths[i + 1 : i + 1 + HEADER_SEARCH_ROWS]
        if not below or widths[i] < 2 or widths[i] < max(below) / 2:
            continue
        if (
            all(not c or not _is_number(c) for c in cells)
            and len(set(filter(None, cells))) == widths[i]
        ):
            return i
    return None


def _header(headers: list[str], i: int) -> str:
    """Column i's name: its header, else its spreadsheet letter ("Column C")."""
    if i < len(headers) and headers[i]:
        return headers[i]
    letters, n = "", i + 1
    while n:
        n, rest = divmod(n - 1, 26)
        letters = chr(65 + rest) + letters
    return f"Column {letters}"


def _cell(value: Any) -> str:
    """A cell as the sheet shows it: 1998 not 1998.0, a date as YYYY-MM-DD."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d") if value.time() == dt.time() else value.isoformat(" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return " ".join(str(value).split())


def _is_number(text: str) -> bool:
    try:
        float(text.replace(",", ""))
    except ValueError:
        return len(text) == 10 and text[4] == "-" and text[:4].isdigit()  # a date
    return True


def _date(value: Any) -> str | None:
    return value.strftime("%Y-%m-%d") if isinstance(value, dt.datetime | dt.date) else None
