"""The "before" baseline: qa 0.1's hand-set answer rules, judged by today's `qa eval`.

qa 0.1 is commit 4c63abf, the last version whose answer step was hand-set rules (a
weighted sentence score, then abstain unless evidence >= min_evidence, the sentence holds
the kind of answer asked for, and the question names nothing the articles never use);
commit 5c23b3d replaced them with the learned answer model. To say what the model bought,
the old rules are measured on the current gold files with the current judge.

The old code runs in a subprocess from a git worktree of 4c63abf, so nothing of it mixes
with today's `qa` in one interpreter:

    git worktree add --detach /tmp/qa01 4c63abf
    .venv/bin/python bench/rules_baseline.py data/squad/test.jsonl \\
        --corpus data/squad/articles --name squad-test

The child (PYTHONPATH=<worktree>/src) opens `qa.QA` 0.1 over the corpus with its own
index under /tmp (never index/ here), asks every question in hybrid mode with k=10 and
writes one line per question: {"id", **Answer.to_dict(), "latency_ms"}, the shape
`qa eval --out` writes. This process then judges each line with today's
`qa.evaluation.judge.judge` (a FileLocator over the corpus for the span metrics) and adds
them up with `metrics`, so the figures compare with today's `qa eval` line for line. It
prints n per kind and the headline metrics with 95% Wilson intervals, and writes them, with
every other metric of `metrics`, to docs/rules_baseline/<name>.json.

Latencies are those of a shared machine and only indicative.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
COMMIT = "4c63abf"
WORKTREE = Path("/tmp/qa01")
INDEX_ROOT = Path("/tmp/qa01-index")
OUT_DIR = ROOT / "docs" / "rules_baseline"
K = 10
MODE = "hybrid"
Z = 1.959963984540054  # two-sided 95%

# (metric, what counts, over which questions): the headline figures, each with an interval.
HEADLINE = (
    ("hit@1", "first passage holds a gold answer", "answerable"),
    ("answer_accuracy", "answer sentence holds a gold answer", "answerable"),
    ("false_abstention", "abstained, though answerable", "answerable"),
    ("abstention", "abstained", "unanswerable"),
    ("span_hit@1", "first passage covers a gold span", "answerable with spans"),
    ("answer_span_hit", "answer sentence covers a gold span", "answerable with spans"),
)


def wilson(successes: int, n: int, z: float = Z) -> tuple[float, float] | None:
    """The Wilson score interval of successes/n (Wilson 1927), None when n is 0."""
    if n == 0:
        return None
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


# --- child: qa 0.1 answering ----------------------------------------------------------


def worker(gold: Path, corpus: Path, index_dir: Path, answers: Path) -> None:
    """Ask every question of `gold` with qa 0.1 (whatever `qa` PYTHONPATH finds first)."""
    import qa
    from qa import QA, Settings

    if qa.__version__ != "0.1.0":
        sys.exit(f"Expected qa 0.1.0 on PYTHONPATH, found {qa.__version__} at {qa.__file__}.")
    print(f"qa {qa.__version__} from {Path(qa.__file__).parent}", file=sys.stderr)
    questions = [
        json.loads(line) for line in gold.read_text(encoding="utf-8").splitlines() if line.strip()
    ]
    engine = QA.open(Settings(corpus_dir=corpus, index_dir=index_dir), progress=False)
    engine.ask(questions[0]["question"], k=K, mode=MODE)  # one-off set-up costs, untimed
    started = time.perf_counter()
    with open(answers, "w", encoding="utf-8") as f:
        for n, item in enumerate(questions, start=1):
            before = time.perf_counter()
            answer = engine.ask(item["question"], k=K, mode=MODE)
            latency_ms = (time.perf_counter() - before) * 1000
            line = {"id": item["id"], "mode": MODE, **answer.to_dict(), "latency_ms": latency_ms}
            f.write(json.dumps(line, ensure_ascii=False) + "\n")
            if n % 200 == 0:
                print(f"{n}/{len(questions)} asked", file=sys.stderr)
    print(f"{len(questions)} questions in {time.perf_counter() - started:.1f} s.", file=sys.stderr)


def run_worker(gold: Path, corpus: Path, name: str, worktree: Path, answers: Path) -> None:
    """Run `worker` in a fresh interpreter with qa 0.1's source first on the path."""
    src = worktree / "src"
    if not (src / "qa" / "__init__.py").is_file():
        sys.exit(f"No qa source at {src}: git worktree add --detach {worktree} {COMMIT}")
    head = subprocess.run(
        ["git", "-C", str(worktree), "rev-parse", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    if not head.startswith(COMMIT):
        sys.exit(f"{worktree} is at {head or 'no commit'}, not {COMMIT}.")
    env = {**os.environ, "PYTHONPATH": str(src)}
    for variable in ("QA_MODEL", "QA_CORPUS_DIR", "QA_INDEX_DIR"):
        env.pop(variable, None)
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--worker",
        str(gold),
        "--corpus",
        str(corpus),
        "--index-dir",
        str(INDEX_ROOT / name / "index"),
        "--answers",
        str(answers),
    ]
    # The worktree as working directory: nothing 0.1 writes by default lands here.
    subprocess.run(command, env=env, cwd=worktree, check=True)


# --- parent: today's judge ------------------------------------------------------------


def judge_all(gold_path: Path, corpus: Path, answers: Path) -> dict[str, Any]:
    sys.path.insert(0, str(ROOT / "src"))
    from qa.evaluation.gold import load_gold
    from qa.evaluation.judge import FileLocator, judge, metrics

    gold = load_gold(gold_path)
    by_id = {}
    for line in answers.read_text(encoding="utf-8").splitlines():
        if line.strip():
            item = json.loads(line)
            by_id[item["id"]] = item
    missing = [q.id for q in gold.questions if q.id not in by_id]
    if missing:
        sys.exit(f"{answers} lacks {len(missing)} gold questions, e.g. {missing[:3]}.")
    locate = FileLocator(corpus)
    judgements = [judge(q, by_id[q.id], by_id[q.id]["latency_ms"], locate) for q in gold.questions]
    values = metrics(judgements)

    answerable = [j for j in judgements if j.answerable]
    unanswerable = [j for j in judgements if not j.answerable]
    spanned = [j for j in answerable if j.has_spans]
    counts = {
        "hit@1": (sum(1 for j in answerable if j.rank == 1), len(answerable)),
        "answer_accuracy": (sum(1 for j in answerable if j.correct), len(answerable)),
        "false_abstention": (sum(1 for j in answerable if j.abstained), len(answerable)),
        "abstention": (sum(1 for j in unanswerable if j.abstained), len(unanswerable)),
        "span_hit@1": (sum(1 for j in spanned if j.span_rank == 1), len(spanned)),
        "answer_span_hit": (sum(1 for j in spanned if j.answer_span_hit), len(spanned)),
    }
    for kind in sorted({j.kind for j in unanswerable if j.kind is not None}):
        of_kind = [j for j in unanswerable if j.kind == kind]
        counts[f"abstention_{kind}"] = (sum(1 for j in of_kind if j.abstained), len(of_kind))

    headline = {}
    for name, (successes, n) in counts.items():
        if n == 0:
            continue
        value = successes / n
        # The same share as today's `metrics` computes: the counts above are its numerators.
        assert values[name] is not None and abs(values[name] - value) < 1e-12, name
        low, high = wilson(successes, n)  # type: ignore[misc]
        headline[name] = {
            "value": round(value, 4),
            "successes": successes,
            "n": n,
            "wilson95": [round(low, 4), round(high, 4)],
        }
    kinds = Counter(
        q.kind or ("answerable" if q.answerable else "unanswerable") for q in gold.questions
    )
    return {
        "what": f"qa 0.1 (commit {COMMIT}, hand-set answer rules), judged by today's qa eval",
        "judged_with": _judge_version(),
        "gold": os.path.relpath(gold_path, ROOT),
        "gold_sha256": hashlib.sha256(gold_path.read_bytes()).hexdigest(),
        "corpus": os.path.relpath(corpus, ROOT),
        "mode": MODE,
        "k": K,
        "questions": len(gold.questions),
        "kinds": dict(sorted(kinds.items())),
        "headline": headline,
        "metrics": {k: None if v is None else round(v, 4) for k, v in values.items()},
    }


def _judge_version() -> str:
    """This checkout's commit, marked when src/qa/evaluation/ differs from it."""

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", "-C", str(ROOT), *args], capture_output=True, text=True
        ).stdout.strip()

    head = git("rev-parse", "--short", "HEAD") or "unknown"
    dirty = git("status", "--porcelain", "--", "src/qa/evaluation")
    return f"{head} (src/qa/evaluation modified)" if dirty else head


def print_table(name: str, result: dict[str, Any]) -> None:
    kinds = ", ".join(f"{kind} {n}" for kind, n in result["kinds"].items())
    print(f"\n{name}: {result['gold']} over {result['corpus']}/ ({result['questions']}: {kinds})")
    print(f"  {'metric':<26} {'value':>6}  {'95% Wilson':<15} {'k/n':>9}")
    for metric, figure in result["headline"].items():
        low, high = figure["wilson95"]
        print(
            f"  {metric:<26} {figure['value']:>6.3f}  [{low:.3f}, {high:.3f}]  "
            f"{figure['successes']:>4}/{figure['n']:<4}"
        )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("gold", type=Path, help="a gold JSONL file")
    parser.add_argument("--corpus", type=Path, required=True, help="the corpus folder")
    parser.add_argument("--name", help="names the index, answers and docs/rules_baseline JSON")
    parser.add_argument("--worktree", type=Path, default=WORKTREE, help=f"a checkout of {COMMIT}")
    parser.add_argument(
        "--answers", type=Path, help="qa 0.1's answers, JSONL (default /tmp/qa01-index/NAME/)"
    )
    parser.add_argument(
        "--reuse", action="store_true", help="judge existing --answers without asking again"
    )
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--index-dir", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    gold, corpus = args.gold.resolve(), args.corpus.resolve()
    if args.worker:
        worker(gold, corpus, args.index_dir, args.answers)
        return
    if not args.name:
        parser.error("--name is required")
    answers = (args.answers or INDEX_ROOT / args.name / "answers.jsonl").resolve()
    if not args.reuse:
        answers.parent.mkdir(parents=True, exist_ok=True)
        run_worker(gold, corpus, args.name, args.worktree.resolve(), answers)
    result = judge_all(gold, corpus, answers)
    print_table(args.name, result)
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    out = OUT_DIR / f"{args.name}.json"
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"\nWrote {os.path.relpath(out, ROOT)}.")


if __name__ == "__main__":
    main()
