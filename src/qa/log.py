"""Where `qa` says what it is doing: one line at a time, to stderr (stdout is for
results only). Every function that reports progress takes a `Log`."""

from __future__ import annotations

import sys
from collections.abc import Callable

Log = Callable[[str], None]


def to_stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)
