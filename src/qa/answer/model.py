"""The learned answer step: which candidate answers, and whether to answer at all.

Two learned scorers, shipped as JSON (`models/answer_model.json`, learned by
`train/train_answer_model.py`, described in `models/README.md`):

- the sentence model, a conditional logit over `features.CANDIDATE_FEATURES`, scores
  each candidate: the one with the highest score is the answer;
- the answerability model, gradient-boosted trees over `question_features.QUESTION_FEATURES`
  (which include the sentence model's score of the chosen candidate), gives the
  probability that the question is answerable from the passages; below `threshold`,
  `qa` abstains.

Numpy only: no scikit-learn or torch on the question path.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, replace
from importlib.resources import files
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ModelError
from .features import CANDIDATE_FEATURES
from .question_features import QUESTION_FEATURES

MODEL_FORMAT = 1


@dataclass(frozen=True)
class Linear:
    """A standardised linear model: logit = ((x - mean) / scale) @ coef + intercept, where
    x holds the row's `columns` (the positions of `features` among those computed)."""

    features: tuple[str, ...]
    columns: tuple[int, ...]
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float

    def logits(self, rows: np.ndarray) -> np.ndarray:
        x = np.atleast_2d(rows)[:, list(self.columns)]
        return ((x - self.mean) / self.scale) @ self.coef + self.intercept

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": "linear",
            "features": list(self.features),
            "mean": [float(v) for v in self.mean],
            "scale": [float(v) for v in self.scale],
            "coef": [float(v) for v in self.coef],
            "intercept": float(self.intercept),
        }

    @classmethod
    def from_dict(cls, item: dict[str, Any], expected: tuple[str, ...], where: str) -> Linear:
        features, columns = _columns(item, expected, where)
        arrays = [np.asarray(item[k], dtype=np.float64) for k in ("mean", "scale", "coef")]
        if any(a.shape != (len(features),) for a in arrays) or not (arrays[1] > 0).all():
            raise ModelError(f"{where}: coefficient arrays do not match its feature list.")
        return cls(features, columns, arrays[0], arrays[1], arrays[2], float(item["intercept"]))


@dataclass(frozen=True)
class Trees:
    """Gradient-boosted regression trees: logit = base + the sum of each tree's leaf.

    Each tree is flat arrays over its nodes: at node i, go to left[i] when
    row[feature[i]] <= threshold[i], else right[i], until leaf[i]; value[i] is the leaf's
    contribution. This is scikit-learn's HistGradientBoostingClassifier, read out node by
    node (train/train_answer_model.py checks that both give the same probabilities)."""

    features: tuple[str, ...]
    columns: tuple[int, ...]
    base: float
    trees: tuple[dict[str, np.ndarray], ...]
    _roots: np.ndarray = field(init=False, repr=False, compare=False)
    _packed: dict[str, np.ndarray] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # All trees packed into one set of node arrays (each tree's node ids offset by
        # where it starts), so that `logits` walks every tree at once: one numpy step
        # per level instead of one per level and tree. 200 trees took ~5 ms a question
        # walked one by one, 0.1 ms packed.
        starts = np.cumsum([0] + [len(t["leaf"]) for t in self.trees[:-1]]).astype(np.int64)
        packed: dict[str, np.ndarray] = {}
        for key, dtype in _TREE_KEYS.items():
            parts = [t[key] for t in self.trees]
            if key in ("left", "right"):
                parts = [t[key] + start for t, start in zip(self.trees, starts, strict=True)]
            packed[key] = np.concatenate(parts).astype(dtype) if parts else np.zeros(0, dtype)
        object.__setattr__(self, "_roots", starts)
        object.__setattr__(self, "_packed", packed)

    def logits(self, rows: np.ndarray) -> np.ndarray:
        rows = np.atleast_2d(rows)[:, list(self.columns)]
        if not self.trees:
            return np.full(len(rows), self.base, dtype=np.float64)
        tree = self._packed
        # node[r, t]: where row r is in tree t. Every step moves each row one level
        # deeper in every tree whose leaf it has not reached.
        node = np.tile(self._roots, (len(rows), 1))
        at = np.arange(len(rows))[:, None]
        while True:
            inner = ~tree["leaf"][node]
            if not inner.any():
                break
            go_left = rows[at, tree["feature"][node]] <= tree["threshold"][node]
            step = np.where(go_left, tree["left"][node], tree["right"][node])
            node = np.where(inner, step, node)
        # base + tree 1 + tree 2 + ..., added in that order (cumsum is sequential), so
        # the sum is the same to the bit as adding tree by tree.
        values = np.concatenate([np.full((len(rows), 1), self.base), tree["value"][node]], axis=1)
        return np.cumsum(values, axis=1)[:, -1]

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": "trees",
            "features": list(self.features),
            "base": self.base,
            "trees": [{key: tree[key].tolist() for key in _TREE_KEYS} for tree in self.trees],
        }

    @classmethod
    def from_dict(cls, item: dict[str, Any], expected: tuple[str, ...], where: str) -> Trees:
        features, columns = _columns(item, expected, where)
        trees = []
        for raw in item["trees"]:
            tree = {key: np.asarray(raw[key], dtype=dtype) for key, dtype in _TREE_KEYS.items()}
            sizes = {len(a) for a in tree.values()}
            children = np.concatenate([tree["left"][~tree["leaf"]], tree["right"][~tree["leaf"]]])
            if (
                len(sizes) != 1
                or (children >= len(tree["leaf"])).any()
                or (children <= 0).any()
                or (tree["feature"][~tree["leaf"]] >= len(features)).any()
            ):
                raise ModelError(f"{where}: a tree's node arrays are inconsistent.")
            trees.append(tree)
        return cls(features, columns, float(item["base"]), tuple(trees))


_TREE_KEYS = {
    "feature": np.int64,
    "threshold": np.float64,
    "left": np.int64,
    "right": np.int64,
    "leaf": bool,
    "value": np.float64,
}


def columns_of(features: tuple[str, ...], computed: tuple[str, ...]) -> tuple[int, ...]:
    """Where each of `features` sits among the `computed` ones."""
    return tuple(computed.index(name) for name in features)


def _columns(
    item: dict[str, Any], computed: tuple[str, ...], where: str
) -> tuple[tuple[str, ...], tuple[int, ...]]:
    """A scorer's features and their columns; each must be one this qa computes."""
    features = tuple(item["features"])
    unknown = [name for name in features if name not in computed]
    if unknown:
        raise ModelError(
            f"{where} reads features this qa does not compute ({', '.join(unknown)}): "
            "retrain it with `make train`."
        )
    return features, columns_of(features, computed)


def _scorer(item: dict[str, Any], expected: tuple[str, ...], where: str) -> Linear | Trees:
    if item.get("type", "linear") == "trees":
        return Trees.from_dict(item, expected, where)
    return Linear.from_dict(item, expected, where)


# The false-abstention budget of a model whose meta does not record it (train/: 3%).
DEFAULT_FALSE_ABSTENTION = 0.03


@dataclass(frozen=True)
class AnswerModel:
    sentence: Linear | Trees
    answerable: Linear | Trees
    # Answer when the answerability probability reaches this (chosen on out-of-fold
    # predictions of the training questions, see models/README.md).
    threshold: float
    # Below `threshold` but at or above this, the closest sentence is shown as a hedge
    # ("The documents may not say this."); below it, qa abstains. Equal: no hedging.
    hedge: float
    # Two candidates whose sentence probabilities differ by less than this count as
    # "close": then a dated, newer statement wins over an older or undated one.
    close: float
    meta: dict[str, Any]
    # The SHA-256 of the model file: a threshold calibrated on this model's probabilities
    # (verdicts.py) applies to it alone.
    digest: str = ""
    # Whether `hedge` (the abstention cut) was set by a user's verdicts for one index.
    calibrated: bool = False

    @property
    def false_abstention(self) -> float:
        """The share of answerable questions the hedge threshold may abstain on, as it
        was chosen (on the dev questions), and as `qa calibrate` chooses one."""
        return float(self.meta.get("false_abstention_target", DEFAULT_FALSE_ABSTENTION))

    def with_cut(self, threshold: float) -> AnswerModel:
        """This model abstaining below `threshold` (calibrated from verdicts): what it
        shows between there and its own answer threshold is hedged."""
        return replace(
            self, hedge=threshold, threshold=max(threshold, self.threshold), calibrated=True
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": MODEL_FORMAT,
            "sentence": self.sentence.to_dict(),
            "answerable": self.answerable.to_dict(),
            "threshold": self.threshold,
            "hedge": self.hedge,
            "close": self.close,
            "meta": self.meta,
        }


def default_model_path() -> Path:
    return Path(str(files("qa") / "models" / "answer_model.json"))


def read_model_file(where: Path, what: str, expected_format: int) -> tuple[bytes, dict[str, Any]]:
    """A learned model's JSON file: its bytes (for a digest) and its object, in the
    format this qa reads.

    Raises:
        ModelError: the file is missing, unreadable, or in another format.
    """
    try:
        raw = where.read_bytes()
        item = json.loads(raw.decode("utf-8"))
    except FileNotFoundError as e:
        raise ModelError(f"No {what} at {where}.") from e
    except (OSError, ValueError) as e:
        raise ModelError(f"Cannot read the {what} at {where}: {e}") from e
    if not isinstance(item, dict) or item.get("format") != expected_format:
        raise ModelError(f"{where} is in another format; retrain it with `make train`.")
    return raw, item


def load_answer_model(path: Path | str | None = None) -> AnswerModel:
    """Read the answer model (default: the one shipped in the package).

    Raises:
        ModelError: the file is missing, unreadable, or learned over other features.
    """
    where = Path(path) if path else default_model_path()
    raw, item = read_model_file(where, "answer model", MODEL_FORMAT)
    try:
        return AnswerModel(
            sentence=_scorer(item["sentence"], CANDIDATE_FEATURES, str(where)),
            answerable=_scorer(item["answerable"], QUESTION_FEATURES, str(where)),
            threshold=float(item["threshold"]),
            hedge=float(item.get("hedge", item["threshold"])),
            close=float(item.get("close", 0.0)),
            meta=dict(item.get("meta", {})),
            digest=hashlib.sha256(raw).hexdigest(),
        )
    except (KeyError, TypeError, ValueError) as e:
        raise ModelError(f"{where} is not a valid answer model ({e}).") from e


def sigmoid(x: np.ndarray | float) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.asarray(x, dtype=np.float64)))
