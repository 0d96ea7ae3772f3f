"""Every domain's split, before and after, as one Markdown table with 95% intervals.

    python train/domain_table.py run OUT [--split test]   # qa eval --json of each domain
    python train/domain_table.py table BEFORE AFTER        # the table (docs/EVAL.md)

`run` writes OUT/<domain>-<split>.json, one `qa eval --json` result per domain (news,
SQuAD, manuals, typed), each asked of its own corpus, as `make eval` asks them. A
"before" folder is made the same way from an older checkout (its `src` first on
PYTHONPATH), so both sides are measured by the code of their day on the same questions.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# domain: (gold folder, corpus folder)
DOMAINS = {
    "news": ("tests/gold", "corpus"),
    "squad": ("data/squad", "data/squad/articles"),
    "manuals": ("data/manuals", "data/manuals/manuals"),
    "typed": ("data/typed", "data/squad/articles"),
}
METRICS = (
    ("hit@1", "hit@1"),
    ("hit@5", "hit@5"),
    ("right sentence shown", "sentence_accuracy"),
    ("answered right", "answer_accuracy"),
    ("false abstention", "false_abstention"),
    ("near misses refused", "abstention_near_miss"),
    ("off corpus refused", "abstention_off_corpus"),
    ("answerable hedged", "hedged"),
)


def run(out: Path, split: str) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for domain, (gold, corpus) in DOMAINS.items():
        path = ROOT / gold / f"{split}.jsonl"
        result = subprocess.run(
            [sys.executable, "-m", "qa.cli", "eval", str(path), "--corpus", corpus, "--json"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
        (out / f"{domain}-{split}.json").write_text(result.stdout, encoding="utf-8")
        print(f"{domain} {split}: done", file=sys.stderr)


def _cell(result: dict, key: str) -> str:
    value = result.get(key)
    if value is None:
        return "–"
    low, high = result.get("intervals", {}).get(key, (None, None))
    interval = f" ({low:.2f}-{high:.2f})" if low is not None else ""
    return f"{value:.3f}{interval}"


def table(before: Path, after: Path, split: str) -> str:
    lines = []
    for domain in DOMAINS:
        name = f"{domain}-{split}.json"
        if not (before / name).exists() or not (after / name).exists():
            continue
        old = json.loads((before / name).read_text(encoding="utf-8"))
        new = json.loads((after / name).read_text(encoding="utf-8"))
        lines += [
            f"**{domain} {split}** ({new['questions']} questions, {new['answerable']} answerable)",
            "",
            "| | before | after |",
            "|---|---|---|",
        ]
        lines += [f"| {label} | {_cell(old, key)} | {_cell(new, key)} |" for label, key in METRICS]
        lines.append("")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run")
    r.add_argument("out", type=Path)
    r.add_argument("--split", default="test")
    t = sub.add_parser("table")
    t.add_argument("before", type=Path)
    t.add_argument("after", type=Path)
    t.add_argument("--split", default="test")
    args = parser.parse_args()
    if args.command == "run":
        run(args.out, args.split)
    else:
        print(table(args.before, args.after, args.split))


if __name__ == "__main__":
    main()
