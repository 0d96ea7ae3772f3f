"""Thresholds: `--fail-under` floors and `--fail-over` ceilings on the metrics of a run,
parsed from the command line and checked against an `Evaluation`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..errors import UsageError
from .judge import KIND_ABSTENTION, METRIC_NAMES, find_metric, metrics
from .run import Evaluation


@dataclass(frozen=True)
class Threshold:
    """A --fail-under floor or --fail-over ceiling on one metric, for every mode."""

    metric: str
    value: float
    # True: the metric must stay at or below `value` (--fail-over), else at or above it.
    ceiling: bool


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
