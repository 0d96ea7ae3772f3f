"""The header of a saved page, as text: title, dateline, outlet, and page leftovers.

A news page saved as text opens with a site banner, a headline and a dateline
("来源:中国网 时间:2023-04-24 15:00:02 编辑:李柯佑", "People's Daily Online) 17:13,
December 07, 2021"), and trails comment forms and empty author stamps. `split_header`
reads the header off as metadata and drops the leftovers; what remains is the body.
Plain text without such a header keeps every line but those leftovers (the dateline's
labels are read only off a dateline): its first line is a title only when it looks like
one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..language import DATELINE_LABELS, MONTHS, SOURCE_LABELS

_ISO_DATE = re.compile(r"(?<!\d)(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?(?!\d)")
_MONTH_DAY_YEAR = re.compile(r"\b([A-Za-z]{3,9})\.?\s+(\d{1,2}),?\s+(\d{4})\b")
_DAY_MONTH_YEAR = re.compile(r"\b(\d{1,2})\s+([A-Za-z]{3,9})\.?,?\s+(\d{4})\b")
_TIME = re.compile(r"\b\d{1,2}:\d{2}(?::\d{2})?\b")
# "Label:value" pairs in a dateline, in English or Chinese, with either colon.
_LABEL = re.compile(rf"({'|'.join(DATELINE_LABELS)})\s*[:：]\s*(\S*)", re.IGNORECASE)
# Page leftovers that carry no content: comment forms and stamp lines such as
# "【Author:】 【Editor:谈诗谊】".
_LEFTOVERS = (
    re.compile(r"^please enter your (comment|name|email|website)\b.*$", re.IGNORECASE),
    re.compile(r"^(\s*【[^】]*】)+\s*$"),
)
# A dateline is looked for among the first lines only: dates in the body are content.
_HEADER_LINES = 4
# A first line is a title when it is short and does not end like a sentence.
_TITLE_MAX_WORDS = 20
_SENTENCE_END = (".", "!", "?", "。", "！", "？", ";", "；")


@dataclass(frozen=True)
class Header:
    """What the opening lines say. `title` is None when the text opens with a sentence;
    `body` is the rest, one paragraph per line, separated by blank lines."""

    title: str | None
    date: str | None
    source: str | None
    body: str


def split_header(content: str) -> Header:
    """Split a text into its header and body.

    The first non-empty line is the title only when it looks like one (short, without
    sentence punctuation); otherwise it is body. A dateline within the first lines marks
    a saved news page: the title is the line just before it, and lines above that (a
    site banner) are kept as the outlet when the dateline names none. A text that is a
    title alone (a one-line note) keeps that line as its body too, so every sentence is
    citable.
    """
    content = content.replace("\r\n", "\n").replace("\r", "\n")
    lines = [line.strip() for line in content.split("\n")]
    nonempty = [i for i, line in enumerate(lines) if line]
    if not nonempty:
        return Header(None, None, None, "")
    date = source = None
    title_at: int | None = nonempty[0] if looks_like_title(lines[nonempty[0]]) else None
    header_end = title_at if title_at is not None else nonempty[0] - 1
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
    title = lines[title_at].lstrip("#").strip() if title_at is not None else None
    # Comment forms and stamp lines trail saved pages with or without a dateline.
    body_lines = [
        line for line in lines[header_end + 1 :] if not any(p.match(line) for p in _LEFTOVERS)
    ]
    body = join_paragraphs(body_lines)
    if not body.strip() and title:
        body = title
    return Header(title or None, date, source, body)


def looks_like_title(line: str) -> bool:
    """Short, and not ending like a sentence: "Changsha included in China's top 20
    intelligent manufacturing cities" is a title, "The museum opened in 1911." is not."""
    line = line.strip()
    return bool(line) and len(line.split()) <= _TITLE_MAX_WORDS and not line.endswith(_SENTENCE_END)


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
        if label.lower() in SOURCE_LABELS and value:
            return value
    rest = _LABEL.sub(" ", line)
    rest = _ISO_DATE.sub(" ", rest)
    rest = _MONTH_DAY_YEAR.sub(" ", rest)
    rest = _DAY_MONTH_YEAR.sub(" ", rest)
    rest = _TIME.sub(" ", rest)
    rest = re.sub(r"\s+", " ", rest).strip(" ()[]（）,，|-")
    return rest or None


def join_paragraphs(lines: list[str]) -> str:
    """Non-empty lines, one paragraph each, separated by a blank line."""
    return "\n\n".join(line for line in lines if line)
