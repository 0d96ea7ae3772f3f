"""The question path without torch (issue 11, item 1): prints numbers, asserts nothing.

    .venv/bin/python bench/encoder.py               about 3-4 minutes on 2 cores
    .venv/bin/python bench/encoder.py --rounds 3 --questions 20 --json out.json

Measures, against an index of corpus/ built in a temporary folder:
  export        `qa index` from nothing (embedding 39 passages and exporting the model
                to ONNX), then a second `qa index --rebuild` that finds the export
  fresh         wall time, CPU time and peak RSS of a fresh process, interleaved:
                `qa ask` (ONNX), `qa ask` with QA_ENCODER=torch (the old path), the
                floors (numpy + faiss + tokenizers, reading the weights and tokenizing a
                question; and that plus onnxruntime loading the export and encoding it),
                and `qa --help`; and which of torch, sentence_transformers,
                transformers, sklearn a fresh `qa ask` imports
  warm          one question inside a warm process, per engine: embedding it alone, and
                `QA.ask` with the answer step's sentence vectors cached (second pass
                over the gold dev questions) and not (first pass)
  batching      the answer step's candidate sentences of one question and the corpus's
                passages, embedded with onnx_encoder.BATCH_TOKENS set to each value
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
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import common  # noqa: E402

CORPUS = ROOT / "corpus"
GOLD = ROOT / "tests" / "gold" / "dev.jsonl"
FORBIDDEN = ("torch", "sentence_transformers", "transformers", "sklearn")

# The floor: what a question needs that no code of ours could avoid.
FLOOR = """
import sys, numpy, faiss
from tokenizers import Tokenizer
from pathlib import Path
model = Path(sys.argv[1])
(model / "model.safetensors").read_bytes()
Tokenizer.from_file(str(model / "tokenizer.json")).encode(sys.argv[2])
"""
# The same, with onnxruntime loading the export and encoding the question.
ONNX_FLOOR = """
import sys, numpy, faiss
from qa.encoder.onnx_encoder import OnnxEncoder
OnnxEncoder(sys.argv[3]).encode([sys.argv[2]])
"""


def questions(limit: int) -> list[str]:
    rows = [json.loads(line) for line in GOLD.read_text().splitlines() if line.strip()]
    return [r["question"] for r in rows][:limit]


# Runs the command and reports its wall time, CPU time and peak RSS. It runs in a small
# Python of its own because Linux counts a child's peak RSS from the moment it was forked:
# forked from this benchmark (hundreds of MiB with torch loaded) every child would report
# at least the benchmark's own size. Forked from this launcher, the floor is ~10 MiB.
LAUNCHER = """
import json, os, subprocess, sys, time
start = time.perf_counter()
process = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
_, status, usage = os.wait4(process.pid, 0)
wall = time.perf_counter() - start
err = process.stderr.read().decode()
print(json.dumps({"wall": wall, "cpu": usage.ru_utime + usage.ru_stime,
                  "rss_mb": usage.ru_maxrss / 1024,
                  "code": os.waitstatus_to_exitcode(status), "err": err[-2000:]}))
"""


def child(command: list[str], env: dict[str, str]) -> dict[str, float]:
    """Run `command`; its wall seconds, CPU seconds and peak RSS (MiB), from wait4 in a
    launcher process (LAUNCHER), so that the RSS is the command's own."""
    done = subprocess.run(
        [sys.executable, "-c", LAUNCHER, *command],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    result = json.loads(done.stdout)
    if result["code"] != 0:
        raise RuntimeError(f"{' '.join(command[:3])} exited {result['code']}: {result['err']}")
    return {key: float(result[key]) for key in ("wall", "cpu", "rss_mb")}


def median(values: list[float]) -> float:
    return float(np.median(values)) if values else float("nan")


def fresh(index_dir: Path, folder: Path, rounds: int) -> dict[str, Any]:
    from qa.config import Settings

    qa = str(Path(sys.executable).parent / "qa")
    env = {**os.environ, "QA_INDEX_DIR": str(index_dir), "QA_CORPUS_DIR": str(CORPUS)}
    question = questions(1)[0]
    model = str(Settings().model_path())
    tasks: dict[str, Callable[[], dict[str, float]]] = {
        "qa ask (onnx)": lambda: child([qa, "ask", question], env),
        "qa ask (QA_ENCODER=torch)": lambda: child(
            [qa, "ask", question], {**env, "QA_ENCODER": "torch"}
        ),
        "floor (numpy, faiss, tokenizers, weights)": lambda: child(
            [sys.executable, "-c", FLOOR, model, question], env
        ),
        "floor + onnxruntime encode": lambda: child(
            [sys.executable, "-c", ONNX_FLOOR, model, question, str(folder)], env
        ),
        "qa --help": lambda: child([qa, "--help"], env),
    }
    for task in tasks.values():
        task()  # warm the page cache; not counted
    samples: dict[str, list[dict[str, float]]] = {name: [] for name in tasks}
    names = list(tasks)
    for r in range(rounds):
        for name in names if r % 2 == 0 else reversed(names):
            samples[name].append(tasks[name]())
    result = {
        name: {key: median([s[key] for s in runs]) for key in ("wall", "cpu", "rss_mb")}
        | {"walls": [round(s["wall"], 3) for s in runs]}
        for name, runs in samples.items()
    }
    probe = (
        "import sys\nfrom qa.cli import main\n"
        f"main(['ask', {question!r}])\n"
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {FORBIDDEN!r}), "
        "file=sys.stderr)"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], env=env, cwd=ROOT, capture_output=True, text=True
    )
    result["imported"] = done.stderr.strip().splitlines()[-1]
    return result


def warm(index_dir: Path, limit: int) -> dict[str, Any]:
    from qa.config import Settings
    from qa.engine import QA

    asked = questions(limit)
    result: dict[str, Any] = {}
    for engine in ("onnx", "torch"):
        settings = Settings(corpus_dir=CORPUS, index_dir=index_dir, encoder=engine)
        qa = QA.open(settings, log=lambda message: None, progress=False)
        qa.ask(asked[0])
        embed, first, second = [], [], []
        for question in asked:
            start = time.perf_counter()
            qa.embedder.encode([question])
            embed.append(time.perf_counter() - start)
        for times in (first, second):
            for question in asked:
                start = time.perf_counter()
                qa.ask(question)
                times.append(time.perf_counter() - start)
        result[engine] = {
            "embed_question": common.summary(embed),
            "ask_first_pass": common.summary(first),
            "ask_cached_sentences": common.summary(second),
        }
    return result


def batching(index_dir: Path) -> dict[str, Any]:
    import qa.encoder.onnx_encoder as onnx_encoder
    from qa.answer.features import candidates
    from qa.config import Settings
    from qa.engine import QA
    from qa.index import scoring_text

    qa = QA.open(Settings(corpus_dir=CORPUS, index_dir=index_dir), log=lambda m: None)
    index, analysed, hits = qa._retrieve(questions(1)[0], 5, "hybrid")
    found, _ = candidates(analysed, hits, index.documents)
    pool = [c.text for c in found] + [c.read_with for c in found]
    passages = [scoring_text(c, index.documents[c.doc_id]) for c in index.chunks]
    encoder = qa.embedder.encoder
    kept = onnx_encoder.BATCH_TOKENS
    budgets = (64, 128, 256, 512, 1024, 1_000_000)
    times: dict[int, tuple[list[float], list[float]]] = {b: ([], []) for b in budgets}
    try:
        for r in range(5):
            for budget in budgets if r % 2 == 0 else reversed(budgets):
                onnx_encoder.BATCH_TOKENS = budget
                start = time.perf_counter()
                encoder.encode(pool, 32)
                times[budget][0].append(time.perf_counter() - start)
                start = time.perf_counter()
                encoder.encode(passages, 32)
                times[budget][1].append(time.perf_counter() - start)
    finally:
        onnx_encoder.BATCH_TOKENS = kept
    return {
        "pool_texts": len(pool),
        "passages": len(passages),
        "by_budget": {
            ("32 texts" if b == 1_000_000 else str(b)): {
                "pool_ms": 1000 * median(p),
                "passages_per_s": len(passages) / median(q),
            }
            for b, (p, q) in times.items()
        },
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=8, help="fresh-process rounds")
    parser.add_argument("--questions", type=int, default=70, help="warm questions")
    parser.add_argument("--json", type=Path, default=None, help="also write the results")
    args = parser.parse_args()

    root = Path(tempfile.mkdtemp(prefix="qa-bench-encoder-"))
    index_dir = root / "index"
    qa = str(Path(sys.executable).parent / "qa")
    env = {**os.environ, "QA_INDEX_DIR": str(index_dir), "QA_CORPUS_DIR": str(CORPUS)}
    results: dict[str, Any] = {"machine": common.machine(), "load_before": os.getloadavg()}
    try:
        first = child([qa, "index", str(CORPUS), "--index-dir", str(index_dir)], env)
        again = child([qa, "index", str(CORPUS), "--index-dir", str(index_dir), "--rebuild"], env)
        folder = Path(json.loads((index_dir / "manifest.json").read_text())["encoder"]["path"])
        results["export"] = {"qa index, exporting": first, "qa index --rebuild, cached": again}
        print(
            f"qa index from nothing (exports the model): {first['wall']:.1f} s, "
            f"peak {first['rss_mb']:.0f} MiB"
        )
        print(
            f"qa index --rebuild, export cached:         {again['wall']:.1f} s, "
            f"peak {again['rss_mb']:.0f} MiB"
        )

        results["fresh"] = fresh(index_dir, folder, args.rounds)
        print(f"\nfresh process, median of {args.rounds} interleaved rounds:")
        for name, row in results["fresh"].items():
            if name == "imported":
                continue
            print(
                f"  {name:44s} {row['wall']:6.2f} s wall  {row['cpu']:5.2f} s CPU  "
                f"{row['rss_mb']:5.0f} MiB peak"
            )
        print(f"  modules of {FORBIDDEN} a fresh qa ask imports: {results['fresh']['imported']}")

        results["warm"] = warm(index_dir, args.questions)
        print(f"\nwarm process, {args.questions} gold dev questions (p50 / p95 ms):")
        for engine, rows in results["warm"].items():
            for name, row in rows.items():
                print(f"  {engine:5s} {name:22s} {row['p50_ms']:7.1f} / {row['p95_ms']:7.1f}")

        results["batching"] = batching(index_dir)
        b = results["batching"]
        print(
            f"\nbatching: {b['pool_texts']} candidate texts of one question, "
            f"{b['passages']} passages (medians of 5)"
        )
        for budget, row in b["by_budget"].items():
            print(
                f"  BATCH_TOKENS {budget:>8s}: pool {row['pool_ms']:6.0f} ms, "
                f"{row['passages_per_s']:5.1f} passages/s"
            )
    finally:
        shutil.rmtree(root, ignore_errors=True)
    results["load_after"] = os.getloadavg()
    print(
        f"\nload average before {results['load_before'][0]:.2f}, after "
        f"{results['load_after'][0]:.2f} (2 cores: figures above ~1 are shared)"
    )
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
