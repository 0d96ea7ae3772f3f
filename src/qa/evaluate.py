"""Gold questions -> metrics: reads a gold file, asks every question through `QA.ask`,
scores the answers, and writes the results file and threshold checks. The text report
is `report.py`'s job.

The metric arithmetic (`metrics`, `hit_curve`, `percentile`) is pure: it takes
`Judgement`s and returns numbers, so it can be checked by hand; so is `judge`, given a
`Locate` function (`FileLocator` reads the corpus files). A gold file is JSONL, one
`{"id", "question", "answers": [...], "doc_id"?, "kind"?, "file"?, "spans"?}` a line
(see tests/gold/README.md and README.md's "Evaluation"); `answers: []` marks a question
the corpus cannot answer.
"""

from __future__ import annotations

import json
import re
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import TYPE_CHECKING, Any

from .config import Mode, Settings
from .errors import GoldFileError, UsageError

if TYPE_CHECKING:
    from .engine import QA

Log = Callable[[str], None]
# (file relative to the corpus folder, passage text, offset hint) -> where the text starts
# in that file's raw text, or None when it is not there.
Locate = Callable[[str, str, int], int | None]

# Not a tunable: MRR@10 and the hit@k curve are defined over the first ten passages, so
# every question is asked for at least this many.
DEPTH = 10
# What a reader is shown by default (`qa ask` cites five): mean_chars_top5 counts these.
READ_PASSAGES = 5
DEFAULT_GOLD = Path("tests/gold/dev.jsonl")

# Users type straight quotes; some articles print curly ones.
_QUOTES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "\u201c": '"', "\u201d": '"'})


@dataclass(frozen=True)
class Metric:
    """A metric's name (as in the table, JSON and thresholds), direction and meaning."""

    name: str
    higher_is_better: bool
    description: str
    # The table leaves it out when no mode has a value (a gold file without spans).
    optional: bool = False


METRICS: tuple[Metric, ...] = (
    Metric("hit@1", True, "first passage holds a gold answer"),
    Metric("hit@3", True, "one of the first 3 does"),
    Metric("hit@5", True, "one of the first 5 does"),
    Metric("hit@10", True, "one of the first 10 does"),
    Metric("mrr@10", True, "mean 1/rank of the first that does"),
    Metric("span_hit@1", True, "first passage covers a gold span", optional=True),
    Metric("span_hit@5", True, "one of the first 5 does", optional=True),
    Metric("span_mrr@10", True, "mean 1/rank of the first that does", optional=True),
    Metric("answer_accuracy", True, "answer sentence holds gold answer"),
    Metric("answer_span_hit", True, "answer sentence covers a gold span", optional=True),
    Metric("false_abstention", False, "abstained, though answerable"),
    Metric("abstention", True, "abstained on unanswerable ones"),
    Metric("mean_chars_top5", False, "chars in the first 5 passages"),
    Metric("mean_answer_chars", False, "chars in the answer, when answered"),
    Metric("latency_p50_ms", False, "per question, warm"),
    Metric("latency_p95_ms", False, "per question, warm"),
)
METRIC_NAMES = {m.name: m for m in METRICS}
# Besides METRICS: `abstention_<kind>` for each `kind` of unanswerable gold question.
KIND_ABSTENTION = "abstention_"
# A kind becomes part of a metric name, typed in --fail-under: a lowercase word.
_KIND = re.compile(r"[a-z0-9][a-z0-9_-]*")


def kind_metric(kind: str) -> Metric:
    """abstention_<kind>: the share abstained among unanswerable questions of that kind."""
    return Metric(f"{KIND_ABSTENTION}{kind}", True, f"abstained on {kind} ones")


def find_metric(name: str) -> Metric | None:
    """The metric called `name`: one of METRICS or an `abstention_<kind>`; None if neither."""
    if name in METRIC_NAMES:
        return METRIC_NAMES[name]
    kind = name.removeprefix(KIND_ABSTENTION)
    if name.startswith(KIND_ABSTENTION) and _KIND.fullmatch(kind):
        return kind_metric(kind)
    return None


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


@dataclass(frozen=True)
class Judgement:
    """How one answer fared: the numbers the metrics are made of."""

    answerable: bool
    # 1-based rank of the first passage holding a gold answer, None if none does.
    rank: int | None
    abstained: bool
    # Answered, and the answer sentence holds a gold answer.
    correct: bool
    top5_chars: int
    latency_ms: float
    # The gold question's kind, for abstention_<kind>.
    kind: str | None = None
    # Whether the question is answerable and has gold spans: the span metrics count it.
    has_spans: bool = False
    # 1-based rank of the first passage (in the gold file) that covers a whole gold span.
    span_rank: int | None = None
    # Answered, and the answer sentence covers a whole gold span in the gold file.
    answer_span_hit: bool = False
    # Characters in the answer text; None when abstained.
    answer_chars: int | None = None


@dataclass(frozen=True)
class Result:
    """One question asked in one mode."""

    gold: GoldQuestion
    # Exactly what `qa ask --json` prints (Answer.to_dict()).
    answer: dict[str, Any]
    judgement: Judgement


@dataclass(frozen=True)
class ModeRun:
    """Every gold question asked in one mode, in gold order."""

    mode: Mode
    results: tuple[Result, ...]

    def judgements(self) -> list[Judgement]:
        return [r.judgement for r in self.results]


@dataclass(frozen=True)
class Evaluation:
    """The runs of one `qa eval`; `k` is the passages asked for per question."""

    gold: Gold
    k: int
    runs: tuple[ModeRun, ...]


@dataclass(frozen=True)
class Threshold:
    """A --fail-under floor or --fail-over ceiling on one metric, for every mode."""

    metric: str
    value: float
    # True: the metric must stay at or below `value` (--fail-over), else at or above it.
    ceiling: bool


def default_gold_path() -> Path:
    """tests/gold/dev.jsonl under the current folder, or UsageError when it is absent."""
    if not DEFAULT_GOLD.is_file():
        raise UsageError(
            f"No gold file given and there is no {DEFAULT_GOLD}. Run: qa eval GOLD.jsonl"
        )
    return DEFAULT_GOLD


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
    from .engine import check_question

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
    if kind is not None and not (isinstance(kind, str) and _KIND.fullmatch(kind)):
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


def normalize(text: str) -> str:
    """Case-folded, whitespace collapsed, curly quotes made straight."""
    return " ".join(text.translate(_QUOTES).casefold().split())


def contains_answer(text: str | None, answers: Sequence[str]) -> bool:
    """Whether `text` holds any one of `answers`, compared as `normalize` does."""
    if not text:
        return False
    haystack = normalize(text)
    return any(normalize(a) in haystack for a in answers)


def file_doc_id(file: str) -> str:
    """The doc_id the loader gives a corpus file: its relative path, no suffix, posix."""
    return PurePath(file.replace("\\", "/")).with_suffix("").as_posix()


def covers(start: int, end: int, spans: Sequence[tuple[int, int]]) -> bool:
    """Whether [start, end) holds one whole span of `spans`."""
    return any(start <= s and e <= end for s, e in spans)


def judge(
    gold: GoldQuestion,
    answer: dict[str, Any],
    latency_ms: float,
    locate: Locate | None = None,
) -> Judgement:
    """Score one `Answer.to_dict()` against its gold question, in the passage order it shows.

    Args:
        locate: finds a passage in its raw file, for the span metrics (see `Locate`,
            `FileLocator`); without it, or without gold spans, no passage covers a span.
    """
    passages = answer["passages"]
    abstained = answer["abstained"]
    rank = (
        next(
            (p["rank"] for p in passages if contains_answer(p["text"], gold.answers)),
            None,
        )
        if gold.answerable
        else None
    )
    file = gold.file
    has_spans = gold.answerable and file is not None and bool(gold.spans)
    span_rank = None
    answer_span_hit = False
    if file is not None and has_spans and locate is not None:
        doc_id = file_doc_id(file)
        for p in passages:
            if p["doc_id"] != doc_id:
                continue
            offset = locate(file, p["text"], p["start"])
            if offset is None:
                continue
            if span_rank is None and covers(offset, offset + len(p["text"]), gold.spans):
                span_rank = p["rank"]
            if not abstained and p.get("answer_span"):
                s, e = p["answer_span"]
                answer_span_hit = answer_span_hit or covers(offset + s, offset + e, gold.spans)
    text = answer["answer"]
    return Judgement(
        answerable=gold.answerable,
        rank=rank,
        abstained=abstained,
        correct=not abstained and contains_answer(text, gold.answers),
        top5_chars=sum(len(p["text"]) for p in passages[:READ_PASSAGES]),
        latency_ms=latency_ms,
        kind=gold.kind,
        has_spans=has_spans,
        span_rank=span_rank,
        answer_span_hit=answer_span_hit,
        answer_chars=None if abstained else len(text or ""),
    )


class FileLocator:
    """`Locate` over a corpus folder: finds a passage's text in its file's raw text (read
    once per file, UTF-8, line ends made "\\n" as the loader does), taking the occurrence
    nearest to the passage's offset in the document body when it occurs more than once."""

    def __init__(self, corpus_dir: Path) -> None:
        self.corpus_dir = Path(corpus_dir)
        self._texts: dict[str, str | None] = {}

    def text(self, file: str) -> str | None:
        """The file's raw text, or None when it cannot be read."""
        if file not in self._texts:
            try:
                raw = (self.corpus_dir / file).read_bytes().decode("utf-8-sig")
                self._texts[file] = raw.replace("\r\n", "\n").replace("\r", "\n")
            except (OSError, UnicodeDecodeError):
                self._texts[file] = None
        return self._texts[file]

    def __call__(self, file: str, passage: str, start: int) -> int | None:
        text = self.text(file)
        if text is None or not passage:
            return None
        best = None
        found = text.find(passage)
        while found != -1:
            if best is None or abs(found - start) < abs(best - start):
                best = found
            elif found > start:
                break  # later ones are only farther
            found = text.find(passage, found + 1)
        return best


def hit_curve(judgements: Sequence[Judgement], depth: int = DEPTH) -> list[float]:
    """hit@k for k = 1..depth over the answerable questions ([] when there are none)."""
    ranks = [j.rank for j in judgements if j.answerable]
    if not ranks:
        return []
    return [
        sum(1 for r in ranks if r is not None and r <= k) / len(ranks) for k in range(1, depth + 1)
    ]


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0..100), linear between closest ranks as numpy's default."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def metrics(judgements: Sequence[Judgement]) -> dict[str, float | None]:
    """Every metric in METRICS, keyed by name, in that order, with abstention_<kind> after
    abstention for each kind of unanswerable question (sorted); None where its
    denominator is empty.

    Rank metrics, answer accuracy and false abstention are over answerable questions,
    span metrics over the answerable ones with gold spans, abstention over unanswerable
    ones (abstention_<kind>: of that kind), mean_answer_chars over the questions answered,
    other chars and latency over all.
    """
    answerable = [j for j in judgements if j.answerable]
    unanswerable = [j for j in judgements if not j.answerable]
    spanned = [j for j in answerable if j.has_spans]
    answered = [
        j.answer_chars for j in judgements if not j.abstained and j.answer_chars is not None
    ]

    def share(items: list[Judgement], test: Callable[[Judgement], bool]) -> float | None:
        return sum(1 for j in items if test(j)) / len(items) if items else None

    curve = hit_curve(judgements)
    values: dict[str, float | None] = {
        f"hit@{k}": curve[k - 1] if curve else None for k in (1, 3, 5, 10)
    }
    values["mrr@10"] = (
        sum(1 / j.rank for j in answerable if j.rank is not None and j.rank <= DEPTH)
        / len(answerable)
        if answerable
        else None
    )
    span_ranks = [j.span_rank for j in spanned if j.span_rank is not None]
    for k in (1, 5):
        values[f"span_hit@{k}"] = (
            sum(1 for r in span_ranks if r <= k) / len(spanned) if spanned else None
        )
    values["span_mrr@10"] = (
        sum(1 / r for r in span_ranks if r <= DEPTH) / len(spanned) if spanned else None
    )
    values["answer_accuracy"] = share(answerable, lambda j: j.correct)
    values["answer_span_hit"] = share(spanned, lambda j: j.answer_span_hit)
    values["false_abstention"] = share(answerable, lambda j: j.abstained)
    values["abstention"] = share(unanswerable, lambda j: j.abstained)
    for kind in sorted({j.kind for j in unanswerable if j.kind is not None}):
        values[kind_metric(kind).name] = share(
            [j for j in unanswerable if j.kind == kind], lambda j: j.abstained
        )
    values["mean_chars_top5"] = (
        sum(j.top5_chars for j in judgements) / len(judgements) if judgements else None
    )
    values["mean_answer_chars"] = sum(answered) / len(answered) if answered else None
    latencies = [j.latency_ms for j in judgements]
    values["latency_p50_ms"] = percentile(latencies, 50)
    values["latency_p95_ms"] = percentile(latencies, 95)
    return values


def passages_for(k: int | None, log: Log) -> int:
    """Passages to ask for: k, raised to DEPTH so MRR@10 is defined."""
    if k is None:
        return DEPTH
    if not 1 <= k <= 100:
        raise UsageError(f"k must be between 1 and 100, not {k}.")
    if k < DEPTH:
        log(f"Asking for {DEPTH} passages, not {k}: MRR@10 and hit@10 need ten.")
    return max(k, DEPTH)


def evaluate(
    qa: QA, gold: Gold, modes: Sequence[Mode], k: int = DEPTH, log: Log | None = None
) -> Evaluation:
    """Ask every gold question in every mode with one engine, timing each `qa.ask`.

    Args:
        qa: an open engine (one model load serves all modes).
        gold: from `load_gold`.
        modes: e.g. ("hybrid",) or config.MODES.
        k: passages per question, at least DEPTH (see `passages_for`).
        log: progress lines (default: stderr).
    """
    log = log or _stderr
    locate = FileLocator(qa.settings.corpus_dir)
    for file in sorted({q.file for q in gold.questions if q.file and q.spans}):
        if locate.text(file) is None:
            log(f"Cannot read {locate.corpus_dir / file}: its gold spans count as missed.")
    runs = []
    for mode in modes:
        # One untimed question first: the first call in a mode pays one-off set-up costs.
        qa.ask(gold.questions[0].question, k=k, mode=mode)
        started = time.perf_counter()
        results = []
        for question in gold.questions:
            before = time.perf_counter()
            answer = qa.ask(question.question, k=k, mode=mode)
            latency_ms = (time.perf_counter() - before) * 1000
            as_dict = answer.to_dict()
            judgement = judge(question, as_dict, latency_ms, locate)
            results.append(Result(question, as_dict, judgement))
        log(f"{mode}: {len(results)} questions in {time.perf_counter() - started:.1f} s.")
        runs.append(ModeRun(mode, tuple(results)))
    return Evaluation(gold, k, tuple(runs))


def _stderr(message: str) -> None:
    print(message, file=sys.stderr)


def parse_thresholds(under: Sequence[str] = (), over: Sequence[str] = ()) -> list[Threshold]:
    """`--fail-under METRIC=VALUE` floors for metrics where higher is better and
    `--fail-over METRIC=VALUE` ceilings for the others (false_abstention, mean_chars_top5,
    mean_answer_chars, latency_*); abstention_<kind> takes a floor. Raises UsageError for a
    malformed item, an unknown metric or the wrong flag."""
    thresholds = []
    for items, ceiling in ((under, False), (over, True)):
        flag = "--fail-over" if ceiling else "--fail-under"
        for item in items:
            name, _, raw = item.partition("=")
            name = name.strip().lower()
            try:
                value = float(raw)
            except ValueError as e:
                raise UsageError(
                    f"{flag} {item!r}: expected METRIC=VALUE, e.g. {flag} hit@1=0.8"
                ) from e
            metric = find_metric(name)
            if metric is None:
                names = ", ".join([*METRIC_NAMES, f"{KIND_ABSTENTION}<kind>"])
                raise UsageError(f"{flag}: unknown metric {name!r}. Metrics: {names}.")
            if metric.higher_is_better == ceiling:
                other = "--fail-under" if ceiling else "--fail-over"
                better = "higher" if metric.higher_is_better else "lower"
                raise UsageError(f"{name} is better {better}: use {other} {name}={raw}")
            thresholds.append(Threshold(name, value, ceiling))
    return thresholds


def broken_thresholds(evaluation: Evaluation, thresholds: Sequence[Threshold]) -> list[str]:
    """One message per threshold a mode breaks; a metric with no value (no questions of
    its kind) breaks it too, since it cannot show that it holds."""
    messages = []
    for run in evaluation.runs:
        values = metrics(run.judgements())
        for t in thresholds:
            value = values.get(t.metric)
            if value is None:
                messages.append(
                    f"{run.mode} {t.metric} has no value: the gold file has no questions it counts."
                )
            elif (value > t.value) if t.ceiling else (value < t.value):
                relation = "above the allowed" if t.ceiling else "below the required"
                messages.append(f"{run.mode} {t.metric} = {value:.4g}, {relation} {t.value:g}.")
    return messages


def check_writable(path: Path | None, suffix: str | None = None) -> None:
    """UsageError unless `path` can be created: its folder exists (and the suffix fits),
    so a typo fails before the evaluation runs rather than after."""
    if path is None:
        return
    if suffix and path.suffix.lower() != suffix:
        raise UsageError(f"{path}: expected a {suffix} file name.")
    if not path.parent.is_dir():
        raise UsageError(f"Cannot write {path}: there is no folder {path.parent}/.")


def write_results(evaluation: Evaluation, path: Path) -> None:
    """One JSON line per question and mode: {"id", "mode", **what `qa ask --json -k K
    --mode MODE` prints}, K being evaluation.k; modes in turn, questions in gold order."""
    try:
        with open(path, "w", encoding="utf-8") as f:
            for run in evaluation.runs:
                for r in run.results:
                    line = {"id": r.gold.id, "mode": run.mode, **r.answer}
                    f.write(json.dumps(line, ensure_ascii=False) + "\n")
    except OSError as e:
        raise UsageError(f"Cannot write {path}: {e.strerror or e}") from e


def to_json(evaluation: Evaluation) -> list[dict[str, Any]]:
    """The metrics of each mode as one JSON-ready object, with the full hit@1..10 curve."""
    gold = evaluation.gold.questions
    answerable = sum(1 for q in gold if q.answerable)
    return [
        {
            "mode": run.mode,
            "gold": str(evaluation.gold.path),
            "questions": len(gold),
            "answerable": answerable,
            "unanswerable": len(gold) - answerable,
            "k": evaluation.k,
            **{name: _round(value) for name, value in metrics(run.judgements()).items()},
            "hit_curve": [round(v, 4) for v in hit_curve(run.judgements())],
        }
        for run in evaluation.runs
    ]


def hit_curves(evaluation: Evaluation) -> dict[str, list[float]]:
    """mode -> hit@1..10 over the answerable questions, for plotting."""
    return {run.mode: hit_curve(run.judgements()) for run in evaluation.runs}


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)
