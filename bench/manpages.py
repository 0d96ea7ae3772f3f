"""Indexing real text at scale (issue 28): man pages rendered by `man`, indexed from
nothing, each stage timed apart, against sentence-transformers' `encode` of the same
passage texts in the same run.

    python bench/manpages.py --pages 300            # about 10 minutes on 2 cores
    python bench/manpages.py --pages 3000 --sample-every 10   # the larger run (~1 h)

At 3,000 pages (about 110,000 passages) `encode` of every passage would take longer than
the index itself; `--sample-every K` times qa's embedding and `encode` on every K-th
passage instead (the same length distribution, so the same rates), and
`--sample-only` times only that sample and the stages that are not embedding (for an
older version of qa, whose full run would take another hour).

The pages are section 1 and 8 man pages of this machine, every k-th of them in name
order (the same on every run of one machine), rendered once with
`MANWIDTH=80 man -P cat` into bench/cache/man-<N>/ (git-ignored). Prints one JSON
object; docs/BENCHMARKS.md reports it.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common  # noqa: E402
from bench.data import CACHE  # noqa: E402

MAN_SECTIONS = ("/usr/share/man/man1", "/usr/share/man/man8")


def man_pages(n: int) -> list[Path]:
    """`n` man pages, taken in turn from each family of pages (the name's first part:
    "gcloud" of "gcloud_alpha_..."), in name order: on this machine one family, gcloud,
    holds 16,631 of the 18,474 pages, and taking every k-th page would make a corpus of
    gcloud's pages alone."""
    every = sorted(
        p for folder in MAN_SECTIONS if Path(folder).is_dir() for p in Path(folder).iterdir()
    )
    if len(every) < n:
        raise SystemExit(f"only {len(every)} man pages here, {n} asked")
    families: dict[str, list[Path]] = {}
    for page in every:
        families.setdefault(re.split(r"[-_.]", page.name, maxsplit=1)[0], []).append(page)
    queues = [list(reversed(pages)) for pages in families.values()]
    chosen: list[Path] = []
    while len(chosen) < n:
        for queue in queues:
            if queue and len(chosen) < n:
                chosen.append(queue.pop())
    return sorted(chosen)


def render(pages: list[Path], folder: Path) -> Path:
    """Each page as `man` prints it at 80 columns, as plain text (no overstrikes), one
    .txt file a page; pages rendered before are kept."""
    folder.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "MANWIDTH": "80", "MAN_KEEP_FORMATTING": "", "LC_ALL": "C.UTF-8"}

    def one(page: Path) -> None:
        name = page.name.split(".gz")[0]
        out = folder / f"{name}.txt"
        if out.exists():
            return
        done = subprocess.run(
            ["man", "-P", "cat", "-l", str(page)],
            env=env,
            capture_output=True,
            text=True,
            errors="replace",
            timeout=60,
        )
        text = done.stdout
        # `man -P cat` still writes bold and underline as overstrikes ("N\bNA\bAM\bME")
        # when groff thinks it may: plain text is what a user's saved page holds.
        while "\b" in text:
            text = "".join(
                ch for i, ch in enumerate(text) if ch != "\b" and text[i + 1 : i + 2] != "\b"
            )
        out.write_text(text, encoding="utf-8")

    with ThreadPoolExecutor(2) as pool:
        list(pool.map(one, pages))
    return folder


def corpus(n: int) -> Path:
    return render(man_pages(n), CACHE / f"man-{n}")


def stages(
    folder: Path, index_dir: Path, with_st: bool, every: int = 0, sample_only: bool = False
) -> dict[str, Any]:
    """`qa index` of `folder` from nothing, in this process, each stage timed apart (wall
    and CPU seconds), then sentence-transformers' `encode` of the same passage texts (or,
    with `every`, qa's embedding and `encode` of every `every`-th passage)."""
    import numpy as np

    from qa.config import Settings
    from qa.documents.corpus import load_documents
    from qa.encoder.embedding import Embedder
    from qa.index import build
    from qa.index.bm25 import SparseBM25
    from qa.index.build import all_acronyms, assemble, embed_with_progress, passages
    from qa.index.store import save_index
    from qa.text import tokenize

    settings = Settings(corpus_dir=folder, index_dir=index_dir, include_uploads=False)
    times: dict[str, dict[str, float]] = {}

    def timed(name: str, work: Any) -> Any:
        wall, cpu = time.perf_counter(), common.cpu_seconds()
        out = work()
        times[name] = {
            "s": time.perf_counter() - wall,
            "cpu_s": common.cpu_seconds() - cpu,
        }
        return out

    documents, _ = timed("read", lambda: load_documents(folder))
    chunks, texts = timed("chunk", lambda: passages(documents, settings))
    embedder = Embedder(
        settings.model_path(), settings.batch_size, onnx_cache=CACHE / "onnx-export"
    )
    timed("load model", lambda: embedder.dimension)
    if sample_only:
        return sample_result(embedder, texts, documents, settings, times, every, with_st)
    # As `qa index` embeds: through embed_with_progress, whose time-left lines are kept
    # with the moment each was said, to be held against the time it really took.
    said: list[tuple[float, str]] = []
    # The steps after embedding counted in the time left, as `qa index` counts them
    # (build.after_embedding_cost; after_embedding_seconds in the version before, and
    # neither in versions before that).
    if hasattr(build, "after_embedding_cost"):
        after = {"after_cost": build.after_embedding_cost(len(texts), settings)}
    elif hasattr(build, "after_embedding_seconds"):
        after = {"after_s": build.after_embedding_seconds(len(texts), settings)}
    else:
        after = {}
    vectors = timed(
        "embed",
        lambda: embed_with_progress(
            embedder,
            texts,
            files=len(documents),
            reused=0,
            log=lambda line: said.append((time.perf_counter(), line)),
            **after,
        ),
    )
    bm25 = timed(
        "bm25",
        lambda: SparseBM25.build(
            (tokenize(t) for t in texts), settings.bm25_variant, settings.bm25_k1, settings.bm25_b
        ),
    )

    def write() -> None:
        index = assemble(
            documents, chunks, vectors, bm25, all_acronyms(documents), settings, embedder
        )
        save_index(index, settings.index_path())

    timed("faiss and write", write)
    # The model's loading (and, the first time on a machine, its ONNX export) is apart:
    # sentence-transformers' encode below is timed without its loading too.
    total = sum(t["s"] for name, t in times.items() if name != "load model")
    finished = time.perf_counter()
    tokenizer = embedder.encoder.tokenizer
    lengths = np.array([len(e.ids) for e in tokenizer.encode_batch(texts)])
    mb = sum(len(t.encode()) for t in texts) / 1e6
    result: dict[str, Any] = {
        "documents": len(documents),
        "passages": len(texts),
        "passage_mb": mb,
        "tokens": {
            "p50": float(np.median(lengths)),
            "p90": float(np.percentile(lengths, 90)),
            "max": int(lengths.max()),
            "at_limit_share": float(np.mean(lengths >= embedder.max_seq_length)),
            "total": int(lengths.sum()),
        },
        "stages": times,
        "total_s": total,
        "passages_per_s": len(texts) / total,
        "mb_per_min": mb / total * 60,
        "embed_passages_per_s": len(texts) / times["embed"]["s"],
        "time_left": time_left_errors(said, finished),
    }
    if every:
        sampled = sample_result(embedder, texts, documents, settings, {}, every, with_st)
        result["sample"] = {
            k: sampled[k] for k in ("every", "passages", "qa_embed", "st_encode") if k in sampled
        }
        if "st_encode" in sampled:
            rate_st = sampled["passages"] / sampled["st_encode"]["s"]
            result["index_vs_st_encode"] = result["passages_per_s"] / rate_st
            result["embed_vs_st_encode"] = result["embed_passages_per_s"] / rate_st
            result["sample_embed_vs_st_encode"] = (
                sampled["st_encode"]["s"] / sampled["qa_embed"]["s"]
            )
    elif with_st:
        result["st_encode"] = st_encode(embedder, texts, vectors, settings.batch_size)
        st = result["st_encode"]["s"]
        result["index_vs_st_encode"] = st / total
        result["embed_vs_st_encode"] = st / times["embed"]["s"]
    return result


def st_encode(embedder: Any, texts: list[str], vectors: Any, batch_size: int) -> dict[str, float]:
    """sentence-transformers' `encode` of `texts`, timed (wall and CPU seconds), and its
    largest difference from qa's `vectors` of the same texts."""
    import numpy as np

    model = embedder.model  # sentence-transformers (imports torch)
    model.encode(texts[:8])
    wall, cpu = time.perf_counter(), common.cpu_seconds()
    reference = model.encode(
        texts,
        batch_size=batch_size,
        show_progress_bar=False,
        convert_to_numpy=True,
        normalize_embeddings=True,
    )
    return {
        "s": time.perf_counter() - wall,
        "cpu_s": common.cpu_seconds() - cpu,
        "max_abs_difference": float(np.abs(reference - vectors).max()),
    }


def sample_result(
    embedder: Any,
    texts: list[str],
    documents: list[Any],
    settings: Any,
    times: dict[str, dict[str, float]],
    every: int,
    with_st: bool,
) -> dict[str, Any]:
    """qa's embedding, and sentence-transformers' `encode`, of every `every`-th passage,
    each timed; with `times` of the stages before, BM25 of all passages timed too (the
    `--sample-only` run)."""

    from qa.index.bm25 import SparseBM25
    from qa.text import tokenize

    sample = texts[::every]
    out: dict[str, Any] = {"every": every, "passages": len(sample)}
    wall, cpu = time.perf_counter(), common.cpu_seconds()
    vectors = embedder.encode(sample)
    out["qa_embed"] = {"s": time.perf_counter() - wall, "cpu_s": common.cpu_seconds() - cpu}
    if with_st:
        out["st_encode"] = st_encode(embedder, sample, vectors, settings.batch_size)
    if times:
        wall, cpu = time.perf_counter(), common.cpu_seconds()
        SparseBM25.build(
            (tokenize(t) for t in texts), settings.bm25_variant, settings.bm25_k1, settings.bm25_b
        )
        times["bm25"] = {"s": time.perf_counter() - wall, "cpu_s": common.cpu_seconds() - cpu}
        out |= {"documents": len(documents), "all_passages": len(texts), "stages": times}
        out["embed_passages_per_s"] = len(sample) / out["qa_embed"]["s"]
    return out


def time_left_errors(said: list[tuple[float, str]], finished: float) -> list[dict[str, Any]]:
    """Each "about X left" the build said, against the time the index really took from
    then until it was written (the steps after embedding included)."""
    out = []
    for at, line in said:
        m = re.search(r"\((\d+)%\).*about (.+) left", line)
        if not m:
            continue
        estimate = _seconds(m.group(2))
        truth = finished - at
        out.append(
            {
                "done_percent": int(m.group(1)),
                "said_s": estimate,
                "true_s": round(truth, 1),
                "error": round((estimate - truth) / truth, 3) if truth > 0 else None,
            }
        )
    return out


def _seconds(text: str) -> float:
    """ "3 s", "2 min 10 s", "12 min", "1 h 5 min" -> seconds."""
    units = {"h": 3600, "min": 60, "s": 1}
    return float(sum(int(n) * units[u] for n, u in re.findall(r"(\d+) (h|min|s)\b", text)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=300)
    parser.add_argument("--render-only", action="store_true")
    parser.add_argument("--no-st", action="store_true", help="skip sentence-transformers")
    parser.add_argument(
        "--sample-every",
        type=int,
        default=0,
        metavar="K",
        help="compare on every K-th passage instead of all",
    )
    parser.add_argument(
        "--sample-only",
        action="store_true",
        help="with --sample-every: embed only the sample (no full index)",
    )
    parser.add_argument("--keep-index", type=Path, help="write the index here, and keep it")
    args = parser.parse_args()
    started = time.perf_counter()
    folder = corpus(args.pages)
    files = sorted(folder.glob("*.txt"))
    result: dict[str, Any] = {
        "machine": common.machine(),
        "pages": len(files),
        "mb": sum(f.stat().st_size for f in files) / 1e6,
        "render_s": time.perf_counter() - started,
    }
    if not args.render_only:
        if args.sample_only and not args.sample_every:
            raise SystemExit("--sample-only needs --sample-every")
        with tempfile.TemporaryDirectory() as work:
            index_dir = args.keep_index or Path(work) / "index"
            result |= stages(folder, index_dir, not args.no_st, args.sample_every, args.sample_only)
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
