"""The code's layout by pipeline stage: each package imports only from the ones below it,
and no module imports one that imports it back (read from the source, lazy imports too).
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

import code_shape  # noqa: E402

# Lowest first. A module may import from its own package and from the floors below.
FLOORS: tuple[tuple[str, ...], ...] = (
    (
        "qa.config",
        "qa.errors",
        "qa.log",
        "qa.language",
        "qa.text",
        "qa.stats",
        "qa.digest",
        "qa.passage",
    ),
    ("qa.process",),
    ("qa.documents",),
    ("qa.encoder",),
    ("qa.index",),
    ("qa.search",),
    ("qa.answer",),
    ("qa.engine",),
    ("qa.evaluation", "qa.ui"),
    ("qa.cli",),
)


def floor_of(module: str) -> tuple[int, str]:
    """(floor, the unit it belongs to: its package, or the module at the ground)."""
    for number, units in enumerate(FLOORS):
        for unit in units:
            if module == unit or module.startswith(unit + "."):
                return number, unit
    raise AssertionError(f"{module} is on no floor: add it to FLOORS")


def graph() -> dict[str, set[str]]:
    known = code_shape.modules()
    return {name: code_shape.imports(name, path, known) for name, path in known.items()}


def test_every_package_imports_only_from_below() -> None:
    upward = []
    for module, imported in graph().items():
        if module == "qa":  # the package's face: a lazy map of the public names
            continue
        floor, unit = floor_of(module)
        for target in imported:
            if target == "qa":
                continue  # `from . import __version__`
            other, other_unit = floor_of(target)
            # Ground modules are peers; a package's own modules may import each other.
            if other < floor or other_unit == unit or (floor == other == 0):
                continue
            upward.append(f"{module} -> {target}")
    assert upward == []


def test_no_circles() -> None:
    assert code_shape.circles(graph()) == []


def test_the_stages_each_have_a_face_that_says_what_it_offers() -> None:
    for package in ("documents", "encoder", "index", "search", "answer"):
        face = (ROOT / "src" / "qa" / package / "__init__.py").read_text(encoding="utf-8")
        assert face.startswith('"""') and "__all__" in face, package
