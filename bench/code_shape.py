"""The shape of the code, in numbers: how many modules `src/qa` has, its longest
functions, how tall the import graph stands under `qa.answer` (and overall), whether
there are circles, and how many modules one question's call path passes through.

    .venv/bin/python bench/code_shape.py            # the call path asks one question

Imports are read from the source (ast), top level and inside functions alike, relative
ones resolved; the call path is traced (sys.setprofile) while a warm `QA.ask` answers a
question on the bundled corpus, with the index under bench/cache/.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src"
sys.path.insert(0, str(SRC))


def modules() -> dict[str, Path]:
    found = {}
    for path in sorted((SRC / "qa").rglob("*.py")):
        parts = path.relative_to(SRC).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def imports(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """The qa modules `name` imports (any level of the file)."""
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            # "from .x import y": the module x.y when there is one, else x itself.
            targets = [
                f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names
            ]
        else:
            continue
        out.update(t for t in targets if t in known and t != name)
    return out


def longest_functions(known: dict[str, Path], count: int = 5) -> list[tuple[int, str]]:
    lengths = []
    for name, path in known.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lengths.append((node.end_lineno - node.lineno + 1, f"{name}.{node.name}"))
    return sorted(lengths, reverse=True)[:count]


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    sys.setrecursionlimit(10_000)
    for v in graph:
        if v not in index:
            visit(v)
    return found


def depth(graph: dict[str, set[str]], start: str) -> int:
    """Modules on the longest import chain down from `start` (circles cut)."""

    @cache
    def down(v: str, seen: frozenset[str]) -> int:
        below = [down(w, seen | {w}) for w in graph[v] if w not in seen]
        return 1 + max(below, default=0)

    return down(start, frozenset({start}))


def call_path() -> Iterator[str]:
    from qa import QA, Settings

    settings = Settings(index_dir=ROOT / "bench" / "cache" / "code-shape", include_uploads=False)
    qa = QA.open(settings, log=lambda message: None, progress=False)
    question = "How many Fujian counties are among the top 20 for industrial internet?"
    qa.ask(question)  # warm: the answer model and caches loaded
    seen: list[str] = []

    def profile(frame, event, arg) -> None:  # noqa: ANN001 - sys.setprofile's signature
        if event == "call":
            module = frame.f_globals.get("__name__", "")
            if module.startswith("qa") and (not seen or seen[-1] != module):
                seen.append(module)

    sys.setprofile(profile)
    try:
        qa.ask(question)
    finally:
        sys.setprofile(None)
    yield from seen


def main() -> int:
    known = modules()
    graph = {name: imports(name, path, known) for name, path in known.items()}
    lines = sum(len(p.read_text(encoding="utf-8").splitlines()) for p in known.values())
    print(f"modules: {len(known)} ({lines:,} lines)")
    print("longest functions: " + ", ".join(f"{n} lines {f}" for n, f in longest_functions(known)))
    answer = next(n for n in ("qa.answer.compose", "qa.answer") if n in graph)
    print(f"import depth under {answer}: {depth(graph, answer)} modules")
    print(f"import depth, tallest: {max(depth(graph, n) for n in graph)} modules")
    groups = circles(graph)
    print(f"circles: {len(groups)}" + "".join(f"\n  {' <-> '.join(g)}" for g in groups))
    path = list(call_path())
    print(
        f"a question's call path (warm QA.ask): {len(set(path))} modules, "
        f"{len(path)} hops between them"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
