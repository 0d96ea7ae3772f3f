"""No test question may be a reworded training question: check it by content words.

    python train/check_splits.py          # exit 1 and list the pairs when any leak

Every test question (every domain: news, SQuAD, manuals, typed) is compared with every
question a model learns from or a threshold is tuned on (every domain's train and dev
files). Content words are the
lower-cased words of `qa.text.tokenize` (stopwords out, plurals folded); a pair leaks
when their Jaccard is at least LIMIT. The same function is what tests/test_splits.py
asserts, so a leak fails `make test`.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from qa.text import tokenize  # noqa: E402

LIMIT = 0.6
# Each domain's folder of train, dev and test questions.
DOMAINS = [
    ROOT / "tests" / "gold",
    ROOT / "data" / "squad",
    ROOT / "data" / "manuals",
    ROOT / "data" / "typed",
]
# What is learned or tuned on, and what is only reported.
LEARNED = [folder / f"{split}.jsonl" for folder in DOMAINS for split in ("train", "dev")]
REPORTED = [folder / "test.jsonl" for folder in DOMAINS]


def content_words(question: str) -> frozenset[str]:
    return frozenset(tokenize(question))


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / len(a | b) if a | b else 1.0


def read(paths: Iterable[Path]) -> list[dict]:
    return [json.loads(line) for p in paths for line in open(p, encoding="utf-8") if line.strip()]


def leaks(
    test: list[dict], learned: list[dict], limit: float = LIMIT
) -> list[tuple[float, dict, dict]]:
    """(jaccard, test item, learned item) for every test question whose content words
    overlap a learned one's by `limit` or more (its closest such question)."""
    # An inverted index on words: a pair that shares no word has Jaccard 0.
    words = [content_words(item["question"]) for item in learned]
    by_word: dict[str, list[int]] = {}
    for i, w in enumerate(words):
        for token in w:
            by_word.setdefault(token, []).append(i)
    found = []
    for item in test:
        mine = content_words(item["question"])
        near = {i for token in mine for i in by_word.get(token, ())}
        scored = [(jaccard(mine, words[i]), i) for i in near]
        if scored:
            best, i = max(scored)
            if best >= limit:
                found.append((best, item, learned[i]))
    return found


def main() -> int:
    test, learned = read(REPORTED), read(LEARNED)
    found = leaks(test, learned)
    for score, item, other in sorted(found, key=lambda t: -t[0]):
        print(f"{score:.2f}  {item['id']}: {item['question']}")
        print(f"      {other['id']}: {other['question']}")
    print(
        f"{len(test)} test questions against {len(learned)} learned or tuned on: "
        f"{len(found)} with a content-word Jaccard of {LIMIT} or more"
    )
    return 1 if found else 0


if __name__ == "__main__":
    raise SystemExit(main())
