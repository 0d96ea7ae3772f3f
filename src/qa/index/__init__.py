"""The index: passages weighted for BM25 (bm25_build, bm25) and embedded for FAISS
(vectors), built (build), held in memory (data), saved and loaded (store) with its
manifest (manifest), kept current with the corpus (freshness), and built on a Ray
cluster (distributed, shards, ray_cluster; imported only by `qa index --ray`).
"""

from ..errors import REBUILD
from .build import (
    EmbeddingProgress,
    all_acronyms,
    assemble,
    build_index,
    embed_with_progress,
    passages,
    reuse_vectors,
    scoring_text,
)
from .data import Index, rebuild_command
from .freshness import Builder, LocalBuild, ensure_index
from .manifest import Manifest, check_model, read_manifest
from .store import BM25_FILES, INDEX_FILES, check_index_writable, load_index, save_index

__all__ = [
    "BM25_FILES",
    "INDEX_FILES",
    "REBUILD",
    "Builder",
    "EmbeddingProgress",
    "Index",
    "LocalBuild",
    "Manifest",
    "all_acronyms",
    "assemble",
    "build_index",
    "check_index_writable",
    "check_model",
    "embed_with_progress",
    "ensure_index",
    "load_index",
    "passages",
    "read_manifest",
    "rebuild_command",
    "reuse_vectors",
    "save_index",
    "scoring_text",
]
