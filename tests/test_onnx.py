"""The question path without torch: the model's ONNX export embeds as sentence-transformers
does, is cached beside the index and recorded in its manifest, and `qa ask` in a fresh
process never imports torch, sentence-transformers, transformers or scikit-learn."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
from conftest import GOLD, ROOT

import qa.encoder.engines as engines
import qa.encoder.onnx_encoder as onnx_encoder
from qa import QA, Settings
from qa.digest import file_sha256
from qa.encoder.embedding import Embedder
from qa.encoder.engines import export_model, load_model
from qa.encoder.onnx_encoder import (
    CACHE_DIRNAME,
    TOLERANCE,
    OnnxEncoder,
    cache_root,
    check_modules,
    load_or_export,
    model_sha256,
)
from qa.errors import ModelError, UsageError
from qa.index import read_manifest, scoring_text

# Not on the question path: torch and what comes with it, and scipy (BM25 reads its rows
# with numpy alone, bm25_build.TermRows).
FORBIDDEN = ("torch", "sentence_transformers", "transformers", "sklearn", "scipy")
QUESTION = "Which carmaker backs the industrial internet company GYMD?"


@pytest.fixture(scope="module")
def torch_embedder(settings: Settings) -> Embedder:
    """sentence-transformers itself, the reference."""
    return Embedder(settings.model_path(), settings.batch_size, engine="torch")


def _gold_questions() -> list[str]:
    return [
        json.loads(line)["question"]
        for path in sorted(GOLD.glob("*.jsonl"))
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]


def _passages(qa: QA) -> list[str]:
    """The corpus's passages, as the index chunks and embeds them."""
    return [scoring_text(c, qa.index.documents[c.doc_id]) for c in qa.index.chunks]


def test_onnx_vectors_equal_sentence_transformers_on_passages_and_gold_questions(
    qa: QA, torch_embedder: Embedder
):
    assert qa.embedder.engine == "onnx"
    passages, questions = _passages(qa), _gold_questions()
    assert len(passages) > 30 and len(questions) > 200
    for texts in (passages, questions):
        onnx, reference = qa.embedder.encode(texts), torch_embedder.encode(texts)
        assert onnx.shape == reference.shape and onnx.dtype == np.float32
        assert float(np.abs(onnx - reference).max()) <= TOLERANCE
        assert float((1.0 - (onnx * reference).sum(axis=1)).max()) <= TOLERANCE
        assert np.allclose(np.linalg.norm(onnx, axis=1), 1.0, atol=1e-6)
    # The index was built with the export: its vectors equal sentence-transformers' too.
    stored = qa.index.chunk_vectors()
    assert float(np.abs(stored - torch_embedder.encode(passages)).max()) <= TOLERANCE


def test_one_text_alone_equals_it_in_a_batch(qa: QA):
    """Batching (sorted by length, padded) does not change a vector."""
    texts = _gold_questions()[:40] + _passages(qa)[:10]
    together = qa.embedder.encode(texts)
    alone = np.stack([qa.embedder.encode([t])[0] for t in texts])
    assert float(np.abs(together - alone).max()) <= TOLERANCE
    assert qa.embedder.encode([]).shape == (0, qa.embedder.dimension)


def test_qa_ask_in_a_fresh_process_imports_no_torch(qa: QA, settings: Settings, tmp_path: Path):
    index_dir = tmp_path / "index"
    shutil.copytree(settings.index_path(), index_dir)
    probe = (
        "import json, sys\n"
        "from qa.cli import main\n"
        f"code = main(['ask', {QUESTION!r}, '--json', '--corpus', {str(settings.corpus_dir)!r}, "
        f"'--index-dir', {str(index_dir)!r}])\n"
        f"found = sorted(m for m in sys.modules if m.split('.')[0] in {FORBIDDEN!r})\n"
        "print(json.dumps({'code': code, 'forbidden': found}), file=sys.stderr)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, timeout=300
    )
    report = json.loads(done.stderr.strip().splitlines()[-1])
    assert report == {"code": 0, "forbidden": []}, done.stderr
    assert "Geely" in (json.loads(done.stdout)["answer"] or "")
    assert "Exporting" not in done.stderr  # the cached export was found


def test_a_fresh_export_leaves_no_torch_in_the_process(settings: Settings, tmp_path: Path):
    """The export runs in a child process: the first start of a server, which exports,
    does not keep torch and its copy of the model (some 700 MB) for the rest of its life."""
    probe = (
        "import json, sys\n"
        "from pathlib import Path\n"
        "from qa.encoder.engines import export_model\n"
        "from qa.encoder.onnx_encoder import Exports, load_or_export\n"
        f"encoder = load_or_export(Path({str(settings.model_path())!r}), "
        f"Path({str(tmp_path / CACHE_DIRNAME)!r}), None, print, export_model, Exports())\n"
        f"found = sorted(m for m in sys.modules if m.split('.')[0] in {FORBIDDEN!r})\n"
        "print(json.dumps({'folder': str(encoder.folder), 'forbidden': found}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, timeout=300
    )
    lines = done.stdout.strip().splitlines()
    assert lines and lines[0].startswith("Exporting the model at "), done.stderr
    report = json.loads(lines[-1])
    assert report["forbidden"] == []
    # The child's export passed its check and is the one now loaded.
    folder = tmp_path / CACHE_DIRNAME / model_sha256(settings.model_path())[:16]
    assert report["folder"] == str(folder) and (folder / "model.onnx").is_file()


def test_an_export_refused_in_its_process_is_one_line_here(tmp_path: Path):
    with pytest.raises(ModelError) as error:
        export_model(tmp_path / "no-model", "0" * 64, tmp_path)
    assert str(error.value).startswith(f"No sentence-transformers model at {tmp_path / 'no-model'}")
    assert "\n" not in str(error.value) and "Traceback" not in str(error.value)


def test_the_manifest_records_the_export_cached_beside_the_index(qa: QA, settings: Settings):
    record = read_manifest(settings.index_path()).encoder
    assert record is not None
    folder = Path(record["path"])
    assert folder.parent == cache_root(settings.index_path())
    assert folder.parent.name == CACHE_DIRNAME and folder.parent.parent == (
        settings.index_path().absolute().parent
    )
    assert record["engine"] == "onnx"
    assert record["model_sha256"] == model_sha256(settings.model_path())
    assert folder.name == record["model_sha256"][:16]
    assert record["onnx_sha256"] == file_sha256(folder / "model.onnx")
    config = json.loads((folder / "encoder.json").read_text())
    assert config["max_seq_length"] == 256 and config["dimension"] == 384
    assert config["modules"] == ["Transformer", "Pooling", "Normalize"]
    # Nothing of it is inside the index folder, which a rebuild swaps out whole.
    assert not any(p.suffix == ".onnx" for p in settings.index_path().iterdir())


def test_an_index_without_an_export_gets_one_on_its_first_question(
    qa: QA, settings: Settings, tmp_path: Path, monkeypatch
):
    """An index built by an older qa records no export: the first question exports the
    model (torch, once) beside the index; later ones find it."""
    index_dir = tmp_path / "old" / "index"
    shutil.copytree(settings.index_path(), index_dir)
    manifest_path = index_dir / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    del manifest["encoder"]
    manifest_path.write_text(json.dumps(manifest))
    # No copy of this process's export: nothing known of any.
    monkeypatch.setattr(onnx_encoder, "PROCESS_EXPORTS", onnx_encoder.Exports())
    old = settings.replace(index_dir=index_dir)
    messages: list[str] = []
    answered = QA.open(old, log=messages.append, progress=False).ask(QUESTION)
    assert "Geely" in (answered.text or "")
    assert any(m.startswith("Exporting the model at ") for m in messages), messages
    target = cache_root(index_dir) / model_sha256(settings.model_path())[:16]
    assert (target / "model.onnx").is_file() and (target / "tokenizer.json").is_file()
    assert not [p for p in target.parent.iterdir() if p.name.startswith(".")]  # no leftovers

    def no_export(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise AssertionError("exported again")

    monkeypatch.setattr(engines, "export_model", no_export)
    again = QA.open(old, log=messages.append, progress=False)
    assert again.ask(QUESTION).text == answered.text


def test_a_damaged_export_is_made_again(qa: QA, settings: Settings, tmp_path: Path):
    record = read_manifest(settings.index_path()).encoder
    assert record is not None
    cache = tmp_path / CACHE_DIRNAME
    shutil.copytree(Path(record["path"]), cache / Path(record["path"]).name)
    damaged = cache / Path(record["path"]).name / "model.onnx"
    damaged.write_bytes(damaged.read_bytes()[:1000])
    encoder = load_or_export(
        settings.model_path(),
        cache,
        None,
        log=lambda m: None,
        export=export_model,
    )
    assert encoder.folder == damaged.parent and damaged.stat().st_size > 1_000_000
    assert float(np.abs(encoder.encode([QUESTION]) - qa.embedder.encode([QUESTION])).max()) == 0


def test_an_unwritable_cache_exports_for_this_run_only(qa: QA, settings: Settings, tmp_path):
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    messages: list[str] = []
    encoder = load_or_export(
        settings.model_path(),
        blocked / CACHE_DIRNAME,
        None,
        messages.append,
        export_model,
    )
    assert messages and messages[0].startswith(f"Warning: {blocked / CACHE_DIRNAME}/ cannot")
    assert encoder.encode([QUESTION]).shape == (1, 384)


def test_encoding_from_many_threads_at_once(qa: QA):
    """The UI answers questions side by side on one session."""
    texts = _gold_questions()[:24]
    expected = qa.embedder.encoder.encode(texts)
    results: dict[int, np.ndarray] = {}

    def work(i: int) -> None:
        results[i] = qa.embedder.encoder.encode(texts[i::4] * 2)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for i in range(4):
        got = results[i][: len(texts[i::4])]
        assert float(np.abs(got - expected[i::4]).max()) <= TOLERANCE


def test_a_model_the_export_cannot_run_is_refused_in_words(tmp_path: Path):
    model = tmp_path / "cnn-model"
    model.mkdir()
    modules = [
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.WordEmbeddings"},
        {"idx": 1, "name": "1", "path": "1_CNN", "type": "sentence_transformers.models.CNN"},
    ]
    (model / "modules.json").write_text(json.dumps(modules))
    with pytest.raises(ModelError) as error:
        check_modules(model)
    assert "WordEmbeddings, CNN" in str(error.value) and "QA_ENCODER=torch" in str(error.value)


def test_the_encoder_setting(monkeypatch):
    assert Settings().encoder == "onnx"
    monkeypatch.setenv("QA_ENCODER", "torch")
    assert Settings.from_env().encoder == "torch"
    monkeypatch.setenv("QA_ENCODER", "tensorflow")
    with pytest.raises(UsageError, match="QA_ENCODER"):
        Settings.from_env()


def test_an_export_loads_without_the_model_folder(qa: QA, settings: Settings):
    """The cache folder alone encodes: tokenizer, graph and settings are all in it."""
    record = read_manifest(settings.index_path()).encoder
    assert record is not None
    folder = Path(record["path"])
    encoder = OnnxEncoder(folder, threads=1)
    assert os.fspath(encoder.folder) == os.fspath(folder)
    assert float(np.abs(encoder.encode([QUESTION]) - qa.embedder.encode([QUESTION])).max()) <= (
        TOLERANCE
    )


def test_loading_the_model_leaves_the_process_settings_alone(settings: Settings, monkeypatch):
    """Offline is an argument of sentence-transformers' loader, not the environment, and
    transformers' loading bar is off for the load only: a program using qa as a library
    keeps its own settings."""
    from transformers.utils import logging as transformers_logging

    for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):
        monkeypatch.delenv(name, raising=False)
    shown = transformers_logging.is_progress_bar_enabled()
    transformers_logging.enable_progress_bar()
    try:
        load_model(settings.model_path())
        assert transformers_logging.is_progress_bar_enabled()
    finally:
        if not shown:
            transformers_logging.disable_progress_bar()
    assert "HF_HUB_OFFLINE" not in os.environ and "TRANSFORMERS_OFFLINE" not in os.environ
