"""The benchmark's smoke job (`make bench-smoke`), after `bench/run.py --quick --output DIR`:
every section ran, and what the tiny sizes can show holds (the quick sizes pass the HNSW
threshold, SparseBM25 scores as rank-bm25, re-indexing embeds only the changed document).

Kept out of the unit suite: the run builds an index and starts fresh processes (under a
minute on 2 cores), and it checks the benchmark, not the product (tests/ covers that).

    python bench/smoke.py DIR
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

SECTIONS = {"startup", "stages", "indexing", "reindex", "scale", "bm25", "sweep", "machine"}


def problems(results: dict[str, Any], report: str) -> list[str]:
    """What is wrong with a quick run's results.json and report.md (nothing: [])."""
    missing = SECTIONS - set(results)
    if missing:
        return [f"sections missing from results.json: {', '.join(sorted(missing))}"]
    found = []
    if len(results["scale"]) != 1:
        found.append(f"scale ran {len(results['scale'])} sizes, not the quick run's one")
    for size, scale in results["scale"].items():
        if scale["serve"]["kind"] != "hnsw":
            found.append(f"the {size}-passage index is {scale['serve']['kind']!r}, not 'hnsw'")
        if not results["bm25"][size]["max_relative_difference"] < 1e-6:
            found.append(f"SparseBM25 differs from rank-bm25 at {size} passages")
    if not results["reindex"]["embedded_only_changed_document"]:
        found.append("re-indexing embedded more than the changed document")
    if "### Targets" not in report or "SparseBM25" not in report:
        found.append("report.md lacks its targets or its BM25 section")
    return found


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__.rstrip().splitlines()[-1].strip(), file=sys.stderr)
        return 2
    out = Path(argv[0])
    results = json.loads((out / "results.json").read_text())
    found = problems(results, (out / "report.md").read_text())
    for problem in found:
        print(f"bench-smoke: {problem}", file=sys.stderr)
    if not found:
        print("bench-smoke: every section ran and its results hold.", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
