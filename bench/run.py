"""The benchmark of issue #6 ("Speed and scale"): `make bench` runs `.venv/bin/python bench/run.py`.

Measures, on this machine:
  this corpus    `qa ask` in a fresh process against the floor (import sentence-transformers,
                 load the model, encode one question), interleaved; `qa --help`; one
                 question inside a warm process, split by stage
  indexing       build_index against model.encode alone on the same passages (interleaved);
                 re-indexing after one document of 1,000 changed
  scale          synthetic corpora of 10,000 and 100,000 passages: BM25 (SparseBM25 vs
                 rank-bm25, interleaved), FAISS (the configured index vs exact, interleaved,
                 with recall@10), end to end without the question's embedding, peak memory,
                 index size on disk, load time; exact vs HNSW across sizes

and writes the results into docs/BENCHMARKS.md (between its generated-block markers) and
bench/cache/results.json. A full run takes 7-12 minutes on 2 cores (depending on what
else the machine runs), the first one a few more while it caches real passage embeddings
under bench/cache/ (git-ignored).

    python bench/run.py                 full run, updates docs/BENCHMARKS.md
    python bench/run.py --quick         tiny sizes, under a minute: checks that it all runs
                                        (`make bench-smoke` runs it and checks its results)
    python bench/run.py --sections scale,bm25 --sizes 10000 --no-doc
    python bench/run.py --from-results bench/cache/results.json   re-render the doc only

The 1,000,000-passage figures (issue #11) take runs of their own, merged into the
results of the full run (each under 15 minutes on 2 cores; building that corpus's index
takes 8 of them):

    python bench/run.py --sections scale,bm25 --sizes 1000000 --merge bench/cache/results.json
    python bench/run.py --sections sweep,ivfpq --sizes 1000000 --sweep-sizes 1000000 \
        --merge bench/cache/results.json
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

# Run as a script (`python bench/run.py`), the project root is not on sys.path.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common, data, report  # noqa: E402

DOC = data.ROOT / "docs" / "BENCHMARKS.md"
SECTIONS = ("startup", "stages", "indexing", "reindex", "scale", "bm25", "sweep")
# Run only when named in --sections: IVF-PQ (alone and re-ranked) at the largest size.
EXTRA_SECTIONS = ("ivfpq",)


def parameters(quick: bool) -> dict[str, Any]:
    """How much each section does: the full run, or a smoke test on tiny sizes."""
    if quick:
        return {
            "ask_rounds": 0,
            "help_runs": 2,
            "stage_questions": 2,
            "stage_rounds": 1,
            "index_documents": 3,
            "index_rounds": 1,
            "reindex_documents": 6,
            "sizes": [2000],
            "threshold": 1000,
            "serve_rounds": 1,
            "serve_queries": 20,
            "loads": 1,
            "bm25_queries": {2000: (5, 1)},
            "sweep_sizes": [1000, 2000],
            "sweep_queries": 20,
            "ef": "64",
            "base_passages": 16,
            "cache": False,
        }
    return {
        "ask_rounds": 8,
        "help_runs": 15,
        "stage_questions": 100,
        "stage_rounds": 2,
        "index_documents": 100,
        "index_rounds": 5,
        "reindex_documents": 1000,
        "sizes": [10_000, 100_000],
        "threshold": None,
        "serve_rounds": 3,
        "serve_queries": 200,
        "loads": 5,
        # rank-bm25 takes about 2 s a query at 1,000,000 passages.
        "bm25_queries": {10_000: (50, 2), 100_000: (20, 1), 1_000_000: (5, 1)},
        "sweep_sizes": [5_000, 10_000, 20_000, 50_000, 100_000],
        "sweep_queries": 200,
        "ef": "32,64,96,128",
        "base_passages": 3000,
        "cache": True,
    }


def merge(earlier: dict[str, Any], later: dict[str, Any]) -> dict[str, Any]:
    """`earlier` results with `later` ones laid over: per corpus size for scale, bm25 and
    the sweep's rows, whole sections otherwise. The header then names both commands."""
    merged = {**earlier, **later}
    for key in ("scale", "bm25"):
        if key in earlier and key in later:
            merged[key] = {**earlier[key], **later[key]}
    if "sweep" in earlier and "sweep" in later:
        rows = {r["size"]: r for r in earlier["sweep"]["rows"] + later["sweep"]["rows"]}
        merged["sweep"] = {**later["sweep"], "rows": [rows[size] for size in sorted(rows)]}
    merged["command"] = f"{earlier['command']}, then {later['command']}"
    merged["minutes"] = earlier.get("minutes", 0.0) + later["minutes"]
    first = earlier["load_before"]
    merged["load_before"] = first if first.endswith("(first run)") else f"{first} (first run)"
    errors = {**earlier.get("errors", {}), **later.get("errors", {})}
    for name in later:
        if name in SECTIONS + EXTRA_SECTIONS and name not in later.get("errors", {}):
            errors.pop(name, None)
    merged.pop("errors", None)
    if errors:
        merged["errors"] = errors
    return merged


def worker(*args: str) -> dict[str, Any]:
    """Run one bench/scale.py job in its own process; its JSON result."""
    done = subprocess.run(
        [sys.executable, "-m", "bench.scale", *args], cwd=data.ROOT, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise RuntimeError(f"bench/scale.py {' '.join(args)} failed:\n{done.stderr[-4000:]}")
    return json.loads(done.stdout)


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="bench/run.py", description="The qa benchmark (issue #6)."
    )
    parser.add_argument("--quick", action="store_true", help="tiny sizes: a smoke test in seconds")
    parser.add_argument(
        "--sections",
        default=",".join(SECTIONS),
        help=f"comma-separated, of {', '.join(SECTIONS + EXTRA_SECTIONS)}",
    )
    parser.add_argument(
        "--sizes", default=None, help="synthetic corpus sizes in passages (default 10000,100000)"
    )
    parser.add_argument(
        "--output", type=Path, default=None, help="folder for results.json and report.md"
    )
    parser.add_argument(
        "--corpus-index",
        type=Path,
        default=None,
        help="an index of corpus/ to use (default: build one in a temporary folder)",
    )
    parser.add_argument(
        "--sweep-sizes", default=None, help="sizes for the sweep section (default 5000-100000)"
    )
    parser.add_argument(
        "--merge",
        type=Path,
        default=None,
        help="merge this run into that results.json (per size for scale and bm25) and render "
        "the doc from the merged results: the 1,000,000-passage figures take their own run",
    )
    parser.add_argument("--no-doc", action="store_true", help="do not update docs/BENCHMARKS.md")
    parser.add_argument(
        "--from-results",
        type=Path,
        default=None,
        help="measure nothing: render this results.json into docs/BENCHMARKS.md",
    )
    args = parser.parse_args(argv)
    sections = [s for s in args.sections.split(",") if s]
    unknown = set(sections) - set(SECTIONS + EXTRA_SECTIONS)
    if unknown:
        parser.error(f"unknown sections: {', '.join(sorted(unknown))}")
    if args.from_results:
        generated = report.render(json.loads(args.from_results.read_text()))
        if not args.no_doc:
            report.write_into(DOC, generated)
        print(generated)
        return 0
    p = parameters(args.quick)
    if args.sizes:
        p["sizes"] = [int(s) for s in args.sizes.split(",")]
    if args.sweep_sizes:
        p["sweep_sizes"] = [int(s) for s in args.sweep_sizes.split(",")]
    write_doc = not (args.quick or args.no_doc)
    started = time.perf_counter()
    work = Path(tempfile.mkdtemp(prefix="qa-bench-"))
    results: dict[str, Any] = {
        "machine": common.machine(),
        "load_before": ", ".join(f"{x:.1f}" for x in os.getloadavg()),
        "command": "python bench/run.py"
        + (" " + " ".join(argv if argv is not None else sys.argv[1:])).rstrip(),
        "parameters": {k: v for k, v in p.items() if k != "bm25_queries"},
    }
    try:
        run_sections(sections, p, work, results, args.corpus_index)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    results["load_after"] = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    results["minutes"] = (time.perf_counter() - started) / 60
    if args.merge is not None and args.merge.is_file():
        results = merge(json.loads(args.merge.read_text()), results)
    generated = report.render(results)

    output = args.output or (None if args.quick else data.CACHE)
    if output is not None:
        output.mkdir(parents=True, exist_ok=True)
        (output / "results.json").write_text(json.dumps(results, indent=1))
        (output / "report.md").write_text(generated)
    if write_doc:
        report.write_into(DOC, generated)
        log("wrote docs/BENCHMARKS.md")
    print(generated)
    return 1 if results.get("errors") else 0


def run_sections(
    sections: list[str],
    p: dict[str, Any],
    work: Path,
    results: dict[str, Any],
    corpus_index: Path | None,
) -> None:
    """Run the chosen sections into `results`. A section that fails is recorded under
    results["errors"] and the others still run: one broken stage should not cost the
    other ten minutes of measurements."""
    from bench import indexing, startup

    corpus_index = corpus_index or work / "corpus-index"
    base_path = work / "base.npy"
    cache_flag = [] if p["cache"] else ["--no-cache"]

    def open_corpus_index() -> None:
        from qa.config import Settings
        from qa.engine import QA

        settings = Settings(corpus_dir=data.CORPUS, index_dir=corpus_index)
        QA.open(settings, log=lambda message: None, progress=False)

    def base_vectors() -> None:
        import numpy as np

        from qa.config import Settings
        from qa.encoder.embedding import Embedder

        embedder = Embedder(Settings().model_path())
        base = data.base_embeddings(p["base_passages"], embedder.encode, embedder.name, p["cache"])
        np.save(base_path, base, allow_pickle=False)

    def scale() -> dict[str, Any]:
        out = {}
        for size in p["sizes"]:
            target = work / f"index-{size}"
            threshold = [] if p["threshold"] is None else ["--threshold", str(p["threshold"])]
            log(f"scale {size:,}: build")
            built = worker(
                "build", "--size", str(size), "--dir", str(target), "--base", str(base_path),
                "--queries", str(p["serve_queries"]), *threshold, *cache_flag,
            )  # fmt: skip
            log(f"scale {size:,}: serve")
            served = worker(
                "serve", "--dir", str(target),
                "--rounds", str(p["serve_rounds"]), "--loads", str(p["loads"]),
            )  # fmt: skip
            out[str(size)] = {"build": built, "serve": served}
            shutil.rmtree(target, ignore_errors=True)
        return out

    def bm25() -> dict[str, Any]:
        out = {}
        for size in p["sizes"]:
            queries, rounds = p["bm25_queries"].get(size, (20, 1))
            log(f"bm25 {size:,}: SparseBM25 vs rank-bm25")
            out[str(size)] = worker(
                "rankbm25", "--size", str(size), "--queries", str(queries), "--rounds", str(rounds)
            )
        return out

    def ivfpq() -> dict[str, Any]:
        size = max(p["sizes"])
        log(f"IVF-PQ {size:,}")
        return worker(
            "ivfpq", "--size", str(size), "--base", str(base_path),
            "--queries", str(p["sweep_queries"]), *cache_flag,
        )  # fmt: skip

    def sweep() -> dict[str, Any]:
        return worker(
            "sweep", "--sizes", ",".join(str(s) for s in p["sweep_sizes"]),
            "--base", str(base_path), "--queries", str(p["sweep_queries"]), "--ef", p["ef"],
            *cache_flag,
        )  # fmt: skip

    steps: list[tuple[str, str, Callable[[], Any], str]] = [
        ("corpus", "this corpus: index", open_corpus_index, ""),
        ("startup", "this corpus: fresh processes", lambda: startup.fresh_process(
            corpus_index, p["ask_rounds"], p["help_runs"]), "startup"),
        ("stages", "this corpus: stages in a warm process", lambda: startup.warm_stages(
            corpus_index, p["stage_questions"], p["stage_rounds"]), "stages"),
        ("indexing", "indexing: build_index vs model.encode", lambda: indexing.throughput(
            p["index_documents"], p["index_rounds"]), "indexing"),
        ("reindex", "indexing: re-index after one changed document", lambda: indexing.reindex(
            p["reindex_documents"], work, cache=p["cache"]), "reindex"),
        ("base", f"real passage embeddings ({p['base_passages']})", base_vectors, ""),
        ("scale", "scale", scale, "scale"),
        ("bm25", "bm25", bm25, "bm25"),
        ("sweep", "FAISS: exact vs HNSW by size", sweep, "sweep"),
        ("ivfpq", "FAISS: IVF-PQ", ivfpq, "ivfpq"),
    ]  # fmt: skip
    wanted = set(sections)
    if wanted & {"startup", "stages"}:
        wanted.add("corpus")
    if wanted & {"scale", "sweep", "ivfpq"}:
        wanted.add("base")
    for name, message, step, key in steps:
        if name not in wanted:
            continue
        log(message)
        try:
            value = step()
        except Exception:  # noqa: BLE001 - recorded and reported; the other sections go on
            results.setdefault("errors", {})[name] = traceback.format_exc()
            log(f"{name} failed:\n{results['errors'][name]}")
            continue
        if key:
            results[key] = value


if __name__ == "__main__":
    sys.exit(main())
