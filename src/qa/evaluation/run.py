"""Running the questions: every gold question asked through `QA.ask` in each mode, each
answer judged (`judge`), and the results written out (the results file, the metrics as
JSON, the hit@k curves). The text report is `report.py`'s job.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..config import Mode, check_k
from ..errors import UsageError
from ..log import Log, to_stderr
from .gold import Gold, GoldQuestion
from .judge import DEPTH, FileLocator, Judgement, hit_curve, intervals, judge, metrics

if TYPE_CHECKING:
    from ..engine import QA


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


def passages_for(k: int | None, log: Log) -> int:
    """Passages to ask for: k, raised to DEPTH so MRR@10 is defined."""
    if k is None:
        return DEPTH
    check_k(k)
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
    log = log or to_stderr
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
            "intervals": {
                name: [round(low, 4), round(high, 4)]
                for name, (low, high) in intervals(run.judgements()).items()
            },
        }
        for run in evaluation.runs
    ]


def hit_curves(evaluation: Evaluation) -> dict[str, list[float]]:
    """mode -> hit@1..10 over the answerable questions, for plotting."""
    return {run.mode: hit_curve(run.judgements()) for run in evaluation.runs}


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)
