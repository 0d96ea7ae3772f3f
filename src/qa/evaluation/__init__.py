"""`qa eval`: gold questions in, metrics and failures out. One module per job:

- `gold`: reading and validating a gold file (`load_gold`);
- `judge`: how one answer fared (`judge`, `contains_answer`) and the metrics a run of
  them adds up to (`metrics`, `hit_curve`);
- `run`: asking every question in each mode (`evaluate`) and writing the results;
- `thresholds`: `--fail-under` / `--fail-over`;
- `report`: the text report; `plot`: the hit@k chart (matplotlib, imported when drawn).

The `judge` function is not re-exported here: it would shadow the `judge` module.
"""

from __future__ import annotations

from .gold import Gold, GoldQuestion, load_gold
from .judge import METRICS, Judgement, Metric, contains_answer, hit_curve, metrics
from .report import format_report
from .run import Evaluation, ModeRun, Result, evaluate, to_json, write_results
from .thresholds import Threshold, broken_thresholds, parse_thresholds

__all__ = [
    "METRICS",
    "Evaluation",
    "Gold",
    "GoldQuestion",
    "Judgement",
    "Metric",
    "ModeRun",
    "Result",
    "Threshold",
    "broken_thresholds",
    "contains_answer",
    "evaluate",
    "format_report",
    "hit_curve",
    "load_gold",
    "metrics",
    "parse_thresholds",
    "to_json",
    "write_results",
]
