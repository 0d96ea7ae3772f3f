"""`make run` to a served page (issue 11): how long until the chat UI answers HTTP, what
the serving process imported, and whether any module was imported twice. Prints numbers,
asserts nothing.

    .venv/bin/python bench/serve_start.py [--rounds 3]

Each round starts `make run` (the index of corpus/ already built, as on a user's second
start) on a free port, polls http://127.0.0.1:PORT/ until it answers 200, and stops it.
Python's own import log (PYTHONPROFILEIMPORTTIME) names every module the moment it is
first imported: a name logged twice was imported twice (once as `__main__` and once by
name, or by two processes).
"""

from __future__ import annotations

import argparse
import collections
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("torch", "sentence_transformers", "transformers", "sklearn", "ray")
IMPORT_LINE = re.compile(r"^import time:\s+\d+ \|\s+\d+ \|( *)(\S+)$")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def one_start(timeout_s: float = 240.0) -> dict[str, object]:
    port = free_port()
    env = {**os.environ, "QA_PORT": str(port), "PYTHONPROFILEIMPORTTIME": "1"}
    # The import log runs to hundreds of kB: to a file, or the server would block on a
    # full pipe before it serves anything.
    log = tempfile.TemporaryFile(mode="w+")
    start = time.perf_counter()
    process = subprocess.Popen(
        ["make", "--no-print-directory", "run"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log,
        text=True,
        start_new_session=True,
    )
    served = None
    try:
        while time.perf_counter() - start < timeout_s and process.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as r:
                    if r.status == 200:
                        served = time.perf_counter() - start
                        break
            except OSError:
                time.sleep(0.1)
    finally:
        os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    log.seek(0)
    err = log.read()
    log.close()
    modules = [m.group(2) for line in err.splitlines() if (m := IMPORT_LINE.match(line))]
    counts = collections.Counter(modules)
    return {
        "served_s": served,
        "modules": len(counts),
        # qa's own modules, the model's, and app.py: a second import of any of these would
        # be a second load of the code, the index or the model.
        "ours_twice": sorted(
            name
            for name, n in counts.items()
            if n > 1 and name.split(".")[0] in ("qa", "app", "onnxruntime", "faiss", "tokenizers")
        ),
        # Third-party names logged twice: optional imports tried again after failing
        # (IPython, winreg, trio, ... are not installed; Python logs each attempt).
        "retried": sorted(name for name, n in counts.items() if n > 1),
        "heavy": sorted({name.split(".")[0] for name in counts} & set(HEAVY)),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    print("load average", ", ".join(f"{x:.1f}" for x in os.getloadavg()))
    one_start()  # builds the index if needed, warms the page cache: not counted
    runs = [one_start() for _ in range(args.rounds)]
    times = [r["served_s"] for r in runs if r["served_s"] is not None]
    print(
        f"make run -> page served: p50 {np.median(times):.2f} s over {len(times)} runs "
        f"({', '.join(f'{t:.2f}' for t in times)})"
        if times
        else "never served"
    )
    last = runs[-1]
    print(
        f"modules imported: {last['modules']}; of qa, app.py, onnxruntime, faiss, tokenizers "
        f"imported twice: {last['ours_twice'] or 'none'}; of {', '.join(HEAVY)}: "
        f"{last['heavy'] or 'none'}"
    )
    print(f"other names logged twice (optional imports retried): {len(last['retried'])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
