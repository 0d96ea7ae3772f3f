"""Joining a Ray cluster and running Ray Data datasets on it, with qa's errors: a
cluster that is not there, or that lost its workers, is one line (ClusterError), and a
qa error raised in a task comes out as itself. Imported by `qa index --ray` only.
"""

from __future__ import annotations

import logging
import re
import socket
from collections.abc import Iterator
from typing import Any

from ..errors import ClusterError, QAError

# How long joining a cluster may take to answer before it is reported unreachable (Ray
# itself retries for minutes).
CONNECT_TIMEOUT_S = 5.0


def connect(address: str, num_cpus: int | None = None) -> tuple[Any, bool]:
    """(the ray module, whether this call joined a cluster): the cluster at `address`
    (RayBuild), or the one this process joined already.

    Raises:
        ClusterError: Ray is not installed, or no cluster answers at `address`.
    """
    try:
        import ray
        import ray.data
    except ImportError as e:
        raise ClusterError(
            f"Ray is not installed ({e}). Install it with: pip install 'qa[ray]' "
            "(in a checkout: pip install -e '.[ray]')."
        ) from e
    joined = False
    if not ray.is_initialized():
        options: dict[str, Any] = {"logging_level": logging.ERROR, "log_to_driver": False}
        if address == "local":
            options.update(include_dashboard=False, num_cpus=num_cpus)
        elif address != "auto":
            _check_reachable(address)
        try:
            ray.init(address=address, **options)
        except (ConnectionError, RuntimeError, ValueError) as e:
            # `ray start` turns token authentication on (Ray 2.59+); a driver joining
            # the cluster must turn it on too, or it is refused without being told why.
            raise ClusterError(
                f"Cannot join the Ray cluster at {address}: {_first_line(e)}. If the "
                "cluster uses token authentication, set RAY_AUTH_MODE=token (the token is "
                "read from RAY_AUTH_TOKEN or ~/.ray/auth_token)."
            ) from e
        joined = True
    context = ray.data.DataContext.get_current()
    # The build reports its own progress, as without Ray (EmbeddingProgress).
    context.enable_progress_bars = False
    context.print_on_execution_start = False
    context.enable_auto_log_stats = False
    # A task's own exception, not Ray Data's wrapper that keeps only its text: a qa error
    # raised on a worker reaches the user as itself (`run`).
    context.raise_original_map_exception = True
    logging.getLogger("ray.data").setLevel(logging.ERROR)
    return ray, joined


def _check_reachable(address: str) -> None:
    """A cluster that does not answer is an error now, rather than after Ray's minutes
    of retrying."""
    host, _, port = address.removeprefix("ray://").rpartition(":")
    if not host or not port.isdigit():
        raise ClusterError(
            f"{address!r} is not a Ray address: use local, auto, HOST:PORT (the head "
            "node's, 6379 by default) or ray://HOST:PORT."
        )
    try:
        socket.create_connection((host.strip("[]"), int(port)), CONNECT_TIMEOUT_S).close()
    except OSError as e:
        raise ClusterError(
            f"No Ray cluster answers at {address} ({e.strerror or e}). Start one with "
            '"ray start --head" on its head node, or build on this machine with --ray local.'
        ) from e


def blocks(
    ray: Any,
    columns: dict[str, list[Any]],
    types: dict[str, str],
    size: int,
    same: list[str] | None = None,
) -> Any:
    """A dataset of `columns` (of pyarrow `types` by name), one block (one task) per
    `size` rows. With `same`, a block never ends between two rows whose `same` are
    equal (documents of one id, whose passages build_index gives one context)."""
    import pyarrow as pa

    schema = pa.schema([(name, getattr(pa, types[name])()) for name in columns])
    n = len(next(iter(columns.values())))
    tables, start = [], 0
    while start < n:
        end = min(start + size, n)
        while same is not None and end < n and same[end] == same[end - 1]:
            end += 1
        tables.append(pa.table({k: v[start:end] for k, v in columns.items()}, schema=schema))
        start = end
    return ray.data.from_arrow(tables)


def run(ray: Any, dataset: Any, batch_format: str = "pyarrow") -> Iterator[Any]:
    """The dataset's output, a block at a time. A qa error raised in a task (a corpus
    that a node does not see) comes out as itself, not wrapped in Ray's errors; a
    failure of the cluster itself (a worker that could not start, objects lost with
    their node) is a ClusterError. Any other error in a task keeps its traceback."""
    try:
        yield from dataset.iter_batches(batch_size=None, batch_format=batch_format)
    except Exception as e:
        cause = _qa_cause(e)
        if cause is not None:
            # Ray Data appends its advice on retries to the message: qa's are one line.
            if cause.args and isinstance(cause.args[0], str):
                cause.args = (cause.args[0].split("\n", 1)[0], *cause.args[1:])
            raise cause from None
        if isinstance(e, ray.exceptions.RayError) and not isinstance(
            e, ray.exceptions.RayTaskError
        ):
            raise ClusterError(f"The build on the Ray cluster failed: {_summary(e)}") from e
        raise


def _qa_cause(error: BaseException) -> QAError | None:
    """The qa error (one of errors.py's own classes, not Ray's wrapper of it) that a
    task raised, if `error` is one."""
    seen: set[int] = set()
    stack: list[BaseException | None] = [error]
    while stack:
        e = stack.pop()
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        if isinstance(e, QAError) and type(e).__module__ == QAError.__module__:
            return e
        stack += [e.__cause__, e.__context__, getattr(e, "cause", None)]
    return None


def _first_line(error: BaseException) -> str:
    """The error's first line, without the terminal colours Ray puts in."""
    return _lines(error)[0]


def _summary(error: BaseException) -> str:
    """First line and last: Ray's own errors open with what failed and end with why (a
    worker's traceback, "ModuleNotFoundError: No module named 'qa'")."""
    lines = _lines(error)
    return lines[0] if len(lines) == 1 else f"{lines[0]} ({lines[-1]})"


def _lines(error: BaseException) -> list[str]:
    text = re.sub(r"\x1b\[[0-9;]*m", "", str(error))
    return [line.strip() for line in text.splitlines() if line.strip()] or [type(error).__name__]
