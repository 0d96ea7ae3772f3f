"""Group the failures of a `qa eval --out` results file by cause (for docs/EVAL.md).

    python train/failure_causes.py GOLD.jsonl RESULTS.jsonl

Causes, for answerable questions: abstained; answer not in the top 5 passages (retrieval);
the answer's passage was cited but another sentence of it quoted; a sentence of another
passage quoted (each "hedged" when the wrong sentence came as a hedge); right but hedged.
For unanswerable ones: answered, or hedged, per `kind`.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from qa.evaluation.judge import contains_answer  # noqa: E402


def causes(gold_path: Path, results_path: Path) -> Counter[str]:
    gold = {}
    for line in gold_path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            item = json.loads(line)
            gold[item["id"]] = item
    counted: Counter[str] = Counter()
    for line in results_path.read_text(encoding="utf-8").splitlines():
        result = json.loads(line)
        item = gold[result["id"]]
        answers = item["answers"]
        hedged = result.get("hedged", False)
        if not answers:
            if not result["abstained"]:
                how = "hedged" if hedged else "answered"
                counted[f"{how}, though unanswerable ({item.get('kind', 'unanswerable')})"] += 1
            continue
        if contains_answer(result["answer"], answers):
            if hedged:
                counted["right sentence, but hedged"] += 1
            continue
        top5 = result["passages"][:5]
        if result["abstained"]:
            counted["abstained, though answerable"] += 1
        else:
            wrong = "wrong (hedged)" if hedged else "wrong"
            if not any(contains_answer(p["text"], answers) for p in top5):
                counted[f"{wrong}: no top-5 passage holds the answer (retrieval)"] += 1
            elif contains_answer(top5[0]["text"], answers):
                counted[
                    f"{wrong}: the answering passage is cited first, another sentence quoted"
                ] += 1
            else:
                counted[f"{wrong}: a sentence of another passage quoted"] += 1
    return counted


if __name__ == "__main__":
    for cause, n in causes(Path(sys.argv[1]), Path(sys.argv[2])).most_common():
        print(f"{n:5d}  {cause}")
