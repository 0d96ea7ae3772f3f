"""Indexing: build_index throughput against model.encode alone, and re-indexing after
one document of many changed."""

from __future__ import annotations

import hashlib
import shutil
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench import common, data


def throughput(n_documents: int, rounds: int) -> dict[str, Any]:
    """Passages per second of build_index on recombined real text, interleaved with
    `model.encode` on the very same passage texts at the same batch size."""
    from qa.config import Settings
    from qa.documents.chunking import chunk_document
    from qa.encoder.embedding import Embedder
    from qa.index import build_index, scoring_text

    settings = Settings(include_uploads=False)  # the bundled articles, without uploads
    documents = data.parse_all(
        data.real_text_documents(n_documents, seed=7, sentences=data.corpus_sentences())
    )
    texts = [
        scoring_text(c, d)
        for d in documents
        for c in chunk_document(d, settings.chunk_words, settings.chunk_overlap)
    ]
    embedder = Embedder(settings.model_path(), settings.batch_size)
    model = embedder.model
    model.encode(texts[:8], batch_size=settings.batch_size)
    times, cpu = common.interleaved(
        {
            "build_index": lambda: build_index(documents, settings, embedder),
            "model_encode": lambda: model.encode(
                texts,
                batch_size=settings.batch_size,
                show_progress_bar=False,
                convert_to_numpy=True,
                normalize_embeddings=True,
            ),
        },
        rounds,
    )
    n = len(texts)
    return {
        "documents": len(documents),
        "passages": n,
        "words_per_passage": float(np.mean([len(t.split()) for t in texts])),
        "batch_size": settings.batch_size,
        "build_index": {
            **common.summary(times["build_index"]),
            "passages_per_s": n / float(np.median(times["build_index"])),
        },
        "model_encode": {
            **common.summary(times["model_encode"]),
            "passages_per_s": n / float(np.median(times["model_encode"])),
        },
        # Throughput ratio: encode's time over build_index's.
        "ratio": common.compare(times["model_encode"], times["build_index"]),
        "cpu": {
            "build_index": common.summary(cpu["build_index"]),
            "model_encode": common.summary(cpu["model_encode"]),
            "ratio": common.compare(cpu["model_encode"], cpu["build_index"]),
        },
    }


class CountingEmbedder:
    """An Embedder that records the texts build_index asks it to embed, and serves texts
    it has embedded before (in this or an earlier benchmark run) from a disk cache, so the
    initial full index of the re-indexing test costs the model only once per machine."""

    def __init__(self, embedder: Any, cache_file: Path | None) -> None:
        self.inner = embedder
        self.model_path, self.name, self.batch_size = (
            embedder.model_path,
            embedder.name,
            embedder.batch_size,
        )
        self.cache_file = cache_file
        self.cache: dict[str, np.ndarray] = {}
        if cache_file is not None and cache_file.is_file():
            with np.load(cache_file, allow_pickle=False) as stored:
                self.cache = dict(zip(stored["keys"].tolist(), stored["vectors"], strict=True))
        self.asked: list[str] = []

    @property
    def dimension(self) -> int:
        return int(self.inner.dimension)

    def encode(self, texts: list[str], progress: bool = False) -> np.ndarray:
        self.asked.extend(texts)
        keys = [hashlib.sha256(t.encode()).hexdigest() for t in texts]
        missing = [i for i, k in enumerate(keys) if k not in self.cache]
        if missing:
            fresh = self.inner.encode([texts[i] for i in missing])
            for i, vector in zip(missing, fresh, strict=True):
                self.cache[keys[i]] = vector
        return np.stack([self.cache[k] for k in keys]) if keys else self.inner.encode([])

    def save(self) -> None:
        if self.cache_file is not None and self.cache:
            self.cache_file.parent.mkdir(parents=True, exist_ok=True)
            keys = list(self.cache)
            np.savez(
                self.cache_file,
                keys=np.asarray(keys),
                vectors=np.stack([self.cache[k] for k in keys]),
            )


def reindex(n_documents: int, work: Path, cache: bool) -> dict[str, Any]:
    """Index `n_documents` files, change one, and bring the index up to date through
    `engine.ensure_index` (as `qa index` does): count what was embedded again."""
    from qa.config import Settings
    from qa.encoder.embedding import Embedder
    from qa.engine import ensure_index

    raw = data.real_text_documents(n_documents, seed=3, sentences=data.corpus_sentences())
    corpus = work / "reindex-corpus"
    shutil.rmtree(corpus, ignore_errors=True)
    corpus.mkdir(parents=True)
    for doc_id, content in raw:
        (corpus / f"{doc_id}.txt").write_text(content, encoding="utf-8")
    settings = Settings(corpus_dir=corpus, index_dir=work / "reindex-index")
    shutil.rmtree(settings.index_path(), ignore_errors=True)
    cache_file = data.CACHE / f"reindex-vectors-{n_documents}.npz" if cache else None
    embedder = CountingEmbedder(Embedder(settings.model_path(), settings.batch_size), cache_file)
    start = time.perf_counter()
    index = ensure_index(settings, embedder, log=lambda message: None, progress=False)
    first = time.perf_counter() - start
    embedder.save()

    changed_id = raw[n_documents // 2][0]
    path = corpus / f"{changed_id}.txt"
    path.write_text(
        path.read_text(encoding="utf-8").rstrip() + " The park added a new line this spring.\n"
    )
    changed_passages = sum(1 for c in index.chunks if c.doc_id == changed_id)
    embedder.asked.clear()
    messages: list[str] = []
    start = time.perf_counter()
    updated = ensure_index(settings, embedder, log=messages.append, progress=False, previous=index)
    seconds = time.perf_counter() - start
    embedded = list(embedder.asked)
    changed_texts = {c.text for c in updated.chunks if c.doc_id == changed_id}
    only_changed = all(any(t.endswith(text) for text in changed_texts) for t in embedded)
    return {
        "documents": n_documents,
        "passages": len(updated.chunks),
        "changed_document_passages": changed_passages,
        "embedded": len(embedded),
        "reused": len(updated.chunks) - len(embedded),
        "embedded_only_changed_document": only_changed,
        "messages": messages,
        "first_build_s": first,
        "reindex_s": seconds,
    }
