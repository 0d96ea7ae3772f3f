"""Check the typed-question domain (data/typed/): format, answers, splits, overlap.

    python train/check_typed.py            # exit 1 on any error; writes nothing
    python train/check_typed.py --write    # also writes data/typed/overlap_check.txt

Checks, for data/typed/{train,dev,test}.jsonl:

- every line is JSON with a unique `id`, a `question`, `answers` and a `kind` in
  answerable / near_miss / off_corpus; answerable lines have answers, the others none;
  answerable and near-miss lines name `doc` and `file`, off-corpus lines neither;
- each split asks only about its own articles (the SQuAD domain's split by article),
  never about the 8 articles held out by the project's owners;
- every answer is a case-insensitive, whitespace-collapsed substring (curly quotes
  folded to straight) of its article file AND of the text `qa.load_documents` gives
  for it; answers that also occur in another article are listed as warnings;
- at least a third of each split is unanswerable, with both kinds present;
- overlap (content-word Jaccard of train/check_splits.py, limit 0.6): no typed test
  question against any question trained or tuned on (typed, SQuAD, news and, where
  they exist, manuals train + dev), and no typed train/dev question against the SQuAD
  or news test questions (that would move test wording into training).
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "train"))

from check_splits import LIMIT, leaks, read  # noqa: E402

TYPED = ROOT / "data" / "typed"
ARTICLES = ROOT / "data" / "squad" / "articles"
SPLITS = {
    "train": {"Normans", "Huguenot", "1973_oil_crisis", "Packet_switching", "Yuan_dynasty"},
    "dev": {"Scottish_Parliament"},
    "test": {"Imperialism", "French_and_Indian_War"},
}
HELD_OUT = {
    "Computational_complexity_theory",
    "Steam_engine",
    "European_Union_law",
    "Harvard_University",
    "Immune_system",
    "Islamism",
    "Warsaw",
    "Force",
}
KINDS = ("answerable", "near_miss", "off_corpus")


def fold(text: str) -> str:
    text = text.replace("\u2019", "'").replace("\u2018", "'").replace("\u201c", '"')
    text = text.replace("\u201d", '"')
    return re.sub(r"\s+", " ", text).lower()


def learned_paths() -> list[Path]:
    paths = [
        TYPED / "train.jsonl",
        TYPED / "dev.jsonl",
        ROOT / "data" / "squad" / "train.jsonl",
        ROOT / "data" / "squad" / "dev.jsonl",
        ROOT / "tests" / "gold" / "train.jsonl",
        ROOT / "tests" / "gold" / "dev.jsonl",
    ]
    manuals = ROOT / "data" / "manuals"
    paths += [manuals / f"{s}.jsonl" for s in ("train", "dev") if (manuals / f"{s}.jsonl").exists()]
    return paths


def reported_paths() -> list[Path]:
    paths = [ROOT / "data" / "squad" / "test.jsonl", ROOT / "tests" / "gold" / "test.jsonl"]
    manuals = ROOT / "data" / "manuals" / "test.jsonl"
    return paths + ([manuals] if manuals.exists() else [])


def overlap_report() -> tuple[list[str], int]:
    lines: list[str] = []
    bad = 0
    typed_test = read([TYPED / "test.jsonl"])
    typed_learned = read([TYPED / "train.jsonl", TYPED / "dev.jsonl"])
    checks = [
        ("typed test", typed_test, "every train/dev file of every domain", learned_paths()),
        ("typed train+dev", typed_learned, "every test file of every domain", reported_paths()),
    ]
    for name, items, against, paths in checks:
        others = read(paths)
        found = leaks(items, others, LIMIT)
        best = leaks(items, others, 0.0)  # the closest question for every item
        top = max((s for s, _, _ in best), default=0.0)
        lines.append(f"== {name} ({len(items)} questions) against {against}:")
        lines += [f"   {p.relative_to(ROOT)}" for p in paths]
        lines.append(
            f"   {len(others)} questions compared; {len(found)} pairs with a content-word "
            f"Jaccard of {LIMIT} or more; highest Jaccard {top:.2f}"
        )
        for score, item, other in sorted(found, key=lambda t: -t[0]):
            lines.append(f"   LEAK {score:.2f}  {item['id']}: {item['question']}")
            lines.append(f"              {other['id']}: {other['question']}")
        closest = sorted(best, key=lambda t: -t[0])[:5]
        lines.append("   closest pairs:")
        for score, item, other in closest:
            lines.append(
                f"   {score:.2f}  {item['id']}: {item['question']}  <->  "
                f"{other['id']}: {other['question']}"
            )
        bad += len(found)
    return lines, bad


def main() -> int:
    from qa import load_documents

    docs, _ = load_documents(str(ARTICLES))
    loaded = {d.id: fold(d.text) for d in docs}
    raw = {p.name: fold(p.read_text(encoding="utf-8")) for p in ARTICLES.glob("*.txt")}
    errors: list[str] = []
    warnings: list[str] = []
    ids: set[str] = set()
    table = []
    for split, allowed in SPLITS.items():
        items = read([TYPED / f"{split}.jsonl"])
        kinds = Counter(item.get("kind") for item in items)
        per_doc = Counter((item.get("doc"), item.get("kind")) for item in items)
        for item in items:
            iid = item.get("id", "?")
            if iid in ids:
                errors.append(f"{iid}: duplicate id")
            ids.add(iid)
            if not item.get("question", "").strip():
                errors.append(f"{iid}: empty question")
            kind, answers = item.get("kind"), item.get("answers")
            if kind not in KINDS:
                errors.append(f"{iid}: kind {kind!r}")
                continue
            if not isinstance(answers, list) or (kind == "answerable") != bool(answers):
                errors.append(f"{iid}: answers {answers!r} do not fit kind {kind}")
            if kind == "off_corpus":
                if "doc" in item or "file" in item:
                    errors.append(f"{iid}: off_corpus with doc/file")
                continue
            doc, file = item.get("doc"), item.get("file")
            if doc in HELD_OUT or doc not in allowed:
                errors.append(f"{iid}: doc {doc!r} not allowed in {split}")
            if file not in raw or file[4:-4] != doc:
                errors.append(f"{iid}: file {file!r} does not match doc {doc!r}")
                continue
            for answer in answers or []:
                a = fold(answer)
                if a not in raw[file]:
                    errors.append(f"{iid}: answer {answer!r} not in {file}")
                if a not in loaded.get(file[:-4], ""):
                    errors.append(f"{iid}: answer {answer!r} not in qa's loaded text of {file}")
                elsewhere = [f for f, t in raw.items() if f != file and a in t]
                if elsewhere:
                    where = ", ".join(sorted(elsewhere))
                    warnings.append(f"{iid}: answer {answer!r} also in {where}")
        unanswerable = kinds["near_miss"] + kinds["off_corpus"]
        if unanswerable * 3 < len(items) or not kinds["near_miss"] or not kinds["off_corpus"]:
            errors.append(f"{split}: {unanswerable}/{len(items)} unanswerable ({dict(kinds)})")
        table.append((split, len(items), kinds, per_doc))

    print("| split | total | answerable | near_miss | off_corpus |")
    print("|-------|------:|-----------:|----------:|-----------:|")
    for split, n, kinds, _ in table:
        counts = " | ".join(str(kinds[k]) for k in KINDS)
        print(f"| {split} | {n} | {counts} |")
    for split, _, _, per_doc in table:
        docs_here = sorted({d for d, _ in per_doc if d})
        parts = [
            f"{d} {per_doc[(d, 'answerable')]} answerable / {per_doc[(d, 'near_miss')]} near miss"
            for d in docs_here
        ]
        print(f"{split}: " + "; ".join(parts))

    lines, leaked = overlap_report()
    print("\n".join(lines))
    if "--write" in sys.argv:
        (TYPED / "overlap_check.txt").write_text(
            "python train/check_typed.py --write (content-word Jaccard, train/check_splits.py)\n\n"
            + "\n".join(lines)
            + "\n",
            encoding="utf-8",
        )
    if leaked:
        errors.append(f"{leaked} overlapping pairs (Jaccard >= {LIMIT})")
    for w in warnings:
        print("warning:", w)
    for e in errors:
        print("ERROR:", e)
    print(f"{len(ids)} questions, {len(errors)} errors, {len(warnings)} warnings")
    return 1 if errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
