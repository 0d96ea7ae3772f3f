"""Every error `qa` raises on purpose: the CLI and the UI show these as one line."""

from __future__ import annotations

from pathlib import Path


class QAError(Exception):
    """A known failure with a message fit to show a user as it is."""

    exit_code = 1


class UsageError(QAError):
    """The caller asked for something invalid (bad question, bad -k, bad gold file)."""

    exit_code = 2


class CorpusError(QAError):
    """The corpus folder is missing, empty, or holds nothing readable."""


class IndexNotFoundError(QAError):
    """There is no index where one was expected."""


class IndexCorruptError(QAError):
    """The index folder exists but a file in it is missing, truncated or unreadable.

    `problem` is what is wrong, without the advice to rebuild (for `qa index`, which
    rebuilds it anyway)."""

    def __init__(self, message: str, problem: str = "") -> None:
        super().__init__(message)
        self.problem = problem or message


class IndexFormatError(IndexCorruptError):
    """The index was written by another version of qa, in another format."""


class IndexWriteError(QAError):
    """The index folder cannot be created or written (permissions, a file in the way,
    a full disk). Whatever index was there is left as it was."""

    def __init__(self, message: str, path: str = "", reason: str = "", advice: str = "") -> None:
        super().__init__(message)
        self.path, self.reason, self.advice = path, reason, advice


class IndexMismatchError(QAError):
    """The index was built with another model or embedding dimension."""


class ModelError(QAError):
    """The embedding model could not be found or loaded."""


class ClusterError(QAError):
    """A Ray cluster could not be used to build the index (Ray not installed, no cluster
    at the address, workers lost past their retries). The index is left as it was."""


class GoldFileError(UsageError):
    """A gold question file is malformed."""


# What the messages below tell a user to run, unless the caller knows the exact command
# (index_data.rebuild_command).
REBUILD = "qa index --rebuild"


def damaged(root: Path, problem: str, command: str, state: str = "is damaged") -> IndexCorruptError:
    """A damaged-index error naming the file and what is wrong with it in plain words
    (never the faiss or numpy exception text), and the command that rebuilds it."""
    what = f"The index at {root}/ {state}: {problem}."
    return IndexCorruptError(f'{what} Run "{command}" to rebuild it.', problem=what)


def unreadable(name: str, error: OSError) -> str:
    """`name` could not be read at all (not damaged inside): say why, in words."""
    if isinstance(error, PermissionError):
        return f"{name} cannot be read (permission denied)"
    return f"{name} cannot be read ({(error.strerror or type(error).__name__).lower()})"
