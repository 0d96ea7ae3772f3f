"""The text report of `qa eval`: the metrics table (modes side by side) and the failed
questions, fitted to a 100-column terminal."""

from __future__ import annotations

import textwrap
from collections import Counter
from typing import Any

from ..language import plural
from .gold import GoldQuestion
from .judge import Judgement, Metric, find_metric, intervals, metrics
from .run import Evaluation, ModeRun

WIDTH = 100


def format_report(evaluation: Evaluation) -> str:
    """The metrics table, then the failed questions of each mode."""
    return "\n\n".join(
        [format_table(evaluation), *(format_failures(run) for run in evaluation.runs)]
    )


def format_table(evaluation: Evaluation) -> str:
    """Rows = metrics, columns = modes; with hybrid and another mode, also hybrid's gain.
    A metric only some gold files define (span_*, answer_span_hit) is left out when no
    mode has a value; abstention_<kind> rows follow abstention when the gold has kinds."""
    gold = evaluation.gold.questions
    answerable = sum(1 for q in gold if q.answerable)
    values = {run.mode: metrics(run.judgements()) for run in evaluation.runs}
    modes = list(values)
    # Every share's 95% interval, for the first mode (the one a gate reads).
    spread = intervals(evaluation.runs[0].judgements()) if evaluation.runs else {}
    gains = [m for m in modes if m != "hybrid"] if "hybrid" in modes and len(modes) > 1 else []
    rows = _rows(list(values.values()))
    width = max([17, *(len(m.name) + 1 for m in rows)])
    header = (
        f"{'metric':<{width}}"
        + "".join(f"{m:>9}" for m in modes)
        + "".join(f"{'vs ' + m:>10}" for m in gains)
        + f"{'95% interval':>15}"
    )
    lines = [
        f"{evaluation.gold.path}: {len(gold)} {plural(len(gold), 'question')} ({answerable} "
        f"answerable, {len(gold) - answerable} unanswerable), {evaluation.k} "
        f"{plural(evaluation.k, 'passage')} each",
    ]
    kinds = Counter(q.kind for q in gold if not q.answerable and q.kind is not None)
    if kinds:
        counts = ", ".join(f"{n} {kind}" for kind, n in sorted(kinds.items()))
        lines.append(_fit(f"unanswerable by kind: {counts}"))
    lines += ["", header + "  measures"]
    for metric in rows:
        row = f"{metric.name:<{width}}" + "".join(
            f"{_cell(metric.name, values[m][metric.name]):>9}" for m in modes
        )
        for m in gains:
            a, b = values["hybrid"][metric.name], values[m][metric.name]
            row += (
                f"{'-' if a is None or b is None else _cell(metric.name, a - b, signed=True):>10}"
            )
        low_high = spread.get(metric.name)
        row += f"{_interval(*low_high) if low_high else '':>15}"
        lines.append(_fit(f"{row}  {metric.description}"))
    lower = ", ".join(m.name for m in rows if not m.higher_is_better)
    lines += [
        "",
        *textwrap.wrap(
            f"Lower is better for {lower}. The interval (95%: Wilson's for a share, the "
            f"normal one for a mean F1) is the {modes[0] if modes else ''} column's.",
            WIDTH,
        ),
    ]
    return "\n".join(lines)


def _rows(values: list[dict[str, float | None]]) -> list[Metric]:
    """The metrics to show, in `metrics()` order (every mode has the same names)."""
    rows = []
    for name in values[0] if values else {}:
        metric = find_metric(name)
        if metric is None or (metric.optional and all(v[name] is None for v in values)):
            continue
        rows.append(metric)
    return rows


def _interval(low: float, high: float) -> str:
    """ "0.04-0.62", with as many more decimals (up to 4) as it takes to print two
    numbers: 1,998 right of 2,000 is "0.996-1.000", not "1.00-1.00", which would claim
    an interval of no width that leaves out the 0.999 measured."""
    for places in (2, 3, 4):
        shown = f"{low:.{places}f}", f"{high:.{places}f}"
        if shown[0] != shown[1]:
            break
    return "-".join(shown)


def _cell(name: str, value: float | None, signed: bool = False) -> str:
    if value is None:
        return "-"
    sign = "+" if signed else ""
    if name.startswith("latency"):
        return f"{value:{sign},.1f}"
    if name.startswith("mean_"):
        return f"{value:{sign},.0f}"
    return f"{value:{sign}.3f}"


def format_failures(run: ModeRun) -> str:
    """Questions the bot got wrong in one mode: wrong answers and abstentions on answerable
    questions, answers to unanswerable ones; each with what it showed instead. An article
    is named only where it differs from the gold one, the signal worth the width."""
    failed = [r for r in run.results if not _succeeded(r.judgement)]
    wrong = sum(1 for r in failed if r.judgement.answerable and not r.judgement.abstained)
    missed = sum(1 for r in failed if r.judgement.answerable and r.judgement.abstained)
    answered = len(failed) - wrong - missed
    lines = [
        f"Failures, {run.mode}: {len(failed)} of {len(run.results)} ({wrong} wrong, "
        f"{missed} abstained though answerable, {answered} answered though unanswerable)"
    ]
    for r in failed:
        j, gold, answer = r.judgement, r.gold, r.answer
        passages = answer["passages"]
        if not j.answerable:
            verdict = "ANSWERED though unanswerable"
            expected = "abstention" + (f" (nearest document: {gold.doc_id})" if gold.doc_id else "")
        else:
            verdict = "ABSTAINED though answerable" if j.abstained else "WRONG answer"
            verdict += f"; gold passage at rank {j.rank}" if j.rank else "; no gold passage shown"
            expected = " | ".join(f'"{a}"' for a in gold.answers)
        if not passages:
            shown = "no passage retrieved"
        elif j.abstained:
            shown = "ranked 1" + _source(passages[0], gold) + passages[0]["text"]
        else:
            cited = next((p for p in passages if p["answer_span"]), passages[0])
            shown = "answered" + _source(cited, gold) + str(answer["answer"])
        lines += [
            _clip(f"{gold.id}  {verdict}"),
            _clip(f"    Q: {gold.question}"),
            _clip(f"    expected: {expected}"),
            _clip(f"    {shown}"),
        ]
    return "\n".join(lines)


def _source(passage: dict[str, Any], gold: GoldQuestion) -> str:
    same = gold.doc_id is None or passage["doc_id"] == gold.doc_id
    return ": " if same else f" (from {passage['doc_id']}): "


def _succeeded(j: Judgement) -> bool:
    return j.correct if j.answerable else j.abstained


def _clip(text: str, width: int = WIDTH) -> str:
    """One line of at most `width` characters, inner whitespace collapsed (passages hold
    line breaks), leading indentation kept."""
    indent = text[: len(text) - len(text.lstrip())]
    return _fit(indent + " ".join(text.split()), width)


def _fit(line: str, width: int = WIDTH) -> str:
    return line if len(line) <= width else line[: width - 1] + "…"
