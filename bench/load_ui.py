"""Load test of the chat UI's `/ask` API: 16 concurrent gradio_client clients, 10 questions each.

    .venv/bin/python bench/load_ui.py                      # starts `python app.py` itself
    .venv/bin/python bench/load_ui.py --url http://127.0.0.1:7860/   # an app already running

Without --url the app is started on a free port of 127.0.0.1 over corpus/, with its index
in a temporary folder (the project's index/ is left alone), and stopped afterwards. Only
127.0.0.1 / localhost are ever targeted.

Questions come from tests/gold/dev.jsonl. First every question is asked once by a single
client (the baseline), then all clients ask at once. A reply under load is correct when
it holds a gold answer (its answer sentence or top passage contains one, ignoring case and
runs of whitespace) or abstains on an unanswerable question; for a question the baseline
itself misses (a retrieval miss, not a load problem), correct means identical to the
baseline. Prints p50/p95 latency; exits 1 on any error or incorrect reply.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
GOLD = ROOT / "tests" / "gold" / "dev.jsonl"
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}
STARTUP_SECONDS = 300


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="a running app on 127.0.0.1 (default: start one)")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--questions", type=int, default=10, help="questions per client")
    parser.add_argument("--gold", type=Path, default=GOLD)
    parser.add_argument("--json", action="store_true", help="print the summary as one JSON object")
    args = parser.parse_args()

    # No telemetry, no hub look-ups, no token read from the user's machine.
    os.environ.update(
        GRADIO_ANALYTICS_ENABLED="False",
        HF_HUB_DISABLE_TELEMETRY="1",
        HF_HUB_OFFLINE="1",
        HF_HUB_DISABLE_IMPLICIT_TOKEN="1",
    )
    gold = [
        json.loads(line)
        for line in args.gold.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]

    server = workdir = None
    url = args.url
    if url is None:
        server, url, workdir = start_app()
    elif urlparse(url).hostname not in LOCAL_HOSTS:
        print(
            f"Error: {url} is not on 127.0.0.1; this load test only targets this machine.",
            file=sys.stderr,
        )
        return 2
    try:
        summary = run(url, gold, args.clients, args.questions)
    finally:
        if server is not None and workdir is not None:
            server.terminate()
            server.wait(timeout=30)
            workdir.cleanup()
    if args.json:
        print(json.dumps(summary))
    else:
        report(summary)
    return 0 if summary["errors"] == 0 and summary["incorrect"] == 0 else 1


def start_app() -> tuple[subprocess.Popen[bytes], str, tempfile.TemporaryDirectory[str]]:
    """`python app.py` on a free port, its index in a temporary folder; waits until ready."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    workdir = tempfile.TemporaryDirectory(prefix="qa-load-")
    log = open(Path(workdir.name) / "server.log", "wb")  # noqa: SIM115 - lives as long as the server
    env = {
        **os.environ,
        "QA_CORPUS_DIR": str(ROOT / "corpus"),
        "QA_INDEX_DIR": str(Path(workdir.name) / "index"),
    }
    server = subprocess.Popen(
        [sys.executable, str(ROOT / "app.py"), "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + STARTUP_SECONDS
    print(f"Starting the app at {url} (log: {log.name}) ...", file=sys.stderr)
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"The app exited with {server.returncode}; see {log.name}")
        try:
            with urllib.request.urlopen(url + "gradio_api/info", timeout=2) as response:
                if response.status == 200:
                    return server, url, workdir
        except (urllib.error.URLError, OSError):
            time.sleep(0.5)
    server.terminate()
    raise SystemExit(f"The app did not start within {STARTUP_SECONDS} s; see {log.name}")


def run(url: str, gold: list[dict[str, Any]], clients: int, per_client: int) -> dict[str, Any]:
    from gradio_client import Client

    def connect() -> Client:
        return Client(url, analytics_enabled=False, verbose=False, download_files=False)

    # Baseline: one client, every question once.
    single = connect()
    baseline: dict[str, dict[str, Any]] = {}
    single_latency: list[float] = []
    for item in gold:
        start = time.perf_counter()
        baseline[item["question"]] = single.predict(question=item["question"], api_name="/ask")
        single_latency.append(time.perf_counter() - start)
    single.close()
    expected = {item["question"]: item for item in gold}
    baseline_right = {q: holds_gold(r, expected[q]["answers"]) for q, r in baseline.items()}

    # Load: every client asks its share of the questions at the same moment.
    plans = [
        [gold[(c * per_client + j) % len(gold)]["question"] for j in range(per_client)]
        for c in range(clients)
    ]
    sessions = [connect() for _ in range(clients)]
    results: list[tuple[str, dict[str, Any] | None, float, str]] = []
    lock = threading.Lock()
    barrier = threading.Barrier(clients)

    def client(c: int) -> None:
        barrier.wait()
        for question in plans[c]:
            start = time.perf_counter()
            try:
                reply, error = sessions[c].predict(question=question, api_name="/ask"), ""
            except Exception as e:  # noqa: BLE001 - every failure is counted and shown
                reply, error = None, f"{type(e).__name__}: {e}"
            with lock:
                results.append((question, reply, time.perf_counter() - start, error))

    threads = [threading.Thread(target=client, args=(c,)) for c in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    for session in sessions:
        session.close()

    errors = [f"{q!r}: {e}" for q, _, _, e in results if e]
    incorrect = []
    identical = 0
    for question, reply, _, error in results:
        if error or reply is None:
            continue
        identical += reply == baseline[question]
        right = (
            holds_gold(reply, expected[question]["answers"])
            if baseline_right[question]
            else reply == baseline[question]
        )
        if not right:
            incorrect.append(question)
    latency = np.asarray([seconds for _, _, seconds, _ in results]) * 1000
    return {
        "url": url,
        "clients": clients,
        "questions_per_client": per_client,
        "calls": len(results),
        "errors": len(errors),
        "error_examples": errors[:5],
        "incorrect": len(incorrect),
        "incorrect_examples": incorrect[:5],
        "identical_to_single_client": identical,
        "baseline_gold_correct": sum(baseline_right.values()),
        "baseline_questions": len(baseline),
        "baseline_misses": sorted(expected[q]["id"] for q, ok in baseline_right.items() if not ok),
        "single_client_p50_ms": float(np.median(single_latency) * 1000),
        "single_client_p95_ms": float(np.percentile(single_latency, 95) * 1000),
        "p50_ms": float(np.median(latency)),
        "p95_ms": float(np.percentile(latency, 95)),
        "max_ms": float(latency.max()),
        "wall_s": wall,
        "throughput_per_s": len(results) / wall,
    }


def normalize(text: str) -> str:
    """Lower case, runs of whitespace folded (the gold file's comparison rule)."""
    return " ".join(text.lower().split())


def holds_gold(reply: dict[str, Any], answers: list[str]) -> bool:
    """Abstains on an unanswerable question, or its answer sentence or top passage holds
    one of the gold answers."""
    if not answers:
        return bool(reply["abstained"])
    if reply["abstained"]:
        return False
    top = reply["passages"][0]["text"] if reply["passages"] else ""
    where = normalize(f"{reply['answer'] or ''}\n{top}")
    return any(normalize(answer) in where for answer in answers)


def report(s: dict[str, Any]) -> None:
    misses = ", ".join(s["baseline_misses"]) or "none"
    lines = [
        f"qa chat UI load test against {s['url']}",
        f"  single client: {s['baseline_gold_correct']}/{s['baseline_questions']} dev questions "
        "correct against gold",
        f"    latency p50 {s['single_client_p50_ms']:.0f} ms, "
        f"p95 {s['single_client_p95_ms']:.0f} ms",
        f"    missed by retrieval itself (judged against the single-client reply): {misses}",
        f"  {s['clients']} clients x {s['questions_per_client']} questions = {s['calls']} calls "
        f"in {s['wall_s']:.1f} s ({s['throughput_per_s']:.1f}/s)",
        f"    errors {s['errors']}, incorrect {s['incorrect']}, "
        f"identical to single client {s['identical_to_single_client']}/{s['calls']}",
        f"    latency p50 {s['p50_ms']:.0f} ms, p95 {s['p95_ms']:.0f} ms, max {s['max_ms']:.0f} ms",
    ]
    lines += [f"  ! {example}" for example in s["error_examples"] + s["incorrect_examples"]]
    print("\n".join(lines))


if __name__ == "__main__":
    sys.exit(main())
