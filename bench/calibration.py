"""How many verdicts make a difference: `qa calibrate` simulated on the dev splits and
measured on the test splits, per domain.

For each domain (the bundled news articles, the SQuAD articles) every dev and test
question is asked once, with the shipped answer model showing every sentence (so whether
the sentence it would show is right is known at any threshold); its probability and
whether that sentence holds a gold answer are kept. A simulated user then gives N
verdicts on N dev questions drawn at random, the way a careful user would at the shipped
threshold: up on a right sentence shown or on an abstention from an unanswerable
question, down on a wrong sentence shown or on an abstention from an answerable one. When
they are enough (verdicts.enough), `verdicts.choose_threshold` sets the threshold
(`--rule errors`: the one making the fewest mistakes, the rule tried first); the
test split is then measured at it: abstention on its unanswerable questions, false
abstention and right sentences shown on its answerable ones. Over DRAWS draws the mean
and the 2.5-97.5 percentiles are printed, beside the shipped threshold with its 95%
Wilson interval.

    .venv/bin/python bench/calibration.py            # about 3 minutes on 2 cores
    .venv/bin/python bench/calibration.py --json docs/calibration.json

The index of each corpus is built under bench/cache/ (never index/).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from qa import QA, Settings  # noqa: E402
from qa.answer.verdicts import Point, choose_threshold, enough, operating_curve  # noqa: E402
from qa.evaluation import load_gold  # noqa: E402
from qa.evaluation.judge import contains_answer  # noqa: E402
from qa.stats import wilson  # noqa: E402

DOMAINS = {
    "news": (ROOT / "corpus", ROOT / "tests/gold/dev.jsonl", ROOT / "tests/gold/test.jsonl"),
    "squad": (
        ROOT / "data/squad/articles",
        ROOT / "data/squad/dev.jsonl",
        ROOT / "data/squad/test.jsonl",
    ),
}
SIZES = (10, 30, 50, 70, 150, 300)
DRAWS = 1000


@dataclass(frozen=True)
class Asked:
    probability: float
    answerable: bool
    # The sentence shown at any threshold below `probability` holds a gold answer.
    right: bool
    kind: str


def ask_all(domain: str) -> tuple[list[Asked], list[Asked], float, float]:
    """(dev, test, the shipped abstention threshold, its false-abstention budget) for one
    domain."""
    corpus, dev, test = DOMAINS[domain]
    settings = Settings(
        corpus_dir=corpus,
        index_dir=ROOT / "bench" / "cache" / f"calibration-{domain}",
        include_uploads=False,
    )
    qa = QA.open(settings, log=lambda message: None, progress=False)
    shipped = qa.answer_model
    # Every sentence shown: where the cut falls is what the simulation chooses.
    showing = QA(qa.index, qa.embedder, settings, answer_model=shipped.with_cut(0.0))

    def asked(path: Path) -> list[Asked]:
        rows = []
        for question in load_gold(path, settings).questions:
            answer = showing.ask(question.question)
            right = question.answerable and contains_answer(answer.text, question.answers)
            kind = "answerable" if question.answerable else str(question.kind)
            rows.append(Asked(answer.confidence, question.answerable, right, kind))
        return rows

    return asked(dev), asked(test), shipped.hedge, shipped.false_abstention


def careful(row: Asked, shipped: float) -> Point:
    """A careful user's verdict on the reply given at the shipped threshold."""
    shown = row.probability >= shipped
    return Point(row.probability, row.right if shown else row.answerable)


def generous(row: Asked, shipped: float) -> Point:
    """A user who wants near misses answered too (the documents say something close,
    and that is what they came for): up on any of them shown, down on their abstention."""
    if row.kind == "near_miss":
        return Point(row.probability, True)
    return careful(row, shipped)


USERS = {"careful": careful, "generous": generous}


def measure(test: list[Asked], cut: float) -> dict[str, float]:
    answerable = [r for r in test if r.answerable]
    unanswerable = [r for r in test if not r.answerable]
    return {
        "abstention": float(np.mean([r.probability < cut for r in unanswerable])),
        "false_abstention": float(np.mean([r.probability < cut for r in answerable])),
        "right_shown": float(np.mean([r.right and r.probability >= cut for r in answerable])),
    }


def fewest_mistakes(points: list[Point], shipped: float, budget: float) -> float:
    """The rule tried first and dropped: a wrong sentence shown and a wrong abstention
    count alike, the nearest to the shipped threshold among equals."""
    curve = operating_curve(points, shipped)
    return min(curve, key=lambda o: (o.errors, abs(o.threshold - shipped))).threshold


RULES = {"budget": choose_threshold, "errors": fewest_mistakes}


def simulate(
    dev: list[Asked],
    test: list[Asked],
    shipped: float,
    budget: float,
    size: int,
    rng,
    rule,
    user,
) -> dict:
    results: dict[str, list[float]] = {"threshold": [], "set": []}
    for _ in range(DRAWS):
        drawn = rng.sample(dev, size) if size <= len(dev) else rng.choices(dev, k=size)
        points = [user(row, shipped) for row in drawn]
        cut = rule(points, shipped, budget) if enough(points) else shipped
        results["threshold"].append(cut)
        results["set"].append(float(enough(points)))
        for name, value in measure(test, cut).items():
            results.setdefault(name, []).append(value)
    return {
        name: (float(np.mean(v)), float(np.percentile(v, 2.5)), float(np.percentile(v, 97.5)))
        for name, v in results.items()
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", type=Path, help="also write the table's numbers here")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument(
        "--user", choices=sorted(USERS), default="careful", help="who gives the verdicts"
    )
    parser.add_argument(
        "--start",
        type=float,
        default=None,
        help="the threshold the index abstains below when the verdicts are given "
        "(default: the shipped one); e.g. 0.2 for an index that abstains too much",
    )
    parser.add_argument(
        "--rule", choices=sorted(RULES), default="budget", help="how verdicts set the threshold"
    )
    args = parser.parse_args()
    rng = random.Random(args.seed)
    table: dict[str, dict] = {}
    print(
        "| domain | verdicts | threshold set | threshold | abstention (unanswerable) "
        "| false abstention | right sentence shown |"
    )
    print("|---|---|---|---|---|---|---|")
    for domain in DOMAINS:
        dev, test, shipped, budget = ask_all(domain)
        if args.start is not None:
            shipped = args.start
        answerable = sum(r.answerable for r in test)
        n = {"abstention": len(test) - answerable, "false_abstention": answerable}
        n["right_shown"] = answerable
        base = measure(test, shipped)
        cells = []
        for name in ("abstention", "false_abstention", "right_shown"):
            low, high = wilson(round(base[name] * n[name]), n[name])
            cells.append(f"{base[name]:.3f} [{low:.3f}, {high:.3f}]")
        print(f"| {domain} | 0 (shipped) | – | {shipped:.4f} | " + " | ".join(cells) + " |")
        table[domain] = {
            "dev": len(dev),
            "test": len(test),
            "test_answerable": answerable,
            "shipped": {"threshold": shipped, **base},
        }
        for size in SIZES:
            result = simulate(
                dev, test, shipped, budget, size, rng, RULES[args.rule], USERS[args.user]
            )
            table[domain][str(size)] = result
            cells = [
                f"{result[name][0]:.3f} [{result[name][1]:.3f}, {result[name][2]:.3f}]"
                for name in ("threshold", "abstention", "false_abstention", "right_shown")
            ]
            replaced = "" if size <= len(dev) else " (with replacement)"
            print(
                f"| {domain} | {size}{replaced} | {result['set'][0]:.2f} | "
                + " | ".join(cells)
                + " |"
            )
        sys.stdout.flush()
    if args.json:
        args.json.write_text(json.dumps(table, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
