"""Judging and metrics: how one answer fared against its gold question (`judge`), and
the numbers a run of them adds up to (`metrics`, `hit_curve`, `percentile`).

All of it is pure: the metric arithmetic takes `Judgement`s and returns numbers, so it
can be checked by hand; so is `judge`, given a `Locate` function (`FileLocator` reads the
corpus files).
"""

from __future__ import annotations

import re
import string
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import Any

from ..stats import mean_interval, wilson
from .gold import KIND, GoldQuestion

# (file relative to the corpus folder, passage text, offset hint) -> where the text starts
# in that file's raw text, or None when it is not there.
Locate = Callable[[str, str, int], int | None]

# Not a tunable: MRR@10 and the hit@k curve are defined over the first ten passages, so
# every question is asked for at least this many.
DEPTH = 10
# What a reader is shown by default (`qa ask` cites five): mean_chars_top5 counts these.
READ_PASSAGES = 5

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
    Metric("answer_accuracy", True, "answered, and the sentence holds gold answer"),
    Metric("sentence_accuracy", True, "sentence shown (answer or hedge) holds it"),
    Metric("answer_span_hit", True, "answer sentence covers a gold span", optional=True),
    Metric("span_exact_match", True, "short answer = gold (SQuAD EM), right sentence"),
    Metric("span_f1", True, "short answer's token F1 (SQuAD), right sentence"),
    Metric("span_shown", True, "right sentences given a short answer"),
    Metric("span_exact_match_all", True, "SQuAD EM of what is shown, all answerable"),
    Metric("span_f1_all", True, "SQuAD F1 of what is shown, all answerable"),
    Metric("false_abstention", False, "abstained, though answerable"),
    Metric("abstention", True, "abstained on unanswerable ones"),
    Metric("hedged", False, "answerable ones hedged (no abstention)"),
    Metric("hedged_right", False, "... hedged with the right sentence"),
    Metric("hedged_unanswerable", True, "unanswerable ones hedged, not answered"),
    Metric("mean_chars_top5", False, "chars in the first 5 passages"),
    Metric("mean_answer_chars", False, "chars in the answer, when answered"),
    Metric("latency_p50_ms", False, "per question, warm"),
    Metric("latency_p95_ms", False, "per question, warm"),
)
METRIC_NAMES = {m.name: m for m in METRICS}
# Besides METRICS: `abstention_<kind>` and `hedged_<kind>` for each `kind` of
# unanswerable gold question.
KIND_ABSTENTION = "abstention_"
KIND_HEDGED = "hedged_"


def kind_metric(kind: str) -> Metric:
    """abstention_<kind>: the share abstained among unanswerable questions of that kind."""
    return Metric(f"{KIND_ABSTENTION}{kind}", True, f"abstained on {kind} ones")


def hedged_metric(kind: str) -> Metric:
    """hedged_<kind>: the share hedged (neither answered nor abstained) of that kind."""
    return Metric(f"{KIND_HEDGED}{kind}", True, f"hedged on {kind} ones")


def find_metric(name: str) -> Metric | None:
    """The metric called `name`: one of METRICS, an `abstention_<kind>` or a
    `hedged_<kind>`; None if none."""
    if name in METRIC_NAMES:
        return METRIC_NAMES[name]
    for prefix, make in ((KIND_ABSTENTION, kind_metric), (KIND_HEDGED, hedged_metric)):
        kind = name.removeprefix(prefix)
        if name.startswith(prefix) and KIND.fullmatch(kind):
            return make(kind)
    return None


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
    # The closest sentence shown as a hedge: neither an answer nor an abstention.
    hedged: bool = False
    # The sentence shown, answer or hedge, holds a gold answer.
    sentence_correct: bool = False
    # What a reader is given as the answer (the short answer, else the sentence shown,
    # else nothing) against the gold answers, by SQuAD's exact match and token F1; and
    # whether a short answer was shown.
    span_em: bool = False
    span_f1: float = 0.0
    span_shown: bool = False


def normalize(text: str) -> str:
    """Case-folded, whitespace collapsed, curly quotes made straight."""
    return " ".join(text.translate(_QUOTES).casefold().split())


def contains_answer(text: str | None, answers: Sequence[str]) -> bool:
    """Whether `text` holds any one of `answers`, compared as `normalize` does."""
    if not text:
        return False
    haystack = normalize(text)
    return any(normalize(a) in haystack for a in answers)


_PUNCTUATION = frozenset(string.punctuation)
_ARTICLES = re.compile(r"\b(a|an|the)\b")


def squad_normalize(text: str) -> str:
    """SQuAD's official answer normalisation (its evaluate-v2.0.py): lowercase, no
    punctuation, no articles, whitespace collapsed."""
    text = "".join(c for c in text.lower() if c not in _PUNCTUATION)
    return " ".join(_ARTICLES.sub(" ", text).split())


def exact_match(prediction: str, answers: Sequence[str]) -> bool:
    """The prediction equals one gold answer, both SQuAD-normalised."""
    shown = squad_normalize(prediction)
    return any(shown == squad_normalize(a) for a in answers)


def token_f1(prediction: str, answers: Sequence[str]) -> float:
    """SQuAD's token F1 against the best of the gold answers (0 for an empty prediction
    or no answers)."""
    shown = squad_normalize(prediction).split()
    best = 0.0
    for answer in answers:
        gold = squad_normalize(answer).split()
        common = sum((Counter(shown) & Counter(gold)).values())
        if common:
            precision, recall = common / len(shown), common / len(gold)
            best = max(best, 2 * precision * recall / (precision + recall))
    return best


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
            if not abstained and not answer.get("hedged") and p.get("answer_span"):
                s, e = p["answer_span"]
                answer_span_hit = answer_span_hit or covers(offset + s, offset + e, gold.spans)
    text = answer["answer"]
    hedged = bool(answer.get("hedged", False))
    shown_right = not abstained and contains_answer(text, gold.answers)
    short = answer.get("answer_span_text")
    given = "" if abstained else (short or text or "")
    return Judgement(
        answerable=gold.answerable,
        rank=rank,
        abstained=abstained,
        correct=shown_right and not hedged,
        hedged=hedged,
        sentence_correct=shown_right,
        top5_chars=sum(len(p["text"]) for p in passages[:READ_PASSAGES]),
        latency_ms=latency_ms,
        kind=gold.kind,
        has_spans=has_spans,
        span_rank=span_rank,
        answer_span_hit=answer_span_hit,
        span_em=gold.answerable and exact_match(given, gold.answers),
        span_f1=token_f1(given, gold.answers) if gold.answerable else 0.0,
        span_shown=short is not None and not abstained,
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
    return _values(judgements, answerable, unanswerable, spanned, answered)[0]


def intervals(judgements: Sequence[Judgement]) -> dict[str, tuple[float, float]]:
    """The 95% Wilson interval of every metric that is a share of questions."""
    answerable = [j for j in judgements if j.answerable]
    unanswerable = [j for j in judgements if not j.answerable]
    spanned = [j for j in answerable if j.has_spans]
    _, counts, means = _values(judgements, answerable, unanswerable, spanned, [])
    out = {name: wilson(k, n) for name, (k, n) in counts.items() if n}
    # F1 is a mean of scores, not a share: the normal interval of a mean.
    return out | {name: mean_interval(v) for name, v in means.items() if v}


def _values(
    judgements: Sequence[Judgement],
    answerable: list[Judgement],
    unanswerable: list[Judgement],
    spanned: list[Judgement],
    answered: list[int],
) -> tuple[dict[str, float | None], dict[str, tuple[int, int]], dict[str, list[float]]]:
    """(metrics, (successes, questions) of each metric that is a share, the scores of
    each metric that is a mean of scores)."""
    counts: dict[str, tuple[int, int]] = {}
    means: dict[str, list[float]] = {}
    name = ""

    def share(items: list[Judgement], test: Callable[[Judgement], bool]) -> float | None:
        k = sum(1 for j in items if test(j))
        counts[name] = (k, len(items))
        return k / len(items) if items else None

    curve = hit_curve(judgements)
    values: dict[str, float | None] = {
        f"hit@{k}": curve[k - 1] if curve else None for k in (1, 3, 5, 10)
    }
    for k in (1, 3, 5, 10):
        counts[f"hit@{k}"] = (
            sum(1 for j in answerable if j.rank is not None and j.rank <= k),
            len(answerable),
        )
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
        counts[f"span_hit@{k}"] = (sum(1 for r in span_ranks if r <= k), len(spanned))
    values["span_mrr@10"] = (
        sum(1 / r for r in span_ranks if r <= DEPTH) / len(spanned) if spanned else None
    )
    # The short answer is judged where the right sentence was given as the answer (not
    # hedged: a hedge shows no short answer), and over every answerable question.
    right = [j for j in answerable if j.correct]
    shares: list[tuple[str, list[Judgement], Callable[[Judgement], bool]]] = [
        ("answer_accuracy", answerable, lambda j: j.correct),
        ("sentence_accuracy", answerable, lambda j: j.sentence_correct),
        ("answer_span_hit", spanned, lambda j: j.answer_span_hit),
        ("span_exact_match", right, lambda j: j.span_em),
        ("span_shown", right, lambda j: j.span_shown),
        ("span_exact_match_all", answerable, lambda j: j.span_em),
        ("false_abstention", answerable, lambda j: j.abstained),
        ("abstention", unanswerable, lambda j: j.abstained),
    ]
    kinds = sorted({j.kind for j in unanswerable if j.kind is not None})
    for kind in kinds:
        of_kind = [j for j in unanswerable if j.kind == kind]
        shares.append((kind_metric(kind).name, of_kind, lambda j: j.abstained))
    shares += [
        ("hedged", answerable, lambda j: j.hedged),
        ("hedged_right", answerable, lambda j: j.hedged and j.sentence_correct),
        ("hedged_unanswerable", unanswerable, lambda j: j.hedged),
    ]
    for kind in kinds:
        of_kind = [j for j in unanswerable if j.kind == kind]
        shares.append((hedged_metric(kind).name, of_kind, lambda j: j.hedged))
    for name, items, test in shares:
        values[name] = share(items, test)
    for name, items in (("span_f1", right), ("span_f1_all", answerable)):
        means[name] = [j.span_f1 for j in items]
        values[name] = sum(means[name]) / len(items) if items else None
    values["mean_chars_top5"] = (
        sum(j.top5_chars for j in judgements) / len(judgements) if judgements else None
    )
    values["mean_answer_chars"] = sum(answered) / len(answered) if answered else None
    latencies = [j.latency_ms for j in judgements]
    values["latency_p50_ms"] = percentile(latencies, 50)
    values["latency_p95_ms"] = percentile(latencies, 95)
    return values, counts, means
