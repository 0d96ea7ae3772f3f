"""Timing, memory and machine facts shared by the benchmark sections.

Every figure is a median over repeated runs, reported with its p95. Two things that are
compared run interleaved (A B, then B A, ...) in one process, so drift on a shared, noisy
machine falls on both alike.
"""

from __future__ import annotations

import os
import platform
import resource
import sys
import time
from collections.abc import Callable
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from qa.index.vectors import Vectors


def summary(seconds: list[float]) -> dict[str, Any]:
    """{"p50_ms", "p95_ms", "n"} of samples given in seconds, and the samples themselves
    (ms) when there are few of them, so a noisy figure can be looked into."""
    values = np.asarray(seconds, dtype=np.float64) * 1000.0
    if not len(values):
        return {"p50_ms": float("nan"), "p95_ms": float("nan"), "n": 0}
    result: dict[str, Any] = {
        "p50_ms": float(np.median(values)),
        "p95_ms": float(np.percentile(values, 95)),
        "n": int(len(values)),
    }
    if len(values) <= 30:
        result["samples_ms"] = [round(float(v), 3) for v in values]
    return result


def cpu_seconds() -> float:
    """CPU time (user + system) of this process and of its waited-for children."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def interleaved(
    tasks: dict[str, Callable[[], Any]], rounds: int
) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """Run each task once per round, alternating the order every round.

    Returns:
        (wall seconds, CPU seconds) per task and run. CPU time, here or in a child
        process, is far less disturbed than wall time by other tenants of a shared
        machine, so it backs up a wall-time ratio measured in a noisy hour.
    """
    names = list(tasks)
    wall: dict[str, list[float]] = {name: [] for name in names}
    cpu: dict[str, list[float]] = {name: [] for name in names}
    for r in range(rounds):
        for name in names if r % 2 == 0 else reversed(names):
            start, start_cpu = time.perf_counter(), cpu_seconds()
            tasks[name]()
            wall[name].append(time.perf_counter() - start)
            cpu[name].append(cpu_seconds() - start_cpu)
    return wall, cpu


def paired(
    tasks: dict[str, Callable[[Any], Any]], inputs: list[Any], rounds: int = 1
) -> dict[str, list[float]]:
    """Run every task on every input, `rounds` times over; which task goes first
    alternates from one run to the next. Seconds per run, in input order."""
    names = list(tasks)
    times: dict[str, list[float]] = {name: [] for name in names}
    turn = 0
    for _ in range(rounds):
        for value in inputs:
            for name in names if turn % 2 == 0 else reversed(names):
                start = time.perf_counter()
                tasks[name](value)
                times[name].append(time.perf_counter() - start)
            turn += 1
    return times


def compare(a: list[float], b: list[float]) -> dict[str, float]:
    """Ratio of medians a/b, and the median of the per-round ratios (runs are paired)."""
    return {
        "ratio_of_medians": float(np.median(a) / np.median(b)),
        "median_paired_ratio": float(np.median(np.asarray(a) / np.asarray(b))),
    }


def rss_mb() -> float:
    """Resident memory of this process now, in MiB."""
    return _status_kb("VmRSS") / 1024


def rss_file_mb() -> float:
    """Resident memory of this process that maps files (memory-mapped index files,
    shared libraries), in MiB."""
    return _status_kb("RssFile") / 1024


def peak_rss_mb() -> float:
    """Peak resident memory of this process since start or the last `reset_peak()`, MiB."""
    return _status_kb("VmHWM") / 1024


def reset_peak() -> None:
    """Start a new peak-memory window (Linux: writing 5 to clear_refs resets VmHWM)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass


def _status_kb(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return float(line.split()[1])
    return float("nan")


def directory_mb(path: Path) -> dict[str, float]:
    """Size of each file in `path` and their total, MiB."""
    sizes = {p.name: p.stat().st_size / 2**20 for p in sorted(Path(path).iterdir()) if p.is_file()}
    sizes["total"] = sum(sizes.values())
    return sizes


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        cpu = platform.processor()
    memory_gib = float("nan")
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory_gib = float(line.split()[1]) / 2**20
    except OSError:
        pass
    versions = {}
    for package in ("numpy", "scipy", "faiss-cpu", "torch", "sentence-transformers", "rank-bm25"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "-"
    return {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(memory_gib, 1),
        "os": f"{platform.system()} {platform.release()}",
        "python": sys.version.split()[0],
        "versions": versions,
        "openblas_coretype": os.environ.get("OPENBLAS_CORETYPE", ""),
    }


# Checks of the vector index that only the benchmark and the tests use (the product
# chooses its index by size and never asks which kind it got).
def index_kind(index: Vectors) -> str:
    """ "hnsw" for a graph index, "exact" for a flat one."""
    import faiss

    from qa.index.vectors import ExactVectors

    # ExactVectors.faiss copies every vector into a new FAISS index: not for a question.
    if isinstance(index, ExactVectors):
        return "exact"
    return "hnsw" if isinstance(index.faiss, faiss.IndexHNSW) else "exact"


def recall_at_k(approximate: np.ndarray, exact: np.ndarray, k: int) -> float:
    """Share of the exact top-k ids that the approximate search also returned in its top k.

    Args:
        approximate: ids from the approximate index, shape (queries, >= k).
        exact: ids from exact search of the same queries, shape (queries, >= k).
        k: the cut-off.

    Returns:
        Mean over queries of |approx[:k] & exact[:k]| / |exact[:k]|, in 0..1.
    """
    if len(approximate) != len(exact):
        raise ValueError(f"{len(approximate)} approximate rows but {len(exact)} exact rows")
    found = total = 0
    for approx_row, exact_row in zip(approximate, exact, strict=True):
        truth = {int(i) for i in exact_row[:k] if i >= 0}
        found += len(truth & {int(i) for i in approx_row[:k] if i >= 0})
        total += len(truth)
    return found / total if total else 1.0


def _configure() -> None:
    # The benchmarks measure what `qa` and the server run with: the process configured
    # once, here, the way their entry points configure theirs.
    from qa.process import configure_process

    configure_process()


_configure()
