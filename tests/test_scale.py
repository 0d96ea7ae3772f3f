"""Speed-and-scale guarantees that are about behaviour: SparseBM25 scores as rank-bm25
does, re-indexing reuses what did not change, and the approximate index finds what exact
search finds. Timing itself lives in bench/ (docs/BENCHMARKS.md), whose smoke run is
`make bench-smoke`.
"""

from __future__ import annotations

import json
import mmap
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

from qa import QA, Settings, load_documents
from qa.engine import ensure_index
from qa.errors import IndexCorruptError
from qa.index import bm25_build, build_index, load_index, save_index, scoring_text
from qa.index.bm25 import BM25Shard, SparseBM25
from qa.index.vectors import build_vector_index
from qa.text import tokenize

ROOT = Path(__file__).resolve().parent.parent
# The vector checks (kind, recall@k) live with the benchmark, which shares them.
sys.path.insert(0, str(ROOT))
from bench.bm25_reference import rank_bm25_reference  # noqa: E402
from bench.common import index_kind, recall_at_k  # noqa: E402

sys.path.remove(str(ROOT))
CORPUS = ROOT / "corpus"
DEV = ROOT / "tests" / "gold" / "dev.jsonl"
CHANGED = "hunan-counties-top20-industrial-internet"


def dev_questions(n: int) -> list[str]:
    lines = [line for line in DEV.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [json.loads(line)["question"] for line in lines[:n]]


class CountingEmbedder:
    """The real embedder, recording every text build_index asks it to embed."""

    def __init__(self, embedder) -> None:  # type: ignore[no-untyped-def]
        self.inner = embedder
        self.model_path, self.name, self.batch_size = (
            embedder.model_path,
            embedder.name,
            embedder.batch_size,
        )
        self.dimension = embedder.dimension
        self.texts: list[str] = []

    def encode(self, texts: list[str], progress: bool = False) -> np.ndarray:
        self.texts.extend(texts)
        return self.inner.encode(texts, progress=progress)


@pytest.mark.parametrize("variant", ["okapi", "plus", "l"])
@pytest.mark.parametrize(("k1", "b"), [(1.2, 0.75), (1.6, 0.3)])
def test_sparse_bm25_scores_equal_rank_bm25_on_the_real_corpus(
    qa: QA, variant: str, k1: float, b: float
) -> None:
    passages = [tokenize(scoring_text(c, qa.index.documents[c.doc_id])) for c in qa.index.chunks]
    sparse = SparseBM25.build(passages, variant, k1, b)  # type: ignore[arg-type]
    reference = rank_bm25_reference(passages, variant, k1, b)  # type: ignore[arg-type]
    queries = [tokenize(q) for q in dev_questions(15)]
    # A repeated term counts twice in rank-bm25; a term outside the corpus adds nothing.
    queries += [["liangjiang", "liangjiang", "digital"], ["zyxwv"], []]
    for terms in queries:
        # The weights are stored as float32 (about 7 significant digits), summed in float64.
        np.testing.assert_allclose(
            sparse.scores(terms), reference.get_scores(terms), rtol=1e-6, atol=1e-12
        )


def test_sparse_bm25_built_from_a_generator_scores_as_rank_bm25_on_odd_passages(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Token lists streamed once; a word repeated past 255 times in a passage, empty
    passages, and (with a 4-bit term field) terms that do not pack all score as
    rank-bm25 says."""
    rng = np.random.default_rng(7)
    words = [f"w{i}" for i in range(40)]
    passages = [list(rng.choice(words, size=int(rng.integers(0, 30)))) for _ in range(300)]
    passages[3] = ["echo"] * 300 + ["w1"]
    passages[4] = []
    queries = [["echo"], ["w1", "w2", "w2"], ["w39", "echo", "nothing"], []]
    for bits in (bm25_build._TERM_BITS, 4):
        monkeypatch.setattr(bm25_build, "_TERM_BITS", bits)
        monkeypatch.setattr(bm25_build, "_TERM_LIMIT", 1 << bits)
        monkeypatch.setattr(bm25_build, "_BLOCK", 64)
        for variant in ("okapi", "plus", "l"):
            sparse = SparseBM25.build((p for p in passages), variant, 1.2, 0.75)  # type: ignore[arg-type]
            reference = rank_bm25_reference(passages, variant, 1.2, 0.75)  # type: ignore[arg-type]
            w = sparse.weights
            assert all(  # each term's passages in increasing order
                np.all(np.diff(w.indices[w.indptr[t] : w.indptr[t + 1]]) > 0)
                for t in range(w.shape[0])
            )
            for terms in queries:
                np.testing.assert_allclose(
                    sparse.scores(terms), reference.get_scores(terms), rtol=1e-6, atol=1e-12
                )


def uneven_shards(passages: list[list[str]], seed: int) -> list[BM25Shard]:
    """The passages counted in shards of random, uneven sizes (some empty), in order."""
    rng = np.random.default_rng(seed)
    cuts = sorted({0, len(passages), *rng.integers(0, len(passages) + 1, size=6).tolist()})
    shards = [BM25Shard.count(passages[a:z]) for a, z in zip(cuts, cuts[1:], strict=False)]
    return [BM25Shard.count([]), *shards[:2], BM25Shard.count([]), *shards[2:]]


def assert_same_bm25(merged: SparseBM25, built: SparseBM25) -> None:
    assert list(merged.vocabulary.items()) == list(built.vocabulary.items())
    for name, array in built.to_arrays().items():
        other = merged.to_arrays()[name]
        assert other.dtype == array.dtype and np.array_equal(other, array), name


@pytest.mark.parametrize("variant", ["okapi", "plus", "l"])
def test_bm25_merged_from_uneven_shards_equals_one_build_on_the_real_corpus(
    qa: QA, variant: str
) -> None:
    """What the workers of a Ray build count, shard by shard, merges into the arrays one
    process builds: same term ids (first appearance), same float32 weights, same scores."""
    passages = [tokenize(scoring_text(c, qa.index.documents[c.doc_id])) for c in qa.index.chunks]
    built = SparseBM25.build(passages, variant, 1.2, 0.75)  # type: ignore[arg-type]
    merged = SparseBM25.merge(uneven_shards(passages, 1), variant, 1.2, 0.75)  # type: ignore[arg-type]
    assert_same_bm25(merged, built)
    for terms in [tokenize(q) for q in dev_questions(15)]:
        np.testing.assert_array_equal(merged.scores(terms), built.scores(terms))


def test_bm25_merged_from_shards_equals_one_build_on_odd_passages(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A synthetic corpus with a word repeated past 255 times, empty passages, shards
    that share and do not share terms, and (with a 4-bit term field) entries that do
    not pack: merged equals built, array for array."""
    rng = np.random.default_rng(11)
    words = [f"w{i}" for i in range(60)]
    passages = [
        list(rng.choice(words[: 20 + i % 40], size=int(rng.integers(0, 40)))) for i in range(400)
    ]
    passages[7] = ["echo"] * 300 + ["w1"]
    passages[8] = []
    passages[399] = ["last", "last"]
    for bits in (bm25_build._TERM_BITS, 4):
        monkeypatch.setattr(bm25_build, "_TERM_BITS", bits)
        monkeypatch.setattr(bm25_build, "_TERM_LIMIT", 1 << bits)
        monkeypatch.setattr(bm25_build, "_BLOCK", 64)
        for variant in ("okapi", "plus", "l"):
            built = SparseBM25.build(passages, variant, 1.6, 0.3)  # type: ignore[arg-type]
            for seed in (2, 3):
                merged = SparseBM25.merge(uneven_shards(passages, seed), variant, 1.6, 0.3)  # type: ignore[arg-type]
                assert_same_bm25(merged, built)
    assert SparseBM25.merge([], "plus", 1.2, 0.75).weights.shape == (0, 0)


def test_the_saved_bm25_scores_equal_rank_bm25(qa: QA, settings: Settings) -> None:
    """The index on disk (saved, loaded) still scores as rank-bm25 with its settings."""
    index = load_index(settings.index_path())
    passages = [tokenize(scoring_text(c, index.documents[c.doc_id])) for c in index.chunks]
    reference = rank_bm25_reference(
        passages, settings.bm25_variant, settings.bm25_k1, settings.bm25_b
    )
    for terms in (tokenize(q) for q in dev_questions(5)):
        np.testing.assert_allclose(
            index.bm25.scores(terms), reference.get_scores(terms), rtol=1e-6, atol=1e-12
        )


def test_reindexing_one_changed_file_embeds_only_its_passages_and_matches_a_full_rebuild(
    qa: QA, tmp_path: Path
) -> None:
    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus)
    settings = qa.settings.replace(corpus_dir=corpus, index_dir=tmp_path / "index")
    # The session's index was built from identical files: it stands for the index on disk
    # before the edit.
    save_index(qa.index, settings.index_path())
    path = corpus / f"{CHANGED}.txt"
    path.write_text(
        path.read_text(encoding="utf-8").rstrip()
        + "\n\nThe county also opened a robotics school in 2024.\n",
        encoding="utf-8",
    )

    counting = CountingEmbedder(qa.embedder)
    messages: list[str] = []
    incremental = ensure_index(settings, counting, log=messages.append, progress=False)  # type: ignore[arg-type]

    changed = {
        scoring_text(c, incremental.documents[CHANGED])
        for c in incremental.chunks
        if c.doc_id == CHANGED
    }
    unchanged = [c for c in incremental.chunks if c.doc_id != CHANGED]
    assert counting.texts, "the changed file's new passage was not embedded"
    assert set(counting.texts) <= changed
    embedded = len(counting.texts)
    reused = len(incremental.chunks) - embedded
    assert reused >= len(unchanged)
    assert f"({reused} reused, {embedded} embedded)" in messages[-1]

    documents, _ = load_documents(corpus)
    full, reused_by_full = build_index(documents, settings, qa.embedder)
    assert reused_by_full == 0
    assert [c.id for c in full.chunks] == [c.id for c in incremental.chunks]
    np.testing.assert_allclose(incremental.chunk_vectors(), full.chunk_vectors(), atol=1e-5)
    a, b = QA(incremental, qa.embedder, settings), QA(full, qa.embedder, settings)
    for question in dev_questions(8) + ["Which county opened a robotics school?"]:
        hits_a, hits_b = a.search(question, k=5), b.search(question, k=5)
        assert [h.chunk.id for h in hits_a] == [h.chunk.id for h in hits_b], question
        np.testing.assert_allclose([h.score for h in hits_a], [h.score for h in hits_b], atol=1e-5)


def clustered_vectors(n: int, seed: int) -> np.ndarray:
    """Unit vectors around 50 centres, with neighbourhoods as embeddings have them
    (independent random vectors in 384 dimensions are all nearly orthogonal)."""
    rng = np.random.default_rng(seed)
    centres = np.random.default_rng(0).normal(size=(50, 384))
    x = centres[rng.integers(0, 50, size=n)] + rng.normal(scale=1.0, size=(n, 384))
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


@pytest.mark.parametrize("storage", ["float16", "float32"])
def test_the_approximate_index_finds_the_exact_top_10(storage: str) -> None:
    vectors = clustered_vectors(3000, seed=1)
    queries = clustered_vectors(200, seed=2)
    settings = Settings(ann_threshold=1000, hnsw_storage=storage)  # type: ignore[arg-type]
    approximate = build_vector_index(vectors, settings)
    exact = build_vector_index(vectors, settings.replace(ann_threshold=len(vectors)))
    assert (index_kind(approximate), index_kind(exact)) == ("hnsw", "exact")
    _, truth = exact.faiss.search(queries, 10)
    _, found = approximate.faiss.search(queries, 10)
    assert recall_at_k(found, truth, 10) >= 0.95
    assert [i for i, _ in approximate.search(queries[0], 10)] == found[0].tolist()
    np.testing.assert_allclose(approximate.all()[:5], vectors[:5], atol=1e-3)


def test_recall_at_k_counts_the_shared_ids() -> None:
    # Row 1 finds 2 of its 3 true ids, row 2 finds 3 of 3: recall (2 + 3) / 6.
    found = np.array([[1, 2, 9], [4, 5, 6]])
    truth = np.array([[1, 2, 3], [6, 5, 4]])
    assert recall_at_k(found, truth, 3) == pytest.approx(5 / 6)


def test_exact_search_by_numpy_ranks_as_faiss_flat_index_does() -> None:
    rng = np.random.default_rng(3)
    vectors = rng.normal(size=(500, 24)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    exact = build_vector_index(vectors, Settings())
    assert index_kind(exact) == "exact"
    flat = exact.faiss
    for query in [vectors[3], *rng.normal(size=(20, 24)).astype(np.float32)]:
        for depth in (1, 10, 500, 600):
            found = exact.search(query, depth)
            scores, ids = flat.search(query.reshape(1, -1), depth)
            expected = [int(i) for i in ids[0] if i >= 0]
            # The same passages, best first; two whose scores differ by rounding alone
            # (numpy's and FAISS's sums) may stand either way round.
            assert {i for i, _ in found} == set(expected)
            assert [i for i, _ in found][:10] == expected[:10]
            np.testing.assert_allclose([s for _, s in found], scores[0][: len(expected)], atol=1e-5)
    np.testing.assert_array_equal(exact.take([7, 3]), vectors[[7, 3]])
    np.testing.assert_array_equal(exact.all(), vectors)
    # Two passages of the same text tie: the earlier one first, on every search.
    vectors[7] = vectors[3]
    tied = build_vector_index(vectors, Settings())
    assert [i for i, _ in tied.search(vectors[3], 2)] == [3, 7]


def test_an_index_past_the_threshold_is_hnsw_and_survives_save_and_load(
    qa: QA, tmp_path: Path
) -> None:
    settings = qa.settings.replace(ann_threshold=10, hnsw_ef_search=48)
    documents = list(qa.index.documents.values())
    index, reused = build_index(documents, settings, qa.embedder, previous=qa.index)
    assert reused == len(index.chunks) > 10
    assert index_kind(index.vectors) == "hnsw"
    save_index(index, tmp_path / "index")
    loaded = load_index(tmp_path / "index")
    assert index_kind(loaded.vectors) == "hnsw"
    assert loaded.vectors.faiss.hnsw.efSearch == 48
    assert not (tmp_path / "index" / "vectors.npy").exists()
    faiss_file = tmp_path / "damaged" / "faiss.index"
    shutil.copytree(tmp_path / "index", faiss_file.parent)
    faiss_file.write_bytes(faiss_file.read_bytes()[:100])
    with pytest.raises(IndexCorruptError, match="faiss.index is truncated or corrupted"):
        load_index(faiss_file.parent)
    exact, approximate = QA(qa.index, qa.embedder, qa.settings), QA(loaded, qa.embedder, settings)
    for question in dev_questions(5):
        hits_exact, hits_approximate = (
            exact.search(question, k=5),
            approximate.search(question, k=5),
        )
        # 39 passages: the graph reaches all of them, so the ranking is the exact one.
        assert [h.chunk.id for h in hits_approximate] == [h.chunk.id for h in hits_exact], question
        np.testing.assert_allclose(
            [h.dense_score for h in hits_approximate],
            [h.dense_score for h in hits_exact],
            atol=1e-3,
        )


def test_a_loaded_index_reads_its_passages_when_asked_and_keeps_them_when_rebuilt(
    qa: QA, tmp_path: Path
) -> None:
    """load_index maps the vectors and BM25 arrays and reads a passage or document from
    its line on demand; the same index as saved, and still itself after the folder is
    rebuilt with other content."""
    target = tmp_path / "index"
    save_index(qa.index, target)
    loaded = load_index(target)
    weights = loaded.bm25.weights
    assert all(_mapped(a) for a in (weights.data, weights.indices, weights.indptr))
    assert list(loaded.chunks) == list(qa.index.chunks)
    assert [loaded.chunks[i] for i in (0, -1)] == [qa.index.chunks[0], qa.index.chunks[-1]]
    assert dict(loaded.documents) == dict(qa.index.documents)
    assert sorted(d.id for d in loaded.documents.values()) == sorted(qa.index.documents)
    np.testing.assert_array_equal(loaded.chunk_vectors(), qa.index.chunk_vectors())
    before = [loaded.chunks[i] for i in range(len(loaded.chunks))]

    documents = list(qa.index.documents.values())[:2]
    smaller, _ = build_index(documents, qa.settings, qa.embedder, previous=qa.index)
    save_index(smaller, target)
    assert len(load_index(target).chunks) == len(smaller.chunks) < len(before)
    assert [loaded.chunks[i] for i in range(len(loaded.chunks))] == before
    assert loaded.documents[before[-1].doc_id].id == before[-1].doc_id


def _mapped(array: object) -> bool:
    """Whether `array` is a view of a memory-mapped file (not a copy of one)."""
    while array is not None:
        if isinstance(array, np.memmap | mmap.mmap):
            return True
        array = getattr(array, "base", None)
    return False


def test_a_passage_damaged_in_place_is_an_index_error_when_read(qa: QA, tmp_path: Path) -> None:
    target = tmp_path / "index"
    save_index(qa.index, target)
    path = target / "chunks.jsonl"
    data = bytearray(path.read_bytes())
    data[1] = ord("#")  # the second line stays the same length: loading cannot tell
    path.write_bytes(bytes(data))
    loaded = load_index(target)
    assert loaded.chunks[1] == qa.index.chunks[1]
    with pytest.raises(IndexCorruptError, match="chunks.jsonl is truncated or corrupted"):
        loaded.chunks[0]
