"""This corpus: `qa ask` in a fresh process against the floor, `qa --help`, and the
per-question stages inside a warm process."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench import common, stages
from bench.data import CORPUS, ROOT

# FLOOR is the floor a user cannot avoid (issue 11): a fresh Python that imports numpy,
# faiss and tokenizers, reads the model's weights and tokenizes the question.
from bench.encoder import FLOOR, child


def gold_questions(limit: int) -> list[str]:
    path = ROOT / "tests" / "gold" / "dev.jsonl"
    questions = [
        json.loads(line)["question"] for line in path.read_text().splitlines() if line.strip()
    ]
    return questions[:limit]


def fresh_process(
    index_dir: Path,
    rounds: int,
    help_runs: int,
    corpus: Path = CORPUS,
    question: str | None = None,
) -> dict[str, Any]:
    """Wall time, CPU time and peak RSS of `qa ask` in a fresh process, interleaved with
    the floor, and of `qa --help`. The index (and its ONNX export) is built before timing
    starts, so no run builds anything."""
    from qa.config import Settings

    bin_dir = Path(sys.executable).parent
    qa = str(bin_dir / "qa")
    env = {**os.environ, "QA_INDEX_DIR": str(index_dir), "QA_CORPUS_DIR": str(corpus)}
    question = question or gold_questions(1)[0]
    model = str(Settings().model_path())
    result: dict[str, Any] = {"question": question}
    if rounds:
        tasks = {
            "qa_ask": lambda: child([qa, "ask", question], env),
            "floor": lambda: child([sys.executable, "-c", FLOOR, model, question], env),
        }
        for task in tasks.values():
            task()  # warm the page cache; not timed
        runs: dict[str, list[dict[str, float]]] = {name: [] for name in tasks}
        for r in range(rounds):
            for name in tasks if r % 2 == 0 else reversed(list(tasks)):
                runs[name].append(tasks[name]())
        wall = {name: [run["wall"] for run in runs[name]] for name in tasks}
        cpu = {name: [run["cpu"] for run in runs[name]] for name in tasks}
        result.update(
            qa_ask=common.summary(wall["qa_ask"]),
            floor=common.summary(wall["floor"]),
            ratio=common.compare(wall["qa_ask"], wall["floor"]),
            cpu={
                "qa_ask": common.summary(cpu["qa_ask"]),
                "floor": common.summary(cpu["floor"]),
                "ratio": common.compare(cpu["qa_ask"], cpu["floor"]),
            },
            peak_rss_mb={
                name: float(np.median([run["rss_mb"] for run in runs[name]])) for name in tasks
            },
        )
    help_times = [child([qa, "--help"], env)["wall"] for _ in range(help_runs)]
    result["help"] = common.summary(help_times)
    return result


def warm_stages(index_dir: Path, questions: int, rounds: int) -> dict[str, Any]:
    """Seconds per stage of a question inside a warm process, over the gold dev questions."""
    from qa.config import Settings
    from qa.engine import QA

    settings = Settings(corpus_dir=CORPUS, index_dir=index_dir)
    engine = QA.open(settings, log=lambda message: None, progress=False)
    asked = gold_questions(questions)
    engine.ask(asked[0])
    samples: dict[str, list[float]] = {}
    ask_times: list[float] = []
    for _ in range(rounds):
        for question in asked:
            start = time.perf_counter()
            vector = engine.embedder.encode([question])[0]
            samples.setdefault("embedding", []).append(time.perf_counter() - start)
            by_stage = stages.ask_by_stage(
                engine.index,
                question,
                vector,
                engine.embedder.read,
                settings,
            )
            for stage, seconds in by_stage.items():
                samples.setdefault(stage, []).append(seconds)
            samples.setdefault("total_with_embedding", []).append(
                by_stage["total"] + samples["embedding"][-1]
            )
            start = time.perf_counter()
            engine.ask(question)
            ask_times.append(time.perf_counter() - start)
    return {
        "passages": len(engine.index.chunks),
        "questions": len(asked),
        "rounds": rounds,
        "stages": {stage: common.summary(values) for stage, values in samples.items()},
        "qa_ask_call": common.summary(ask_times),
    }
