"""Check the manuals gold set (data/manuals/*.jsonl) against the corpus as qa reads it.

    python train/check_manuals.py              # exit 1 on any problem
    python train/check_manuals.py --overlap    # also write data/manuals/overlap_check.txt

- every line has the keys in order and a kind that fits its answers;
- every answerable question has an answer found (case, whitespace and quote style
  ignored) in the text that qa's own loader extracts from the document named by doc_id,
  and `file` is that document's file;
- near misses name a document of the corpus, off-corpus questions name none;
- the splits are by document: no doc_id is in two splits;
- no test question has a content-word Jaccard of 0.6 or more with any question trained or
  tuned on (this set's train and dev, and the other domains' train and dev files), by
  train/check_splits.py's own function.
"""

from __future__ import annotations

import json
import re
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "train"))

from check_splits import LIMIT, leaks, read  # noqa: E402

from qa import load_documents  # noqa: E402

HERE = ROOT / "data" / "manuals"
CORPUS = HERE / "manuals"
SPLITS = ["train", "dev", "test"]
KEYS_ANSWERED = ["id", "question", "answers", "kind", "doc_id", "file"]
KEYS_OFF = ["id", "question", "answers", "kind"]
# What a model learns from or is tuned on, besides this set's train and dev.
OTHER_LEARNED = [
    ROOT / "tests" / "gold" / "train.jsonl",
    ROOT / "tests" / "gold" / "dev.jsonl",
    ROOT / "data" / "squad" / "train.jsonl",
    ROOT / "data" / "squad" / "dev.jsonl",
    ROOT / "data" / "typed" / "train.jsonl",
    ROOT / "data" / "typed" / "dev.jsonl",
]
QUOTES = str.maketrans({"‘": "'", "’": "'", "“": '"', "”": '"'})


def norm(text: str) -> str:
    return re.sub(r"\s+", " ", text.translate(QUOTES)).strip().casefold()


def main(argv: list[str]) -> int:
    problems: list[str] = []
    docs, warnings = load_documents(CORPUS)
    for w in warnings:
        problems.append(f"corpus: {w}")
    text = {d.id: norm(d.text) for d in docs}
    files = {d.id: Path(d.path).relative_to(CORPUS.resolve()).as_posix() for d in docs}
    items: dict[str, list[dict]] = {}
    for split in SPLITS:
        items[split] = [
            json.loads(line) for line in open(HERE / f"{split}.jsonl", encoding="utf-8")
        ]
    seen_ids: set[str] = set()
    owner: dict[str, str] = {}
    for split, lines in items.items():
        for item in lines:
            qid = item.get("id", "?")
            if qid in seen_ids:
                problems.append(f"{qid}: duplicate id")
            seen_ids.add(qid)
            if not qid.startswith(f"man-{split}-"):
                problems.append(f"{qid}: id does not name its split {split}")
            kind = item.get("kind")
            keys = list(item)
            if kind == "off_corpus":
                if keys != KEYS_OFF or item["answers"]:
                    problems.append(f"{qid}: off_corpus lines have keys {KEYS_OFF} and no answers")
                continue
            if keys != KEYS_ANSWERED:
                problems.append(f"{qid}: keys {keys}, expected {KEYS_ANSWERED}")
                continue
            doc = item["doc_id"]
            if doc not in text:
                problems.append(f"{qid}: doc_id {doc} is not in the corpus")
                continue
            if files[doc] != item["file"]:
                problems.append(f"{qid}: file {item['file']} is not {files[doc]}")
            if owner.setdefault(doc, split) != split:
                problems.append(f"{qid}: {doc} is in both {owner[doc]} and {split}")
            if kind == "answerable":
                if not item["answers"]:
                    problems.append(f"{qid}: answerable without answers")
                elif not any(norm(a) in text[doc] for a in item["answers"]):
                    problems.append(
                        f"{qid}: no answer of {item['answers']} in {doc} as qa reads it"
                    )
            elif kind == "near_miss":
                if item["answers"]:
                    problems.append(f"{qid}: near_miss with answers")
            else:
                problems.append(f"{qid}: kind {kind!r}")

    learned = items["train"] + items["dev"] + read(p for p in OTHER_LEARNED if p.exists())
    found = leaks(items["test"], learned)
    report = [
        f"{score:.2f}  {t['id']}: {t['question']}\n      {o['id']}: {o['question']}"
        for score, t, o in sorted(found, key=lambda f: -f[0])
    ]
    compared = [p.relative_to(ROOT).as_posix() for p in OTHER_LEARNED if p.exists()]
    report.append(
        f"{len(items['test'])} test questions (data/manuals/test.jsonl) against {len(learned)} "
        f"learned or tuned on (data/manuals/train.jsonl, data/manuals/dev.jsonl, "
        f"{', '.join(compared)}): {len(found)} with a content-word Jaccard of {LIMIT} or more"
    )
    closest = sorted(leaks(items["test"], learned, limit=0.0), key=lambda f: -f[0])[:3]
    for score, t, o in closest:
        report.append(
            f"closest: {score:.2f}  {t['id']}: {t['question']} | {o['id']}: {o['question']}"
        )
    if found:
        problems.append(f"{len(found)} test questions leak (see above)")
    print("\n".join(report))
    if "--overlap" in argv:
        (HERE / "overlap_check.txt").write_text("\n".join(report) + "\n", encoding="utf-8")

    for split, lines in items.items():
        kinds = Counter(i["kind"] for i in lines)
        print(
            f"{split:5s} {len(lines):4d}  "
            + "  ".join(f"{k} {kinds[k]}" for k in ("answerable", "near_miss", "off_corpus"))
        )
    for p in problems:
        print("PROBLEM:", p)
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
