"""The answer step's output, kept and compared: a refactor that must not change what the
answer model sees or says is checked by snapshotting before and comparing after.

    .venv/bin/python bench/answer_snapshot.py save /tmp/before.pkl
    ... change the code ...
    .venv/bin/python bench/answer_snapshot.py compare /tmp/before.pkl

Asks the news dev and test questions of corpus/ and the first 500 SQuAD dev questions of
data/squad/articles/, keeping for each: the answer, citations, confidence, hedge, the
question's feature row and every candidate's feature row. `compare` prints what differs
and the largest feature difference; it exits 1 when anything does.
"""

from __future__ import annotations

import json
import pickle
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from qa.answer.features import read_pool  # noqa: E402
from qa.config import Settings  # noqa: E402
from qa.engine import QA  # noqa: E402
from qa.process import configure_process  # noqa: E402
from qa.search.retrieve import search  # noqa: E402

SETS = (
    ("corpus", ("tests/gold/dev.jsonl", "tests/gold/test.jsonl"), None),
    ("data/squad/articles", ("data/squad/dev.jsonl",), 500),
)


def snapshot() -> dict:
    found = {}
    for corpus, files, limit in SETS:
        qa = QA.open(Settings.from_env(corpus_dir=ROOT / corpus), progress=False)
        questions = [
            json.loads(line)["question"]
            for name in files
            for line in open(ROOT / name, encoding="utf-8")
            if line.strip()
        ][:limit]
        depth = max(qa.settings.k, qa.settings.answer_passages)
        for question in questions:
            answer = qa.ask(question)
            analysed = qa.analyze(answer.searched)
            hits = search(qa.index, analysed, qa.settings, depth, qa.settings.mode)
            pool = read_pool(
                analysed, hits[: qa.settings.answer_passages], qa.index.documents, qa.embedder.read
            )
            found[(corpus, question)] = {
                "answer": (answer.text, answer.abstained, answer.hedged, answer.searched),
                "citations": [(c.hit.chunk.id, c.answer_span) for c in answer.citations],
                "confidence": answer.confidence,
                "row": dict(answer.features),
                "candidates": pool.matrix,
            }
    return found


def compare(before: dict, after: dict) -> int:
    differ, largest = 0, 0.0
    for key, old in before.items():
        new = after.get(key)
        if new is None or old["answer"] != new["answer"] or old["citations"] != new["citations"]:
            differ += 1
            print("differs:", key, old["answer"][0], "|", new and new["answer"][0])
            continue
        if old["candidates"].shape != new["candidates"].shape:
            differ += 1
            print("other candidates:", key)
            continue
        largest = max(
            largest,
            abs(old["confidence"] - new["confidence"]),
            float(np.abs(old["candidates"] - new["candidates"]).max(initial=0.0)),
            max((abs(v - new["row"].get(n, np.inf)) for n, v in old["row"].items()), default=0.0),
        )
    print(
        f"{len(before)} questions, {differ} answers differ, largest feature difference {largest:g}"
    )
    return 1 if differ or largest > 0 else 0


def main() -> int:
    if len(sys.argv) != 3 or sys.argv[1] not in ("save", "compare"):
        print(__doc__.split("\n\n")[1])
        return 2
    configure_process()
    path = Path(sys.argv[2])
    if sys.argv[1] == "save":
        path.write_bytes(pickle.dumps(snapshot()))
        return 0
    return compare(pickle.loads(path.read_bytes()), snapshot())


if __name__ == "__main__":
    sys.exit(main())
