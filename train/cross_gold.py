"""Write the cross-domain test files: each domain's test questions asked of the other's corpus.

    python train/cross_gold.py

A question written for one corpus is a certain off-corpus question for another, and it
reads like what users type by mistake. The files keep the test side apart: they hold
test questions only, so nothing in them is learned from (the training script makes its
own cross questions from the train and dev files).

- data/squad/cross_test.jsonl: the SQuAD test questions, asked of the news corpus/;
- tests/gold/cross_test.jsonl: the news test questions, asked of data/squad/articles/.
"""

from __future__ import annotations

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAIRS = {
    ROOT / "data/squad/test.jsonl": ROOT / "data/squad/cross_test.jsonl",
    ROOT / "tests/gold/test.jsonl": ROOT / "tests/gold/cross_test.jsonl",
}


def main() -> None:
    for source, target in PAIRS.items():
        lines = [json.loads(line) for line in open(source, encoding="utf-8") if line.strip()]
        with open(target, "w", encoding="utf-8") as f:
            for item in lines:
                cross = {"id": f"cross-{item['id']}", "question": item["question"], "answers": []}
                f.write(json.dumps({**cross, "kind": "cross"}, ensure_ascii=False) + "\n")
        print(f"{target.relative_to(ROOT)}: {len(lines)} questions")


if __name__ == "__main__":
    main()
