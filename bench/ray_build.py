"""Indexing on a Ray cluster (issue 13): what a Ray build costs against the in-process
build on one machine.

The same documents are indexed by `build_index` (in this process, onnxruntime on every
core) and by `RayBuild.build` on a local cluster (`ray.init(num_cpus=2)`, started once,
its start timed apart) with 1 embedding worker of 1 or 2 CPUs and 2 workers of 1 CPU,
interleaved round by round (bench/common.py). Reported per build: wall time, passages
per second, CPU seconds of this process and of every Ray process (sampled from /proc),
this process's peak RSS over its start and each worker's peak RSS. Reading the corpus
(load_documents against RayBuild.read_corpus) is timed the same way. With --passages N,
the part of a build that is not embedding is measured at scale on a synthetic corpus
(bench/data.py zipf_documents): chunking and BM25 in this process (`passages` and
`SparseBM25.build`) against the cluster's shards and their merge on the driver.

    .venv/bin/python bench/ray_build.py                # data/squad/articles, 3 rounds
    .venv/bin/python bench/ray_build.py --quick        # corpus/, 1 round: a smoke run
    .venv/bin/python bench/ray_build.py --json out.json
    .venv/bin/python bench/ray_build.py --passages 100000 --rounds 2   # no embedding

Not part of `bench/run.py`: it needs the `ray` extra (pip install -e '.[ray]').
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench import common  # noqa: E402

TICKS = os.sysconf("SC_CLK_TCK")


class RaySampler:
    """CPU seconds and peak RSS of every Ray process (its raylet, GCS and workers),
    read from /proc every `every_s` while a build runs."""

    def __init__(self, every_s: float = 0.2) -> None:
        self.every_s = every_s
        self.cpu: dict[int, float] = {}  # pid -> CPU seconds at the last look
        self.start_cpu: dict[int, float] = {}
        self.peak_rss_mb: dict[int, float] = {}
        self.workers: set[int] = set()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> RaySampler:
        self.start_cpu = dict(self._look())
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self._look()

    def cpu_s(self) -> float:
        return sum(cpu - self.start_cpu.get(pid, 0.0) for pid, cpu in self.cpu.items())

    def worker_peak_mb(self) -> float:
        return max((self.peak_rss_mb[p] for p in self.workers if p in self.peak_rss_mb), default=0)

    def _run(self) -> None:
        while not self._stop.wait(self.every_s):
            self._look()

    def _look(self) -> dict[int, float]:
        found = {}
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit() or int(entry.name) == os.getpid():
                continue
            try:
                cmdline = Path(entry.path, "cmdline").read_bytes().replace(b"\0", b" ")
                if b"ray" not in cmdline:
                    continue
                fields = Path(entry.path, "stat").read_text().rsplit(")", 1)[1].split()
                status = Path(entry.path, "status").read_text()
            except OSError:
                continue
            pid = int(entry.name)
            found[pid] = (int(fields[11]) + int(fields[12])) / TICKS
            self.cpu[pid] = found[pid]
            if cmdline.startswith(b"ray::"):  # a worker (task or actor) process
                self.workers.add(pid)
                hwm = [line for line in status.splitlines() if line.startswith("VmHWM:")]
                if hwm:
                    mb = float(hwm[0].split()[1]) / 1024
                    self.peak_rss_mb[pid] = max(mb, self.peak_rss_mb.get(pid, 0.0))
        return found


def measured(build: Callable[[], Any], uses_ray: bool, results: dict[str, list]) -> Any:
    common.reset_peak()
    before_rss = common.rss_mb()
    start, start_cpu = time.perf_counter(), time.process_time()
    with RaySampler() as sampler:
        value = build()
    results["wall_s"].append(time.perf_counter() - start)
    results["driver_cpu_s"].append(time.process_time() - start_cpu)
    results["ray_cpu_s"].append(sampler.cpu_s() if uses_ray else 0.0)
    results["driver_peak_over_start_mb"].append(common.peak_rss_mb() - before_rss)
    results["worker_peak_mb"].append(sampler.worker_peak_mb() if uses_ray else 0.0)
    return value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=ROOT / "data" / "squad" / "articles")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="corpus/, 1 round")
    parser.add_argument("--json", type=Path, help="write the results here too")
    parser.add_argument(
        "--passages", type=int, help="measure chunking and BM25 only, on this many synthetic"
    )
    args = parser.parse_args()
    if args.passages:
        return no_embedding(args.passages, args.rounds)
    if args.quick:
        args.corpus, args.rounds = ROOT / "corpus", 1

    from qa.config import Settings
    from qa.documents.corpus import fingerprint, load_documents
    from qa.encoder.embedding import Embedder
    from qa.encoder.onnx_encoder import cache_root
    from qa.index import build_index, passages
    from qa.index.distributed import RayBuild
    from qa.index.ray_cluster import connect

    load_before = os.getloadavg()
    work = Path(tempfile.mkdtemp(prefix="qa-ray-bench-"))
    settings = Settings(corpus_dir=args.corpus, index_dir=work / "index")
    documents, _ = load_documents(args.corpus)
    _, texts = passages(documents, settings)
    # The export the project's own index uses (made once, beside index/).
    embedder = Embedder(
        settings.model_path(), settings.batch_size, onnx_cache=cache_root(ROOT / "index" / "x")
    )
    embedder.encode(texts[:8])
    start = time.perf_counter()
    ray, _ = connect("local", num_cpus=2)  # as `qa index --ray local` starts one
    cluster_start_s = time.perf_counter() - start

    def ray_build(workers: int, cpus: int) -> Callable[[], Any]:
        chosen = settings.replace(ray_worker_cpus=cpus)
        return lambda: RayBuild("local", workers=workers).build(
            documents, chosen, embedder, None, False, lambda m: None
        )

    builds: dict[str, tuple[Callable[[], Any], bool]] = {
        "in-process build_index (onnxruntime, 2 threads)": (
            lambda: build_index(documents, settings, embedder),
            False,
        ),
        "Ray, 1 worker x 1 CPU": (ray_build(1, 1), True),
        "Ray, 1 worker x 2 CPUs": (ray_build(1, 2), True),
        "Ray, 2 workers x 1 CPU": (ray_build(2, 1), True),
    }
    keys = ["wall_s", "driver_cpu_s", "ray_cpu_s", "driver_peak_over_start_mb", "worker_peak_mb"]
    results = {name: {k: [] for k in keys} for name in builds}
    indexes: dict[str, Any] = {}
    names = list(builds)
    for r in range(args.rounds):
        for name in names if r % 2 == 0 else list(reversed(names)):
            build, uses_ray = builds[name]
            indexes[name] = measured(build, uses_ray, results[name])[0]
    reference = indexes[names[0]]
    for name in names[1:]:  # the same index, or the throughput means nothing
        assert [c.id for c in indexes[name].chunks] == [c.id for c in reference.chunks]
        gap = np.abs(indexes[name].chunk_vectors() - reference.chunk_vectors()).max()
        assert gap <= 1e-6, (name, gap)

    reading = {
        "load_documents": {k: [] for k in keys},
        "RayBuild.read_corpus": {k: [] for k in keys},
    }
    corpus = fingerprint(args.corpus, settings.max_file_bytes())
    reader = RayBuild("local")
    for r in range(args.rounds):
        for name in list(reading) if r % 2 == 0 else list(reversed(reading)):
            task: Callable[[], Any] = (
                (lambda: load_documents(args.corpus, settings.max_file_bytes()))
                if name == "load_documents"
                else (lambda: reader.read_corpus(settings, corpus, lambda m: None))
            )
            measured(task, name != "load_documents", reading[name])
    ray.shutdown()

    n = len(texts)
    report = {
        "machine": common.machine(),
        "load_average": [load_before, os.getloadavg()],
        "corpus": str(
            args.corpus.relative_to(ROOT) if args.corpus.is_relative_to(ROOT) else args.corpus
        ),
        "documents": len(documents),
        "passages": n,
        "rounds": args.rounds,
        "cluster_start_s": cluster_start_s,
        "builds": {name: _summary(v, n) for name, v in results.items()},
        "reading": {name: _summary(v, len(documents)) for name, v in reading.items()},
    }
    print(_markdown(report))
    if args.json:
        args.json.write_text(json.dumps(report, indent=1))


def no_embedding(n_passages: int, rounds: int) -> None:
    """Chunking and BM25 of `n_passages` synthetic passages: in this process, and as the
    cluster's shards merged on the driver (RayBuild's steps before embedding)."""
    from bench import data
    from qa.config import Settings
    from qa.index import passages
    from qa.index.bm25 import SparseBM25
    from qa.index.distributed import RayBuild
    from qa.index.ray_cluster import connect
    from qa.text import tokenize

    load_before = os.getloadavg()
    settings = Settings()
    documents = data.zipf_documents(n_passages, seed=3)
    ray, _ = connect("local", num_cpus=2)  # as `qa index --ray local` starts one
    builder = RayBuild("local")

    def local() -> Any:
        chunks, texts = passages(documents, settings)
        args = (settings.bm25_variant, settings.bm25_k1, settings.bm25_b)
        return chunks, SparseBM25.build((tokenize(t) for t in texts), *args)

    def on_ray() -> Any:
        shards = builder._passage_shards(builder._connect(), documents, settings)
        chunks = [c for shard in shards for c in shard.chunks]
        counts = [shard.bm25 for shard in shards]
        args = (settings.bm25_variant, settings.bm25_k1, settings.bm25_b)
        return chunks, SparseBM25.merge(counts, *args)

    keys = ["wall_s", "driver_cpu_s", "ray_cpu_s", "driver_peak_over_start_mb", "worker_peak_mb"]
    runs = {"in-process: passages + SparseBM25.build": local, "Ray: shards + merge": on_ray}
    results = {name: {k: [] for k in keys} for name in runs}
    out: dict[str, Any] = {}
    for r in range(rounds):
        for name in list(runs) if r % 2 == 0 else list(reversed(runs)):
            out[name] = measured(runs[name], name.startswith("Ray"), results[name])
    ray.shutdown()
    (chunks_a, bm25_a), (chunks_b, bm25_b) = out.values()
    assert [c.id for c in chunks_a] == [c.id for c in chunks_b]
    for key, array in bm25_a.to_arrays().items():
        assert np.array_equal(bm25_b.to_arrays()[key], array), key
    n = len(chunks_a)
    print(
        f"{n:,} synthetic passages in {len(documents):,} documents, {rounds} rounds; "
        f"load average {load_before[0]:.1f} before, {os.getloadavg()[0]:.1f} after; "
        "the BM25 arrays are equal.\n"
    )
    print(
        "| chunking + BM25 | wall p50 (s) | passages/s | CPU s (driver + Ray) | driver peak "
        "over start (MiB) | worker peak RSS (MiB) |"
    )
    print("| --- | --- | --- | --- | --- | --- |")
    for name, values in results.items():
        s = _summary(values, n)
        worker = f"{s['worker_peak_mb']:.0f}" if s["worker_peak_mb"] else "-"
        print(
            f"| {name} | {s['wall_s_p50']:.1f} | {s['per_s']:,.0f} | {s['cpu_s_p50']:.1f} "
            f"({s['driver_cpu_s_p50']:.1f} + {s['cpu_s_p50'] - s['driver_cpu_s_p50']:.1f}) | "
            f"{s['driver_peak_over_start_mb']:.0f} | {worker} |"
        )


def _summary(values: dict[str, list[float]], items: int) -> dict[str, float]:
    wall = float(np.median(values["wall_s"]))
    return {
        "wall_s_p50": wall,
        "wall_s_all": [round(v, 2) for v in values["wall_s"]],
        "per_s": items / wall,
        "cpu_s_p50": float(np.median(np.add(values["driver_cpu_s"], values["ray_cpu_s"]))),
        "driver_cpu_s_p50": float(np.median(values["driver_cpu_s"])),
        "driver_peak_over_start_mb": float(np.max(values["driver_peak_over_start_mb"])),
        "worker_peak_mb": float(np.max(values["worker_peak_mb"])),
    }


def _markdown(report: dict[str, Any]) -> str:
    m, (before, after) = report["machine"], report["load_average"]
    lines = [
        f"Measured {m['date']} on {m['cpu']}, {m['cores']} cores; load average "
        f"{before[0]:.1f} before, {after[0]:.1f} after. {report['passages']:,} passages of "
        f"{report['documents']} documents ({report['corpus']}), {report['rounds']} "
        f"interleaved rounds; the local cluster's start, {report['cluster_start_s']:.1f} s, "
        "is not counted below.",
        "",
        "| build | wall p50 (s) | passages/s | vs in-process | CPU s (driver + Ray) "
        "| driver peak over start (MiB) | worker peak RSS (MiB) |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    base = None
    for name, s in report["builds"].items():
        base = base or s["wall_s_p50"]
        worker = f"{s['worker_peak_mb']:.0f}" if s["worker_peak_mb"] else "-"
        lines.append(
            f"| {name} | {s['wall_s_p50']:.1f} | {s['per_s']:.0f} | "
            f"{base / s['wall_s_p50']:.2f}x | {s['cpu_s_p50']:.1f} "
            f"({s['driver_cpu_s_p50']:.1f} + {s['cpu_s_p50'] - s['driver_cpu_s_p50']:.1f}) | "
            f"{s['driver_peak_over_start_mb']:.0f} | "
            f"{worker} |"
        )
    lines += [
        "",
        "| reading the corpus | wall p50 (s) | documents/s | CPU s |",
        "| --- | --- | --- | --- |",
    ]
    for name, s in report["reading"].items():
        lines.append(
            f"| {name} | {s['wall_s_p50']:.2f} | {s['per_s']:.0f} | {s['cpu_s_p50']:.1f} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
