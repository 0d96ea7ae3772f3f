"""The user's verdicts on answers, and the abstention threshold they set for one index.

A verdict is a thumbs up or down in the chat on an answer, a hedge or an abstention. It is
appended to a JSONL file beside the index (Settings.verdicts_path) with what the answer
model saw: the question, what was searched, the answer or abstention, the question's
feature row and the probability. It goes nowhere else.

`qa calibrate` reads them back as points (probability, whether qa should have shown a
sentence) and, once there are enough of both kinds, chooses the threshold below which
this index abstains: the highest that keeps the answer model's false-abstention budget
on them. The shipped answer model is never retrained: only where its
probability is cut moves, and it is recorded in the index's manifest.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import UsageError
from ..stats import wilson
from .compose import Answer

# Below these `qa calibrate` prints the curve but sets nothing: with fewer, one verdict
# moves the threshold across half the probability range (docs/EVAL.md, "Verdicts").
MIN_VERDICTS = 30
MIN_EACH = 5


@dataclass(frozen=True)
class Point:
    """One judged answer: the answer model's probability, and whether a sentence should
    have been shown (an answer judged right, or an abstention judged wrong)."""

    probability: float
    should_answer: bool


def verdict_record(answer: Answer, liked: bool | None, answer_id: str) -> dict[str, Any]:
    """The JSONL line for a verdict on `answer`: liked True (thumbs up), False (down) or
    None (taken back). `answer_id` ties later verdicts on the same reply to it: the last
    one counts."""
    shown = answer.text is not None
    return {
        "answer_id": answer_id,
        "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "liked": liked,
        "question": answer.question,
        "searched": answer.searched,
        "answer": answer.text,
        "abstained": answer.abstained,
        "hedged": answer.hedged,
        "probability": answer.confidence,
        "threshold": answer.threshold,
        # Up on a shown sentence, or down on an abstention: qa should have answered.
        "should_answer": None if liked is None else liked == shown,
        "cited": [c.document.id for c in answer.citations],
        "features": dict(answer.features),
    }


def append_verdict(path: Path | str, record: dict[str, Any]) -> None:
    """Append one verdict line to `path` (made with its folder when missing). One write of
    one line in append mode: concurrent sessions do not interleave within a line."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps(record, ensure_ascii=False) + "\n"
    with open(target, "a", encoding="utf-8") as out:
        out.write(line)
        out.flush()
        os.fsync(out.fileno())


def read_points(path: Path | str) -> list[Point]:
    """The judged answers in the verdict file at `path`, the last verdict on each reply
    counting (one taken back counts as none); none when there is no file.

    Raises:
        UsageError: a line is not a verdict (named by its number).
    """
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return []
    except (OSError, UnicodeDecodeError) as e:
        raise UsageError(f"Cannot read the verdicts in {path}: {e}.") from e
    last: dict[str, Point | None] = {}
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            should = record["should_answer"]
            point = None if should is None else Point(float(record["probability"]), bool(should))
            last[str(record["answer_id"])] = point
        except (ValueError, KeyError, TypeError) as e:
            raise UsageError(f"Line {number} of {path} is not a verdict ({e}).") from e
    return [point for point in last.values() if point is not None]


@dataclass(frozen=True)
class Operating:
    """What one threshold does to the judged answers."""

    threshold: float
    # Shown though it should not have been / abstained though it should have answered.
    wrongly_shown: int
    wrongly_abstained: int

    @property
    def errors(self) -> int:
        return self.wrongly_shown + self.wrongly_abstained


def operating_curve(points: Sequence[Point], shipped: float) -> list[Operating]:
    """Each threshold worth trying (the shipped one, and one between each pair of
    neighbouring probabilities, plus below and above all), lowest first, with the
    mistakes it makes on `points`."""
    probabilities = sorted({p.probability for p in points})
    cuts = {shipped, 0.0, 1.0 + 1e-9}
    cuts.update((a + b) / 2 for a, b in zip(probabilities, probabilities[1:], strict=False))
    if probabilities:
        cuts.update((probabilities[0] / 2, (probabilities[-1] + 1) / 2))
    return [_operating(points, cut) for cut in sorted(cuts)]


def _operating(points: Iterable[Point], cut: float) -> Operating:
    shown = abstained = 0
    for point in points:
        if point.probability >= cut and not point.should_answer:
            shown += 1
        elif point.probability < cut and point.should_answer:
            abstained += 1
    return Operating(cut, shown, abstained)


def enough(points: Sequence[Point]) -> bool:
    """Whether `points` are enough to set a threshold: MIN_VERDICTS, MIN_EACH of each kind."""
    answer = sum(p.should_answer for p in points)
    return len(points) >= MIN_VERDICTS and min(answer, len(points) - answer) >= MIN_EACH


def choose_threshold(points: Sequence[Point], shipped: float, false_abstention: float) -> float:
    """The threshold for this index, by the rule the answer model's own was chosen by on
    the dev questions: the highest that abstains on at most `false_abstention` of the
    points that should have been answered, here on the user's own questions. It moves
    from `shipped` only as far as the verdicts show, at 95% confidence (Wilson):

    - down, when they show the shipped one abstains on more than that ("it should have
      answered"): to the highest threshold they no longer show is over it;
    - up, to the highest threshold they show keeps within it, so a few dozen right
      answers at high probabilities cannot hide the next user's.

    Counting the two kinds of mistake alike was tried and dropped, and so was moving on
    the point estimate alone: the first hid half of SQuAD's right answers, the second
    let a verdict or two on questions of probability near 0 stop nearly all abstention
    (docs/EVAL.md, "Verdicts").
    """
    answerable = sum(p.should_answer for p in points)
    curve = operating_curve(points, shipped)
    at_shipped = next(o for o in curve if o.threshold == shipped)
    if wilson(at_shipped.wrongly_abstained, answerable)[0] > false_abstention:
        return max(
            o.threshold
            for o in curve
            if wilson(o.wrongly_abstained, answerable)[0] <= false_abstention
        )
    sure = [
        o.threshold
        for o in curve
        if o.threshold >= shipped and wilson(o.wrongly_abstained, answerable)[1] <= false_abstention
    ]
    return max(sure, default=shipped)


def calibration(
    points: Sequence[Point], threshold: float, false_abstention: float, model_id: str
) -> dict[str, Any]:
    """What the manifest records: the threshold (choose_threshold's), the verdicts it
    was set from, and the answer model it applies to (another model's probabilities mean
    something else)."""
    answer = sum(p.should_answer for p in points)
    return {
        "threshold": round(threshold, 6),
        "false_abstention": false_abstention,
        "verdicts": len(points),
        "should_answer": answer,
        "should_abstain": len(points) - answer,
        "answer_model": model_id,
        "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
