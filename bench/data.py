"""Benchmark inputs: real-text documents, Zipf-like synthetic corpora, embedding-like vectors.

Everything is generated from a seed, so two runs measure the same data. The one costly
input, real passage embeddings from the model (2-3 minutes for 3,000 passages), is
cached under bench/cache/ (git-ignored) and keyed by the corpus text and the model.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import numpy as np

from qa.documents.chunking import split_sentences
from qa.documents.corpus import Document, load_documents, parse_document
from qa.language import STOPWORDS

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "bench" / "cache"
CORPUS = ROOT / "corpus"
DIMENSION = 384
# Sentences of 8-24 words packed greedily into passages of at most 60 words (measured).
SENTENCES_PER_PASSAGE = 3.09


def corpus_sentences(corpus_dir: Path = CORPUS) -> list[str]:
    """The sentences of the real corpus with at least five words, in document order."""
    documents, _ = load_documents(corpus_dir)
    sentences = []
    for d in documents:
        for start, end in split_sentences(d.text):
            sentence = d.text[start:end]
            if len(sentence.split()) >= 5:
                sentences.append(sentence)
    return sentences


def real_text_documents(n_documents: int, seed: int, sentences: list[str]) -> list[tuple[str, str]]:
    """`n_documents` articles recombined from real sentences, as (doc id, file content).

    Each has a title (the first words of a sentence) and 3-5 sentences, about 60-120
    words, so it makes one or two passages. The content parses with `parse_document`.
    """
    rng = np.random.default_rng(seed)
    documents = []
    for i in range(n_documents):
        picked = rng.choice(len(sentences), size=int(rng.integers(3, 6)), replace=False)
        title_words = sentences[int(rng.integers(len(sentences)))].split()[:8]
        title = " ".join(title_words).rstrip(".,;:")
        body = " ".join(sentences[j] for j in picked)
        documents.append((f"doc{i:04d}", f"{title}\n\n{body}\n"))
    return documents


def parse_all(raw: list[tuple[str, str]]) -> list[Document]:
    return [parse_document(doc_id, content) for doc_id, content in raw]


def real_passages(n: int, seed: int, sentences: list[str], max_words: int = 60) -> list[str]:
    """`n` distinct passage-like texts: 2-4 real sentences in random order, at most
    `max_words` words (unless one sentence is longer)."""
    rng = np.random.default_rng(seed)
    passages: list[str] = []
    seen: set[str] = set()
    while len(passages) < n:
        text: list[str] = []
        words = 0
        for j in rng.choice(len(sentences), size=int(rng.integers(2, 5)), replace=False):
            count = len(sentences[j].split())
            if text and words + count > max_words:
                break
            text.append(sentences[j])
            words += count
        passage = " ".join(text)
        if passage not in seen:
            seen.add(passage)
            passages.append(passage)
    return passages


def base_embeddings(
    n: int, encode: Callable[[list[str]], np.ndarray], model_name: str, cache: bool = True
) -> np.ndarray:
    """Model vectors of `n` recombined real passages, shape (n, dimension), cached on disk."""
    sentences = corpus_sentences()
    key = hashlib.sha256(("\n".join(sentences) + model_name + f"|{n}|v2").encode()).hexdigest()[:16]
    path = CACHE / f"base-{n}-{key}.npy"
    if cache and path.is_file():
        return np.load(path, allow_pickle=False)
    vectors = np.ascontiguousarray(
        encode(real_passages(n, seed=1, sentences=sentences)), dtype=np.float32
    )
    if cache:
        CACHE.mkdir(parents=True, exist_ok=True)
        np.save(path, vectors, allow_pickle=False)
    return vectors


def mixture_vectors(base: np.ndarray, n: int, seed: int, noise: float = 0.5) -> np.ndarray:
    """`n` unit vectors shaped like passage embeddings: each is a weighted mix of three
    real passage vectors plus Gaussian noise, normalized.

    Independent random vectors would be the wrong test: in 384 dimensions they are all
    nearly orthogonal, with no neighbourhoods for an approximate index to exploit or to
    get wrong. Mixtures of real embeddings keep the clusters and the spread of cosine
    similarities that real passages have, while every vector stays distinct.

    Args:
        base: real passage embeddings, shape (b, dimension).
        n: how many vectors.
        seed: the generator's seed.
        noise: expected norm of the noise added before normalizing.
    """
    rng = np.random.default_rng(seed)
    out = np.empty((n, base.shape[1]), dtype=np.float32)
    step = 20_000
    for lo in range(0, n, step):
        m = min(step, n - lo)
        picks = rng.integers(0, len(base), size=(m, 3))
        weights = np.column_stack(
            [rng.uniform(0.6, 1.0, m), rng.uniform(0.0, 0.5, m), rng.uniform(0.0, 0.3, m)]
        ).astype(np.float32)
        mixed = np.einsum("mj,mjd->md", weights, base[picks])
        mixed += rng.normal(0.0, noise / np.sqrt(base.shape[1]), size=mixed.shape).astype(
            np.float32
        )
        out[lo : lo + m] = mixed / np.linalg.norm(mixed, axis=1, keepdims=True)
    return out


def cached_mixtures(base: np.ndarray, n: int, seed: int, cache: bool = True) -> np.ndarray:
    """`mixture_vectors`, cached under bench/cache/ (regenerating 100,000 takes seconds,
    but the cache keeps every run on the very same vectors)."""
    key = hashlib.sha256(base.tobytes()).hexdigest()[:12]
    path = CACHE / f"mixtures-{n}-{seed}-{key}.npy"
    if cache and path.is_file():
        return np.load(path, allow_pickle=False)
    vectors = mixture_vectors(base, n, seed)
    if cache:
        CACHE.mkdir(parents=True, exist_ok=True)
        np.save(path, vectors, allow_pickle=False)
    return vectors


def zipf_vocabulary(size: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(words, probabilities): English stopwords first, then made-up words, with Zipf-
    Mandelbrot frequencies p(r) ~ 1 / (r + 2.7). As in English text, the stopwords come
    to almost half of all tokens, and the tokenizer drops them."""
    rng = np.random.default_rng(seed)
    syllables = np.asarray(
        [c + v for c in "bcdfghjklmnprtvz" for v in "aeiou"] + ["an", "or", "el", "un", "ix"]
    )
    candidates = 3 * size
    lengths = rng.integers(2, 5, size=candidates)
    picks = rng.integers(0, len(syllables), size=(candidates, 4))
    made = np.full(candidates, "", dtype="<U8")
    for position in range(4):
        made = np.char.add(made, np.where(position < lengths, syllables[picks[:, position]], ""))
    _, first = np.unique(made, return_index=True)
    stopwords = sorted(STOPWORDS)
    fresh = [w for w in made[np.sort(first)].tolist() if w not in STOPWORDS]
    words = stopwords + fresh[: size - len(stopwords)]
    ranks = np.arange(len(words), dtype=np.float64)
    probabilities = 1.0 / (ranks + 2.7)
    return np.asarray(words, dtype=object), probabilities / probabilities.sum()


def zipf_documents(n_passages: int, seed: int, passages_per_document: int = 10) -> list[Document]:
    """About `n_passages` passages of ~50 words (as chunked at 60 words), grouped in
    articles of `passages_per_document`, from a 60,000-word Zipf-like vocabulary."""
    rng = np.random.default_rng(seed)
    words, probabilities = zipf_vocabulary(60_000, seed)
    # Sentences of 8-24 words; chunking at 60 words packs about 3.1 of them per passage.
    n_sentences = int(n_passages * SENTENCES_PER_PASSAGE)
    lengths = rng.integers(8, 25, size=n_sentences)
    tokens = words[rng.choice(len(words), size=int(lengths.sum()), p=probabilities)]
    sentences = []
    position = 0
    for length in lengths:
        sentence = " ".join(tokens[position : position + length])
        position += length
        sentences.append(sentence[:1].upper() + sentence[1:] + ".")
    per_document = int(passages_per_document * SENTENCES_PER_PASSAGE)
    documents = []
    for d, lo in enumerate(range(0, len(sentences), per_document)):
        title = " ".join(words[rng.choice(len(words), size=6, p=probabilities)]).capitalize()
        body = " ".join(sentences[lo : lo + per_document])
        documents.append(parse_document(f"synthetic/{d:06d}", f"{title}\n\n{body}\n"))
    return documents
