"""Plot each domain's operating curve on its dev questions (docs/curves_dev.png).

    python train/plot_curves.py     # after train/train_answer_model.py wrote the curves

For every threshold, the share of answerable questions refused (false abstention, x)
against the share of each kind of unanswerable question refused (y), one panel per
domain, with the shipped answer and hedge thresholds marked. A threshold that suits one
domain can sit at a very different point of the other's curve: the plot shows it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from qa.answer.model import load_answer_model  # noqa: E402


def main() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    curves = json.loads((ROOT / "docs/curves_dev.json").read_text(encoding="utf-8"))
    model = load_answer_model()
    figure, axes = plt.subplots(1, 2, figsize=(11, 4.4), sharey=True)
    for ax, (domain, curve) in zip(axes, curves.items(), strict=True):
        t = np.array(curve["threshold"])
        x = np.array(curve["answerable"])
        for kind in [k for k in curve if k not in ("threshold", "answerable")]:
            ax.plot(x, curve[kind], label=kind.replace("_", " "))
        for value, name, style in ((model.hedge, "hedge", "--"), (model.threshold, "answer", ":")):
            at = int(np.searchsorted(t, value))
            at = min(at, len(t) - 1)
            ax.axvline(x[at], color="grey", linestyle=style, label=f"{name} threshold {value:.3f}")
        ax.axvline(0.03, color="red", alpha=0.3, label="3% false abstention")
        ax.set_xlim(0, 0.3)
        ax.set_ylim(0, 1.02)
        ax.set_title(f"{domain} dev")
        ax.set_xlabel("answerable questions refused (false abstention)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="lower right")
    axes[0].set_ylabel("unanswerable questions refused")
    figure.tight_layout()
    out = ROOT / "docs/curves_dev.png"
    figure.savefig(out, dpi=110)
    print(f"wrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
