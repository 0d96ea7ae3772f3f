"""qa: cited, extractive answers from a folder of documents (BM25 + FAISS hybrid).

The public API is imported lazily, so `qa --help` does not pay for numpy, faiss or torch.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "QA": "engine",
    "Answer": "answer",
    "Citation": "answer",
    "Chunk": "passage",
    "Document": "documents",
    "load_documents": "documents",
    "Settings": "config",
    "QAError": "errors",
    "Hit": "passage",
}

if TYPE_CHECKING:
    from .answer import Answer, Citation
    from .config import Settings
    from .documents.corpus import Document, load_documents
    from .engine import QA
    from .errors import QAError
    from .passage import Chunk, Hit


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module 'qa' has no attribute {name!r}")


__all__ = [
    "QA",
    "Answer",
    "Citation",
    "Chunk",
    "Document",
    "Hit",
    "QAError",
    "Settings",
    "load_documents",
    "__version__",
]
