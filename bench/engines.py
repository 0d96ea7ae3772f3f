"""Which engine embeds passages for the index (issue 11, item 2): throughput against
sentence-transformers' `model.encode`, and retrieval quality on both dev sets with each
engine's passage vectors. Prints numbers, asserts nothing.

    .venv/bin/python bench/engines.py                  about 10 minutes on 2 cores
    .venv/bin/python bench/engines.py --rounds 3 --json bench/cache/engines.json

Passages: every passage of corpus/ and data/squad/articles/, as `build_index` embeds them
(`scoring_text`: context line and text). Engines, all on the same texts, interleaved:

  torch              sentence-transformers `model.encode`, batch 32: the reference
  onnx               what `qa index` runs: the ONNX export on onnxruntime, fp32, longest
                     first, batches of at most 32 texts and BATCH_TOKENS tokens, threads
                     that sleep between runs
  onnx, batch 4096   the same with batches of up to 4,096 tokens (32 texts of 128)
  onnx, spinning     the same with onnxruntime's threads spinning between runs
  onnx int8          the export quantized to int8 weights (onnxruntime.quantization's
                     quantize_dynamic), batching as `onnx`

Quality: for each engine an index of each corpus is built in memory from that engine's
passage vectors (BM25 and chunking unchanged) and the dev questions are asked through
`QA.ask` as `qa eval` asks them; questions and the answer step's sentences are embedded
by the question path (ONNX fp32, equal to sentence-transformers within 1e-5), so a
difference is the passage vectors' alone. hit@1 is reported hybrid (what users get) and
dense alone (where passage vectors decide everything).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import common  # noqa: E402

CORPORA = {
    "news": (ROOT / "corpus", ROOT / "tests" / "gold" / "dev.jsonl"),
    "squad": (ROOT / "data" / "squad" / "articles", ROOT / "data" / "squad" / "dev.jsonl"),
}
WIDE_BATCH_TOKENS = 4096
VECTORS = ROOT / "bench" / "cache" / "engine-vectors.npz"


class StoredVectors:
    """An embedder for `build_index` that serves vectors computed beforehand, by text."""

    def __init__(self, like: Any, vectors: dict[str, np.ndarray]) -> None:
        self.name, self.model_path, self.batch_size = like.name, like.model_path, 32
        self.dimension = int(like.dimension)
        self.vectors = vectors

    def encode(self, texts: list[str], progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.stack([self.vectors[t] for t in texts])


def passages() -> tuple[dict[str, list[Any]], list[str]]:
    from qa.config import Settings
    from qa.documents.chunking import chunk_document
    from qa.documents.corpus import load_documents
    from qa.index import scoring_text

    settings = Settings(include_uploads=False)  # the bundled articles, without uploads
    documents, texts = {}, []
    for name, (folder, _) in CORPORA.items():
        documents[name], _warnings = load_documents(folder, settings.max_file_bytes())
        for d in documents[name]:
            for c in chunk_document(d, settings.chunk_words, settings.chunk_overlap):
                texts.append(scoring_text(c, d))
    return documents, list(dict.fromkeys(texts))


def engines(folder: Path, work: Path) -> dict[str, Callable[[list[str]], np.ndarray]]:
    """name -> encode(texts), each with its own model session."""
    import onnxruntime as ort
    from onnxruntime.quantization import QuantType, quantize_dynamic

    from qa.config import Settings
    from qa.encoder import onnx_encoder
    from qa.encoder.embedding import Embedder

    torch_model = Embedder(Settings().model_path(), 32, engine="torch").model

    def torch_encode(texts: list[str]) -> np.ndarray:
        return np.asarray(
            torch_model.encode(
                texts, batch_size=32, convert_to_numpy=True, normalize_embeddings=True
            ),
            dtype=np.float32,
        )

    fp32 = onnx_encoder.OnnxEncoder(folder)
    spinning = onnx_encoder.OnnxEncoder(folder)
    options = ort.SessionOptions()
    options.intra_op_num_threads = onnx_encoder.available_threads()
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    spinning.session = ort.InferenceSession(
        str(folder / onnx_encoder.ONNX_FILE), options, providers=["CPUExecutionProvider"]
    )
    int8_folder = work / "int8"
    shutil.copytree(folder, int8_folder)
    quantize_dynamic(
        str(folder / onnx_encoder.ONNX_FILE),
        str(int8_folder / onnx_encoder.ONNX_FILE),
        weight_type=QuantType.QInt8,
    )
    int8 = onnx_encoder.OnnxEncoder(int8_folder)

    def wide(texts: list[str]) -> np.ndarray:
        default = onnx_encoder.BATCH_TOKENS
        onnx_encoder.BATCH_TOKENS = WIDE_BATCH_TOKENS
        try:
            return fp32.encode(texts, 32)
        finally:
            onnx_encoder.BATCH_TOKENS = default

    return {
        "torch": torch_encode,
        "onnx": lambda texts: fp32.encode(texts, 32),
        "onnx, batch 4096": wide,
        "onnx, spinning": lambda texts: spinning.encode(texts, 32),
        "onnx int8": lambda texts: int8.encode(texts, 32),
    }


def quality(
    name: str, documents: dict[str, list[Any]], vectors: dict[str, np.ndarray], question_path: Any
) -> dict[str, Any]:
    from qa.config import Settings
    from qa.engine import QA
    from qa.evaluation.gold import load_gold
    from qa.evaluation.judge import metrics
    from qa.evaluation.run import evaluate
    from qa.index import build_index

    result: dict[str, Any] = {}
    for corpus, (folder, gold_file) in CORPORA.items():
        settings = Settings(corpus_dir=folder)
        index, _ = build_index(documents[corpus], settings, StoredVectors(question_path, vectors))
        qa = QA(index, question_path, settings)
        gold = load_gold(gold_file, settings)
        evaluation = evaluate(qa, gold, ("hybrid", "dense"), log=lambda line: None)
        for run in evaluation.runs:
            values = metrics(run.judgements())
            result[f"{corpus} {run.mode} hit@1"] = values["hit@1"]
            if run.mode == "hybrid":
                result[f"{corpus} answer_accuracy"] = values.get("answer_accuracy")
        print(f"  {name} {corpus}: {result}", flush=True)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)

    from qa.config import Settings
    from qa.encoder.embedding import Embedder
    from qa.encoder.onnx_encoder import cache_root

    print(
        json.dumps(common.machine()),
        "load average " + ", ".join(f"{x:.1f}" for x in os.getloadavg()),
    )
    documents, texts = passages()
    words = float(np.mean([len(t.split()) for t in texts]))
    print(f"{len(texts):,} passages, {words:.0f} words each on average", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        question_path = Embedder(Settings().model_path(), 32)
        question_path.configure(onnx_cache=cache_root(work / "index"))
        question_path.encode(["warm up"])
        folder = question_path.encoder.folder
        tasks = engines(folder, work)
        vectors: dict[str, np.ndarray] = {}
        for encode in tasks.values():
            encode(texts[:64])  # warm: first runs allocate
        wall, cpu = common.interleaved(
            {
                name: (lambda n=name, e=encode: vectors.__setitem__(n, e(texts)))
                for name, encode in tasks.items()
            },
            args.rounds,
        )
        reference = vectors["torch"]
        rows: dict[str, Any] = {}
        for name in tasks:
            cosine = np.sum(vectors[name] * reference, axis=1)
            seconds = float(np.median(wall[name]))
            rows[name] = {
                "passages_per_s": len(texts) / seconds,
                "wall": common.summary(wall[name]),
                "cpu": common.summary(cpu[name]),
                "speedup_vs_torch": common.compare(wall["torch"], wall[name]),
                "cpu_speedup_vs_torch": common.compare(cpu["torch"], cpu[name]),
                "min_cosine_to_torch": float(cosine.min()),
                "median_cosine_to_torch": float(np.median(cosine)),
            }
            print(
                f"{name:18s} {rows[name]['passages_per_s']:7.1f} passages/s  "
                f"x{rows[name]['speedup_vs_torch']['ratio_of_medians']:.2f} wall, "
                f"x{rows[name]['cpu_speedup_vs_torch']['ratio_of_medians']:.2f} cpu  "
                f"cosine to torch min {rows[name]['min_cosine_to_torch']:.6f}",
                flush=True,
            )
        # Kept, so that the quality half can be looked into without embedding again.
        np.savez(VECTORS, texts=np.asarray(texts), **{n: v for n, v in vectors.items()})
        for name in tasks:
            by_text = dict(zip(texts, vectors[name], strict=True))
            rows[name]["quality"] = quality(name, documents, by_text, question_path)
    print()
    header = ["engine", "passages/s", "vs torch (wall)", "vs torch (cpu)", "min cosine"]
    metrics = list(rows["torch"]["quality"])
    print("| " + " | ".join(header + metrics) + " |")
    print("|" + " --- |" * (len(header) + len(metrics)))
    for name, row in rows.items():
        cells = [
            name,
            f"{row['passages_per_s']:.1f}",
            f"{row['speedup_vs_torch']['ratio_of_medians']:.2f}x",
            f"{row['cpu_speedup_vs_torch']['ratio_of_medians']:.2f}x",
            f"{row['min_cosine_to_torch']:.6f}",
        ] + ["" if row["quality"][m] is None else f"{row['quality'][m]:.3f}" for m in metrics]
        print("| " + " | ".join(cells) + " |")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"passages": len(texts), "engines": rows}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
