"""Draws an evaluation's hit@k curves to a PNG (matplotlib, Agg canvas, imported lazily)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from ..errors import UsageError


def plot_hit_curves(curves: Mapping[str, Sequence[float]], path: Path, title: str = "") -> None:
    """Write a line chart of hit@k for k = 1..len(curve), one line per mode.

    Args:
        curves: mode -> [hit@1, hit@2, ...] (judge.hit_curve); empty curves are skipped.
        path: the .png to write.
        title: shown above the chart (e.g. the gold file's name).

    Raises:
        UsageError: no curve has points, or the file cannot be written.
    """
    # A Figure with its own Agg canvas, not pyplot: no global backend or figure state,
    # and no display is needed.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    drawn = {mode: list(curve) for mode, curve in curves.items() if curve}
    if not drawn:
        raise UsageError("Nothing to plot: the gold file has no answerable questions.")
    figure = Figure(figsize=(6.4, 4.2))
    canvas = FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    depth = max(len(curve) for curve in drawn.values())
    for mode, curve in drawn.items():
        axes.plot(range(1, len(curve) + 1), curve, marker="o", label=mode)
    axes.set_xlabel("k (passages read, in the order shown)")
    axes.set_ylabel("hit@k (share of answerable questions)")
    axes.set_xticks(range(1, depth + 1))
    axes.set_ylim(0, 1.02)
    axes.grid(alpha=0.3)
    axes.legend(title="mode", loc="lower right")
    if title:
        axes.set_title(title)
    figure.tight_layout()
    try:
        canvas.print_png(str(path))
    except OSError as e:
        raise UsageError(f"Cannot write {path}: {e.strerror or e}") from e
