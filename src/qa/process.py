"""Process-wide settings: applied once by the entry points (`qa`'s CLI, the chat server,
the benchmarks), never by a loader or a library call, so that a program using `qa` as a
library keeps its own.
"""

from __future__ import annotations

import sys
from typing import Any


def configure_process() -> None:
    """What serving questions wants of the whole process: a steady heap for the
    per-question scratch arrays, and FAISS on one thread.

    No environment variables: staying offline is said to each loader instead
    (sentence-transformers' local_files_only, Gradio's analytics_enabled), so that it
    holds for a program that uses qa as a library too.
    """
    steady_heap()
    single_thread_faiss()


# FAISS's threads once this process has been configured (configure_process), else None:
# the library's own default. Applied when FAISS is first imported (faiss_module), so a
# process that never needs it (an index searched exactly, by numpy) never imports it:
# 0.1-0.25 s of a fresh `qa ask`.
_faiss_threads: int | None = None


def single_thread_faiss() -> None:
    """One query at a time is faster on one thread than on two here (thread start-up
    costs more than the search), and the UI runs questions in parallel anyway."""
    global _faiss_threads
    _faiss_threads = 1
    if "faiss" in sys.modules:
        sys.modules["faiss"].omp_set_num_threads(1)


def faiss_module() -> Any:
    """`import faiss`, with the threads configure_process asked for."""
    import faiss

    if _faiss_threads is not None:
        faiss.omp_set_num_threads(_faiss_threads)
    return faiss


# glibc's malloc: requests up to this many bytes come from the heap, and up to this much
# free memory at the top of the heap is kept rather than given back (`steady_heap`).
_MMAP_THRESHOLD = 32 << 20
_TRIM_THRESHOLD = 128 << 20
_heap_steadied = False


def steady_heap() -> None:
    """Keep the large scratch arrays of every question (the scores `scores` returns and
    retrieval's top-k of them: three arrays of 8 bytes a passage) in the heap from one
    question to the next.

    By default glibc gives the free memory at the top of the heap back to the system
    once it passes twice the largest block freed so far, and with the index's arrays
    memory-mapped rather than on the heap, each question got its scratch arrays as fresh
    pages, zeroed by the kernel: 620 page faults a question at 100,000 passages, and
    BM25 (query terms, scores, top-k) took 1.4 ms p50 against 0.5 ms (docs/BENCHMARKS.md).
    Fixed thresholds stop that; free memory past _TRIM_THRESHOLD still goes back. Once
    per process; nothing where malloc is not glibc's.
    """
    global _heap_steadied
    if _heap_steadied or not sys.platform.startswith("linux"):
        return
    _heap_steadied = True
    try:
        import ctypes

        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return
    m_trim_threshold, m_mmap_threshold = -1, -3  # glibc's malloc.h
    mallopt(m_mmap_threshold, _MMAP_THRESHOLD)
    mallopt(m_trim_threshold, _TRIM_THRESHOLD)
