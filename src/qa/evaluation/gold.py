"""Gold-file I/O: reading and validating a gold question file.

A gold file is JSONL, one `{"id", "question", "answers": [...], "doc_id"?, "kind"?,
"file"?, "spans"?}` a line (see tests/gold/README.md and README.md's "Evaluation");
`answers: []` marks a question the corpus cannot answer.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from ..config import Settings
from ..errors import GoldFileError, UsageError

# A kind becomes part of a metric name, typed in --fail-under: a lowercase word.
KIND = re.compile(r"[a-z0-9][a-z0-9_-]*")


@dataclass(frozen=True)
class GoldQuestion:
    """One gold line; `line` is its 1-based line number in the file.

    `kind` groups questions (e.g. "answerable", "near_miss", "off_corpus"); `file` is the
    article's path relative to the corpus folder, and `spans` the (start, end) character
    offsets in that file's text where a gold answer sits.
    """

    id: str
    question: str
    answers: tuple[str, ...]
    doc_id: str | None
    line: int
    kind: str | None = None
    file: str | None = None
    spans: tuple[tuple[int, int], ...] = ()

    @property
    def answerable(self) -> bool:
        return bool(self.answers)


@dataclass(frozen=True)
class Gold:
    """A validated gold file."""

    path: Path
    questions: tuple[GoldQuestion, ...]


def load_gold(path: Path, settings: Settings | None = None) -> Gold:
    """Read and validate a gold file.

    Args:
        path: a JSONL file, one question object a line; blank lines are skipped.
        settings: when given, each question is also checked as `qa ask` would check it
            (empty, over-long), so a bad question fails before the model loads.

    Raises:
        GoldFileError: the file is missing, unreadable or empty, or a line is not a JSON
            object with a str `id`, a str `question` and a list of str `answers`, or
            repeats an id, or has a bad optional `doc_id`, `kind`, `file` or `spans`. The
            message names the file and line.
    """
    from ..engine import check_question

    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError as e:
        raise GoldFileError(f"No gold file at {path}.") from e
    except (OSError, UnicodeDecodeError) as e:
        raise GoldFileError(f"Cannot read gold file {path}: {e}") from e
    questions: list[GoldQuestion] = []
    first_line: dict[str, int] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        where = f"{path} line {number}"
        question = _parse_line(raw, where, number)
        if question.id in first_line:
            raise GoldFileError(
                f"{where}: duplicate id {question.id!r} (first on line {first_line[question.id]})."
            )
        first_line[question.id] = number
        if settings is not None:
            try:
                check_question(question.question, settings)
            except UsageError as e:
                raise GoldFileError(f"{where}: {e}") from e
        questions.append(question)
    if not questions:
        raise GoldFileError(f"{path} is empty: expected one JSON question object a line.")
    return Gold(Path(path), tuple(questions))


def _parse_line(raw: str, where: str, number: int) -> GoldQuestion:
    try:
        item = json.loads(raw)
    except json.JSONDecodeError as e:
        raise GoldFileError(f"{where}: not valid JSON ({e.msg} at column {e.colno}).") from e
    if not isinstance(item, dict):
        raise GoldFileError(f"{where}: expected a JSON object, got {type(item).__name__}.")
    for field_name in ("id", "question", "answers"):
        if field_name not in item:
            raise GoldFileError(f"{where}: missing field {field_name!r}.")
    for field_name in ("id", "question"):
        if not isinstance(item[field_name], str) or not item[field_name].strip():
            raise GoldFileError(
                f"{where}: {field_name!r} must be a non-empty string, not {item[field_name]!r}."
            )
    answers = item["answers"]
    # An empty answer string would be found in every passage.
    if not isinstance(answers, list) or not all(isinstance(a, str) and a.strip() for a in answers):
        raise GoldFileError(
            f"{where}: 'answers' must be a list of non-empty strings ([] if unanswerable)."
        )
    doc_id = item.get("doc_id")
    if doc_id is not None and not isinstance(doc_id, str):
        raise GoldFileError(f"{where}: 'doc_id' must be a string, not {doc_id!r}.")
    kind = item.get("kind")
    if kind is not None and not (isinstance(kind, str) and KIND.fullmatch(kind)):
        raise GoldFileError(
            f"{where}: 'kind' must be a lowercase word (letters, digits, _ or -) such as "
            f"'near_miss', not {kind!r}."
        )
    if kind == "answerable" and not answers:
        raise GoldFileError(f"{where}: kind 'answerable' with no 'answers'.")
    file = item.get("file")
    if file is not None and not (isinstance(file, str) and file.strip()):
        raise GoldFileError(
            f"{where}: 'file' must be a path relative to the corpus folder, not {file!r}."
        )
    spans = _parse_spans(item.get("spans"), where)
    if spans and file is None:
        raise GoldFileError(f"{where}: 'spans' needs a 'file' they are offsets into.")
    if spans and not answers:
        raise GoldFileError(f"{where}: 'spans' on a question with no 'answers'.")
    return GoldQuestion(
        item["id"], item["question"], tuple(answers), doc_id, number, kind, file, spans
    )


def _parse_spans(spans: object, where: str) -> tuple[tuple[int, int], ...]:
    if spans is None:
        return ()
    if not isinstance(spans, list) or not all(
        isinstance(span, list)
        and len(span) == 2
        and all(isinstance(x, int) and not isinstance(x, bool) for x in span)
        and 0 <= span[0] < span[1]
        for span in spans
    ):
        raise GoldFileError(
            f"{where}: 'spans' must be a list of [start, end] character offsets "
            f"with 0 <= start < end, not {spans!r}."
        )
    return tuple((start, end) for start, end in spans)
