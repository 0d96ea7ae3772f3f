"""Rates with their uncertainty: the one home of the Wilson interval, which `qa eval`
reports every rate with and `qa calibrate` guards a threshold with."""

from __future__ import annotations

import math


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """The Wilson score interval of k successes in n (95% for z = 1.96): unlike the normal
    approximation it stays inside [0, 1] and is fair at 0 of 20 or 20 of 20."""
    if n == 0:
        return 0.0, 1.0
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def mean_interval(values: list[float] | tuple[float, ...], z: float = 1.96) -> tuple[float, float]:
    """A 95% interval for the mean of scores in [0, 1] (a span's F1): the normal
    approximation, clipped to [0, 1]; (0, 1) for fewer than two scores."""
    n = len(values)
    if n < 2:
        return 0.0, 1.0
    mean = sum(values) / n
    variance = sum((v - mean) ** 2 for v in values) / (n - 1)
    half = z * math.sqrt(variance / n)
    return max(0.0, mean - half), min(1.0, mean + half)
