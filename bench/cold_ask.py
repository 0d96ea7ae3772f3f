"""A fresh `qa ask` over any built index against the floor (issue 28: at 5 articles and
at 100,000 passages), and its profile's ten largest costs.

    python bench/cold_ask.py --index bench/cache/index-man-3000 \\
        --corpus bench/cache/man-3000 --question "What does apropos search?"

Each run is a new process (bench/encoder.child: wall, CPU, peak RSS), `qa ask`
interleaved with the floor (bench/encoder.FLOOR); then one run under cProfile, its costs
by own time. The index must be built and fresh: a run that rebuilt it would say so on
stderr and time the build. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import pstats
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common, startup  # noqa: E402
from bench.data import CORPUS, ROOT  # noqa: E402


def profile(index_dir: Path, corpus: Path, question: str, env: dict[str, str]) -> list[dict]:
    """One fresh `qa ask` under cProfile: the ten functions of largest own time."""
    with tempfile.TemporaryDirectory() as work:
        out = Path(work) / "ask.prof"
        # cProfile runs a script file (it has no -c): qa's entry point, asking `question`.
        script = Path(work) / "ask.py"
        script.write_text("import sys\nfrom qa.cli import main\nmain(['ask', sys.argv[1]])\n")
        subprocess.run(
            [sys.executable, "-m", "cProfile", "-o", str(out), str(script), question],
            env=env,
            cwd=ROOT,
            capture_output=True,
            check=False,
        )
        stats = pstats.Stats(str(out))
        rows = sorted(stats.stats.items(), key=lambda kv: -kv[1][2])[:10]  # type: ignore[attr-defined]
        return [
            {
                "function": f"{Path(file).name}:{line}({name})",
                "own_s": round(tt, 4),
                "cumulative_s": round(ct, 4),
                "calls": nc,
            }
            for (file, line, name), (_, nc, tt, ct, _) in rows
        ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--question")
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    index_dir, corpus = args.index.absolute(), args.corpus.absolute()
    with tempfile.TemporaryDirectory() as uploads:
        # No uploads folder of the user's own: the index was built without one.
        os.environ["QA_UPLOADS_DIR"] = uploads
        result: dict[str, Any] = {"machine": common.machine(), "index": str(args.index)}
        offsets = np.load(index_dir / "chunks.offsets.npy", mmap_mode="r")
        result["passages"] = len(offsets) - 1  # one offset a line, and the end
        result |= startup.fresh_process(index_dir, args.rounds, 0, corpus, args.question)
        env = {**os.environ, "QA_INDEX_DIR": str(index_dir), "QA_CORPUS_DIR": str(corpus)}
        result["profile_top_ten"] = profile(index_dir, corpus, result["question"], env)
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
