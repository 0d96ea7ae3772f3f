"""Scale benchmark worker: one job per process, so each peak-memory figure is its own.

    python -m bench.scale build    --size N --dir DIR --base BASE.npy   index a synthetic corpus
    python -m bench.scale serve    --dir DIR                            load it, answer questions
    python -m bench.scale rankbm25 --size N                             SparseBM25 vs rank-bm25
    python -m bench.scale sweep    --sizes 10000,100000 --base BASE.npy exact vs HNSW by size
    python -m bench.scale ivfpq    --size N --base BASE.npy             IVF-PQ, alone and refined

Each prints one JSON object on stdout. run.py starts them; they can be run alone too.
The model is never loaded here: passage vectors are mixtures of real passage embeddings
(data.mixture_vectors) and the answer step's sentence encoder is a stub, so the figures
are retrieval and answer composition "excluding the model".
"""

from __future__ import annotations

import argparse
import gc
import json
import re
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench import common, data, stages
from bench.bm25_reference import rank_bm25_reference
from bench.common import index_kind, recall_at_k
from qa.config import Settings
from qa.documents.chunking import Chunk, chunk_document
from qa.index import build as qa_index
from qa.index import build_index, load_index, save_index, scoring_text
from qa.index.bm25 import SparseBM25
from qa.index.vectors import build_vector_index
from qa.search.question import search_terms
from qa.text import tokenize

VECTOR_SEED = 11
QUERY_SEED = 12


class MixtureEmbedder:
    """Stands in for `Embedder` in build_index: the i-th text gets the i-th mixture vector."""

    name = "synthetic-mixtures"
    model_path = Path("synthetic-mixtures")
    dimension = data.DIMENSION
    batch_size = 32

    def __init__(self, base: np.ndarray, cache: bool) -> None:
        self.base, self.cache = base, cache

    def encode(self, texts: list[str], progress: bool = False) -> np.ndarray:
        return data.cached_mixtures(self.base, len(texts), VECTOR_SEED, cache=self.cache)


def stub_reader(dimension: int = data.DIMENSION) -> Any:
    """`Embedder.read` for `compose` that costs next to nothing: fixed unit vectors, one
    fixed token vector per whitespace-separated word, at that word's offsets."""
    from qa.encoder.interface import Reading

    table = np.random.default_rng(5).normal(size=(256, dimension)).astype(np.float32)
    table /= np.linalg.norm(table, axis=1, keepdims=True)

    def read(texts: list[str]) -> list[Reading]:
        out = []
        for n, text in enumerate(texts):
            spans = [(m.start(), m.end()) for m in re.finditer(r"\S+", text)]
            offsets = np.asarray(spans, dtype=np.int64).reshape(-1, 2)
            tokens = table[np.arange(len(spans)) % len(table)].astype(np.float16)
            out.append(Reading(table[n % len(table)], offsets, tokens))
        return out

    return read


def make_questions(chunks: list[Chunk], n: int, seed: int) -> list[str]:
    """Question-like strings: up to five distinct terms of a random passage."""
    rng = np.random.default_rng(seed)
    questions = []
    for i in rng.integers(0, len(chunks), size=n):
        terms = list(dict.fromkeys(tokenize(chunks[int(i)].text)))
        picked = rng.choice(len(terms), size=min(5, len(terms)), replace=False)
        questions.append(" ".join(terms[j] for j in sorted(picked)) + "?")
    return questions


def settings_for(threshold: int | None) -> Settings:
    settings = Settings()
    return settings if threshold is None else settings.replace(ann_threshold=threshold)


def cmd_build(args: argparse.Namespace) -> dict[str, Any]:
    base = np.load(args.base, allow_pickle=False)
    settings = settings_for(args.threshold)
    start = time.perf_counter()
    documents = data.zipf_documents(args.size, seed=args.size)
    generate = time.perf_counter() - start

    clock = {"vector_index": 0.0}
    qa_index.build_vector_index = stages.clocked_function(build_vector_index, clock, "vector_index")
    common.reset_peak()
    before = common.rss_mb()
    start = time.perf_counter()
    index, _ = build_index(documents, settings, MixtureEmbedder(base, cache=not args.no_cache))
    build = time.perf_counter() - start
    build_peak = common.peak_rss_mb()

    target = Path(args.dir)
    start = time.perf_counter()
    save_index(index, target)
    save = time.perf_counter() - start

    questions = make_questions(index.chunks, args.queries, seed=QUERY_SEED)
    vectors = data.mixture_vectors(base, args.queries, seed=QUERY_SEED)
    queries = target.parent / f"{target.name}.queries"
    queries.mkdir(exist_ok=True)
    (queries / "questions.json").write_text(json.dumps(questions))
    np.save(queries / "vectors.npy", vectors, allow_pickle=False)

    n = len(index.chunks)
    return {
        "passages": n,
        "documents": len(documents),
        "words_per_passage": float(np.mean([len(c.text.split()) for c in index.chunks])),
        "vocabulary": len(index.bm25.vocabulary),
        "kind": index_kind(index.vectors),
        "raw_vectors_mb": n * index.dimension * 4 / 2**20,
        "raw_text_mb": sum(len(c.text.encode("utf-8")) for c in index.chunks) / 2**20,
        "generate_s": generate,
        "build_s": build,
        "vector_index_build_s": clock["vector_index"],
        "save_s": save,
        "build_peak_rss_mb": build_peak,
        "build_rss_before_mb": before,
        "disk_mb": common.directory_mb(target),
    }


def cmd_serve(args: argparse.Namespace) -> dict[str, Any]:
    import faiss

    # As engine.QA.open does: one thread answers one question faster here.
    faiss.omp_set_num_threads(1)
    settings = Settings()
    target = Path(args.dir)
    queries = target.parent / f"{target.name}.queries"
    questions = json.loads((queries / "questions.json").read_text())
    vectors = np.load(queries / "vectors.npy", allow_pickle=False)
    read = stub_reader()

    gc.collect()
    baseline = common.rss_mb()
    baseline_file = common.rss_file_mb()
    common.reset_peak()
    start = time.perf_counter()
    index = load_index(target)
    loads = [time.perf_counter() - start]
    loaded = common.rss_mb()
    load_peak = common.peak_rss_mb()

    for q, v in zip(questions[:5], vectors[:5], strict=True):
        stages.ask_by_stage(index, q, v, read, settings)
    samples: dict[str, list[float]] = {}
    for _ in range(args.rounds):
        for q, v in zip(questions, vectors, strict=True):
            timed = stages.ask_by_stage(index, q, v, read, settings)
            for stage, seconds in timed.items():
                samples.setdefault(stage, []).append(seconds)
    serve_peak = common.peak_rss_mb()
    # Pages of the memory-mapped index files (the vectors, bm25.*.npy) count in RSS once
    # touched; this says how much of it they are, after the questions.
    file_backed = common.rss_file_mb()
    raw_mb = (
        len(index.chunks) * index.dimension * 4 / 2**20
        + sum(len(c.text.encode("utf-8")) for c in index.chunks) / 2**20
    )

    faiss_result = _faiss_against_exact(
        index.vectors.faiss, vectors, settings.candidates, args.rounds
    )

    for _ in range(args.loads - 1):
        del index
        gc.collect()
        start = time.perf_counter()
        index = load_index(target)
        loads.append(time.perf_counter() - start)

    return {
        "passages": len(index.chunks),
        "kind": index_kind(index.vectors),
        "stages": {stage: common.summary(values) for stage, values in samples.items()},
        "faiss": faiss_result,
        "load": common.summary(loads),
        "memory": {
            "baseline_rss_mb": baseline,
            "loaded_rss_mb": loaded,
            "load_peak_rss_mb": load_peak,
            "serve_peak_rss_mb": serve_peak,
            "file_backed_over_imports_mb": file_backed - baseline_file,
            "raw_mb": raw_mb,
            "net_loaded_mb": loaded - baseline,
            "net_peak_mb": serve_peak - baseline,
            "ratio_loaded": (loaded - baseline) / raw_mb,
            "ratio_peak": (serve_peak - baseline) / raw_mb,
        },
    }


def _faiss_against_exact(
    vector_index: Any, queries: np.ndarray, depth: int, rounds: int
) -> dict[str, Any]:
    """Search time of `vector_index` at the app's depth, interleaved with exact search of the
    same vectors, and its recall@10 against exact (1.0 by definition for an exact index)."""
    import faiss

    n = vector_index.ntotal
    depth = min(depth, n)
    exact = faiss.IndexFlatIP(vector_index.d)
    exact.add(vector_index.reconstruct_n(0, n))
    queries = np.ascontiguousarray(queries, dtype=np.float32)
    rows = [q.reshape(1, -1) for q in queries]
    times = common.paired(
        {
            "index": lambda q: vector_index.search(q, depth),
            "exact": lambda q: exact.search(q, depth),
        },
        rows,
        rounds,
    )
    _, truth = exact.search(queries, depth)
    _, found_deep = vector_index.search(queries, depth)
    _, found_10 = vector_index.search(queries, min(10, n))
    return {
        "depth": depth,
        "index": common.summary(times["index"]),
        "exact": common.summary(times["exact"]),
        "speedup": common.compare(times["exact"], times["index"]),
        "recall_at_10": recall_at_k(found_deep, truth, 10),
        "recall_at_10_k10": recall_at_k(found_10, truth, 10),
        "recall_at_depth": recall_at_k(found_deep, truth, depth),
    }


def cmd_rankbm25(args: argparse.Namespace) -> dict[str, Any]:
    settings = Settings()
    documents = data.zipf_documents(args.size, seed=args.size)
    pairs = [
        (c, d)
        for d in documents
        for c in chunk_document(d, settings.chunk_words, settings.chunk_overlap)
    ]
    chunks = [c for c, _ in pairs]
    passages = [tokenize(scoring_text(c, d)) for c, d in pairs]
    questions = make_questions(chunks, args.queries, seed=QUERY_SEED)
    terms = [search_terms(q, {}) for q in questions]
    variant, k1, b = settings.bm25_variant, settings.bm25_k1, settings.bm25_b

    # The token lists exist before: the peak over them is SparseBM25.build's own.
    gc.collect()
    before = common.rss_mb()
    common.reset_peak()
    start = time.perf_counter()
    sparse = SparseBM25.build(passages, variant, k1, b)
    sparse_build = time.perf_counter() - start
    sparse_peak = common.peak_rss_mb() - before
    arrays_mb = sum(a.nbytes for a in sparse.to_arrays().values()) / 2**20
    vocabulary_mb = (
        sys.getsizeof(sparse.vocabulary)
        + sum(sys.getsizeof(t) + sys.getsizeof(i) for t, i in sparse.vocabulary.items())
    ) / 2**20
    gc.collect()
    before = common.rss_mb()
    start = time.perf_counter()
    reference = rank_bm25_reference(passages, variant, k1, b)
    reference_build = time.perf_counter() - start
    reference_mb = common.rss_mb() - before

    # SparseBM25 stores its weights as float32: the difference scales with the scores, so
    # it is reported relative to each query's top score as well.
    differences = []
    for t in terms[:3]:
        expected = reference.get_scores(t)
        difference = float(np.max(np.abs(expected - sparse.scores(t))))
        differences.append((difference, float(np.max(np.abs(expected)))))
    times = common.paired(
        {"sparse": sparse.scores, "rank_bm25": reference.get_scores}, terms, args.rounds
    )
    return {
        "passages": len(chunks),
        "variant": variant,
        "sparse": common.summary(times["sparse"]),
        "rank_bm25": common.summary(times["rank_bm25"]),
        "speedup": common.compare(times["rank_bm25"], times["sparse"]),
        "max_abs_difference": max(d for d, _ in differences),
        "max_relative_difference": max(d / top if top else d for d, top in differences),
        "sparse_build_s": sparse_build,
        "sparse_build_peak_mb": sparse_peak,
        "sparse_arrays_mb": arrays_mb,
        "sparse_vocabulary_mb": vocabulary_mb,
        "sparse_build_peak_ratio": sparse_peak / arrays_mb if arrays_mb else float("nan"),
        "rank_bm25_build_s": reference_build,
        "rank_bm25_rss_mb": reference_mb,
    }


def cmd_sweep(args: argparse.Namespace) -> dict[str, Any]:
    import faiss

    base = np.load(args.base, allow_pickle=False)
    sizes = [int(s) for s in args.sizes.split(",")]
    efs = [int(e) for e in args.ef.split(",")]
    settings = Settings()
    vectors = data.cached_mixtures(base, max(sizes), VECTOR_SEED, cache=not args.no_cache)
    queries = data.mixture_vectors(base, args.queries, seed=QUERY_SEED)
    depth = settings.candidates
    threads = faiss.omp_get_max_threads()
    rows = []
    for n in sizes:
        x = vectors[:n]
        faiss.omp_set_num_threads(threads)
        start = time.perf_counter()
        # The FAISS indexes themselves: the sweep times FAISS, batch by batch.
        hnsw = build_vector_index(x, settings.replace(ann_threshold=0)).faiss
        build = time.perf_counter() - start
        faiss.omp_set_num_threads(1)
        flat = build_vector_index(x, settings.replace(ann_threshold=n)).faiss
        _, truth = flat.search(queries, depth)
        rows_q = [q.reshape(1, -1) for q in queries]
        times = common.paired(
            {
                "exact": lambda q, f=flat: f.search(q, depth),
                "hnsw": lambda q, h=hnsw: h.search(q, depth),
            },
            rows_q,
        )
        by_ef = []
        for ef in efs:
            hnsw.hnsw.efSearch = ef
            ef_times = common.paired({"hnsw": lambda q, h=hnsw: h.search(q, depth)}, rows_q)["hnsw"]
            _, found = hnsw.search(queries, depth)
            _, found_10 = hnsw.search(queries, 10)
            by_ef.append(
                {
                    "ef_search": ef,
                    "time": common.summary(ef_times),
                    "recall_at_10": recall_at_k(found, truth, 10),
                    "recall_at_10_k10": recall_at_k(found_10, truth, 10),
                }
            )
        hnsw.hnsw.efSearch = settings.hnsw_ef_search
        _, found = hnsw.search(queries, depth)
        rows.append(
            {
                "size": n,
                "exact": common.summary(times["exact"]),
                "hnsw": common.summary(times["hnsw"]),
                "speedup": common.compare(times["exact"], times["hnsw"]),
                "hnsw_build_s": build,
                "hnsw_build_threads": threads,
                "recall_at_10": recall_at_k(found, truth, 10),
                "by_ef_search": by_ef,
            }
        )
    return {
        "depth": depth,
        "queries": args.queries,
        "hnsw_m": settings.hnsw_m,
        "hnsw_ef_construction": settings.hnsw_ef_construction,
        "hnsw_ef_search": settings.hnsw_ef_search,
        "hnsw_storage": settings.hnsw_storage,
        "rows": rows,
    }


def cmd_ivfpq(args: argparse.Namespace) -> dict[str, Any]:
    """IVF with product quantization, the alternative to HNSW where memory is short:
    alone (PQ codes only) and re-ranked by float16 copies of the vectors (IndexRefine),
    at several nprobe, against exact search, with the index's size in memory."""
    import faiss

    base = np.load(args.base, allow_pickle=False)
    n = args.size
    nlist = max(1, min(args.nlist, n // 39))  # faiss wants 39 training vectors a list
    vectors = data.cached_mixtures(base, n, VECTOR_SEED, cache=not args.no_cache)
    queries = data.mixture_vectors(base, args.queries, seed=QUERY_SEED)
    depth = Settings().candidates
    dimension = vectors.shape[1]
    metric = faiss.METRIC_INNER_PRODUCT
    exact = faiss.IndexFlatIP(dimension)
    exact.add(vectors)
    _, truth = exact.search(queries, depth)
    del exact
    rows_q = [q.reshape(1, -1) for q in queries]
    train = vectors[np.random.default_rng(3).choice(n, size=min(n, 40 * nlist), replace=False)]
    out: dict[str, Any] = {
        "size": n,
        "nlist": nlist,
        "pq_m": args.pq_m,
        "queries": args.queries,
        "depth": depth,
        "variants": [],
    }
    start = time.perf_counter()
    ivfpq = faiss.IndexIVFPQ(faiss.IndexFlatIP(dimension), dimension, nlist, args.pq_m, 8, metric)
    ivfpq.train(train)
    ivfpq.add(vectors)
    build = time.perf_counter() - start
    fp16: Any = faiss.ScalarQuantizer.QT_fp16
    start = time.perf_counter()
    refine_store = faiss.IndexScalarQuantizer(dimension, fp16, metric)
    refine_store.add(vectors)
    refined = faiss.IndexRefine(ivfpq, refine_store)
    refined.k_factor = args.k_factor
    refine_build = time.perf_counter() - start
    faiss.omp_set_num_threads(1)
    for name, index, extra_build in (
        ("ivfpq", ivfpq, 0.0),
        ("ivfpq+refine fp16", refined, refine_build),
    ):
        size_mb = ivfpq.sa_code_size() * n / 2**20 + (
            refine_store.sa_code_size() * n / 2**20 if index is refined else 0.0
        )
        by_nprobe = []
        for nprobe in [int(x) for x in args.nprobe.split(",")]:
            ivfpq.nprobe = nprobe
            times = common.paired({"search": lambda q, i=index: i.search(q, depth)}, rows_q)
            _, found = index.search(queries, depth)
            by_nprobe.append(
                {
                    "nprobe": nprobe,
                    "time": common.summary(times["search"]),
                    "recall_at_10": recall_at_k(found, truth, 10),
                }
            )
        out["variants"].append(
            {
                "name": name,
                "build_s": build + extra_build,
                "codes_mb": size_mb,
                "by_nprobe": by_nprobe,
            }
        )
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.scale", description=__doc__.splitlines()[0]
    )
    jobs = parser.add_subparsers(dest="job", required=True)
    build = jobs.add_parser("build")
    build.add_argument("--size", type=int, required=True)
    build.add_argument("--dir", required=True)
    build.add_argument("--base", required=True)
    build.add_argument("--queries", type=int, default=200)
    build.add_argument(
        "--threshold", type=int, default=None, help="override Settings.ann_threshold"
    )
    build.add_argument("--no-cache", action="store_true")
    build.set_defaults(run=cmd_build)
    serve = jobs.add_parser("serve")
    serve.add_argument("--dir", required=True)
    serve.add_argument("--rounds", type=int, default=3)
    serve.add_argument("--loads", type=int, default=5)
    serve.set_defaults(run=cmd_serve)
    bm25 = jobs.add_parser("rankbm25")
    bm25.add_argument("--size", type=int, required=True)
    bm25.add_argument("--queries", type=int, default=50)
    bm25.add_argument("--rounds", type=int, default=2)
    bm25.set_defaults(run=cmd_rankbm25)
    sweep = jobs.add_parser("sweep")
    sweep.add_argument("--sizes", required=True)
    sweep.add_argument("--base", required=True)
    sweep.add_argument("--queries", type=int, default=200)
    sweep.add_argument("--ef", default="32,64,96,128")
    sweep.add_argument("--no-cache", action="store_true")
    sweep.set_defaults(run=cmd_sweep)
    ivfpq = jobs.add_parser("ivfpq")
    ivfpq.add_argument("--size", type=int, required=True)
    ivfpq.add_argument("--base", required=True)
    ivfpq.add_argument("--queries", type=int, default=200)
    ivfpq.add_argument("--nlist", type=int, default=4096)
    ivfpq.add_argument("--pq-m", type=int, default=48)
    ivfpq.add_argument("--k-factor", type=int, default=16)
    ivfpq.add_argument("--nprobe", default="16,32,64")
    ivfpq.add_argument("--no-cache", action="store_true")
    ivfpq.set_defaults(run=cmd_ivfpq)
    args = parser.parse_args(argv)
    json.dump(args.run(args), sys.stdout)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
