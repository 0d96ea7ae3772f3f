"""`qa index --ray`: the index built on a Ray cluster is the index built in one process.

One local cluster (ray.init(num_cpus=2)) serves the whole module: `--ray local` joins
the cluster this process already has. Deselect with -m "not ray".
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import CORPUS, GOLD

from qa import QA
from qa.cli import main
from qa.errors import CorpusError
from qa.index import load_index, read_manifest

pytestmark = pytest.mark.ray

CHANGED = "hunan-counties-top20-industrial-internet"


@pytest.fixture(scope="module")
def cluster() -> Any:
    from qa.index.ray_cluster import connect

    ray, _ = connect("local", num_cpus=2)  # as `qa index --ray local` starts one
    yield ray
    ray.shutdown()


@pytest.fixture()
def corpus(tmp_path: Path) -> Path:
    folder = tmp_path / "corpus"
    shutil.copytree(CORPUS, folder)
    return folder


def ray_index(capsys: Any, corpus: Path, index_dir: Path, *extra: str) -> list[str]:
    """`qa index CORPUS --ray local`; the lines it wrote to stderr."""
    capsys.readouterr()
    argv = ["index", str(corpus), "--index-dir", str(index_dir), "--ray", "local", *extra]
    assert main(argv) == 0
    return capsys.readouterr().err.splitlines()


def files_of(index_dir: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(index_dir.iterdir())}


def test_the_ray_build_answers_the_gold_dev_questions_as_the_in_process_one(
    qa: QA, settings, cluster, tmp_path: Path, capsys
) -> None:
    index_dir = tmp_path / "ray"
    argv = ["index", str(settings.corpus_dir), "--index-dir", str(index_dir), "--ray", "local"]
    assert main(argv) == 0
    err = capsys.readouterr().err.splitlines()
    assert f"No index at {index_dir}/: building it from {settings.corpus_dir}/." in err
    assert f"Embedding {len(qa.index.chunks)} passages from 5 files ..." in err
    assert err[-1] == (
        f"Indexed 5 documents, {len(qa.index.chunks)} passages (0 reused, "
        f"{len(qa.index.chunks)} embedded) into {index_dir}/."
    )

    # The same manifest, but for where each index keeps its ONNX export (beside itself)
    # and when the corpus was fingerprinted.
    built, local = read_manifest(index_dir), qa.index.manifest
    assert built.encoder is not None and local.encoder is not None
    assert {**built.encoder, "path": ""} == {**local.encoder, "path": ""}
    assert built.corpus is not None and local.corpus is not None
    assert {**built.corpus, "taken_ns": 0} == {**local.corpus, "taken_ns": 0}
    assert built.to_json() | {"encoder": None, "corpus": None} == local.to_json() | {
        "encoder": None,
        "corpus": None,
    }
    ray_qa = QA(load_index(index_dir), qa.embedder, settings)
    assert [c.id for c in ray_qa.index.chunks] == [c.id for c in qa.index.chunks]
    for name, array in qa.index.bm25.to_arrays().items():
        np.testing.assert_array_equal(ray_qa.index.bm25.to_arrays()[name], array)
    np.testing.assert_allclose(
        ray_qa.index.chunk_vectors(), qa.index.chunk_vectors(), rtol=0, atol=1e-6
    )

    gold = [json.loads(line) for line in (GOLD / "dev.jsonl").read_text().splitlines() if line]
    assert len(gold) == 70
    for item in gold:
        question = item["question"]
        hits, expected = ray_qa.search(question, k=10), qa.search(question, k=10)
        assert [(h.chunk.id, h.bm25_rank, h.dense_rank) for h in hits] == [
            (h.chunk.id, h.bm25_rank, h.dense_rank) for h in expected
        ], question
        for a, b in zip(hits, expected, strict=True):
            assert abs(a.score - b.score) <= 1e-6 and abs(a.bm25_score - b.bm25_score) <= 1e-6
            assert abs(a.dense_score - b.dense_score) <= 1e-6
        answer, expected_answer = ray_qa.ask(question), qa.ask(question)
        assert answer.text == expected_answer.text and answer.abstained == expected_answer.abstained
        assert [c.hit.chunk.id for c in answer.citations] == [
            c.hit.chunk.id for c in expected_answer.citations
        ]


def test_reindexing_through_ray_embeds_only_the_changed_passages(
    qa: QA, settings, cluster, corpus: Path, tmp_path: Path, capsys
) -> None:
    index_dir = tmp_path / "ray"
    ray_index(capsys, corpus, index_dir)
    path = corpus / f"{CHANGED}.txt"
    path.write_text(
        path.read_text(encoding="utf-8").rstrip()
        + "\n\nThe county also opened a robotics school in 2024.\n",
        encoding="utf-8",
    )
    lines = ray_index(capsys, corpus, index_dir)
    n = len(qa.index.chunks) + 1
    assert "the corpus changed (0 added, 0 removed, 1 changed)" in lines[0]
    embedding = [line for line in lines if line.startswith("Embedding ")]
    assert embedding == [f"Embedding 1 passage from 1 file, {n - 1} unchanged passages reused ..."]
    assert lines[-1].startswith(f"Indexed 5 documents, {n} passages ({n - 1} reused, 1 embedded)")

    # The same index as a full in-process rebuild of the edited corpus.
    full_dir = tmp_path / "full"
    assert main(["index", str(corpus), "--index-dir", str(full_dir)]) == 0
    incremental, full = load_index(index_dir), load_index(full_dir)
    assert [c.id for c in incremental.chunks] == [c.id for c in full.chunks]
    np.testing.assert_allclose(incremental.chunk_vectors(), full.chunk_vectors(), atol=1e-6)
    for name, array in full.bm25.to_arrays().items():
        np.testing.assert_array_equal(incremental.bm25.to_arrays()[name], array)
    answer = QA(incremental, qa.embedder, settings).ask("Which county opened a robotics school?")
    assert "robotics school" in (answer.text or "")


def test_warnings_come_once_and_in_the_in_process_order(
    cluster, corpus: Path, tmp_path: Path, capsys
) -> None:
    (corpus / "b-scan.txt").write_bytes(b"\x00\xff\x00\xfe")
    (corpus / "a-empty.md").write_text("   \n")
    (corpus / "nested").mkdir()
    (corpus / "nested" / "broken.pdf").write_bytes(b"%PDF-1.4 not really")
    from qa.documents.corpus import load_documents

    _, expected = load_documents(corpus)
    lines = ray_index(capsys, corpus, tmp_path / "ray")
    assert len(expected) == 3
    assert [line for line in lines if line.startswith("Skipped ")] == expected


def test_a_worker_that_dies_is_restarted_and_the_build_completes(
    qa: QA, cluster, corpus: Path, tmp_path: Path, monkeypatch, capsys
) -> None:
    import ray.cloudpickle

    from qa.index import distributed

    # Shipped by value: the workers cannot import this test module.
    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])
    try:
        CrashOnce.marker = str(tmp_path / "crashed")
        monkeypatch.setattr(distributed, "PassageEncoder", CrashOnce)
        lines = ray_index(capsys, corpus, tmp_path / "ray", "--workers", "1")
    finally:
        ray.cloudpickle.unregister_pickle_by_value(sys.modules[__name__])
    assert Path(CrashOnce.marker).exists()  # the first worker did die
    assert lines[-1].startswith(f"Indexed 5 documents, {len(qa.index.chunks)} passages")
    np.testing.assert_allclose(
        load_index(tmp_path / "ray").chunk_vectors(), qa.index.chunk_vectors(), atol=1e-6
    )


def test_a_failed_build_leaves_the_previous_index_and_says_why(
    qa: QA, settings, cluster, corpus: Path, tmp_path: Path, monkeypatch, capsys
) -> None:
    import ray.cloudpickle

    from qa.index import distributed

    index_dir = tmp_path / "idx"
    shutil.copytree(settings.index_path(), index_dir)
    before = files_of(index_dir)
    (corpus / "extra.txt").write_text("Extra\n\nSomething new happened in Chongqing.\n")
    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])
    try:
        monkeypatch.setattr(distributed, "PassageEncoder", RefusesToLoad)
        argv = ["index", str(corpus), "--index-dir", str(index_dir), "--ray", "local"]
        assert main(argv) == 1
    finally:
        ray.cloudpickle.unregister_pickle_by_value(sys.modules[__name__])
    assert capsys.readouterr().err.splitlines()[-1] == "Error: the export is damaged."
    assert files_of(index_dir) == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".idx")] == []


def test_a_worker_that_cannot_start_is_one_line_naming_why(
    settings, cluster, corpus: Path, tmp_path: Path, monkeypatch, capsys
) -> None:
    import ray.cloudpickle

    from qa.index import distributed

    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])
    try:
        monkeypatch.setattr(distributed, "PassageEncoder", CannotStart)
        argv = ["index", str(corpus), "--index-dir", str(tmp_path / "idx"), "--ray", "local"]
        assert main(argv) == 1
    finally:
        ray.cloudpickle.unregister_pickle_by_value(sys.modules[__name__])
    last = capsys.readouterr().err.splitlines()[-1]
    assert last.startswith("Error: The build on the Ray cluster failed: The actor died")
    assert last.endswith("(ModuleNotFoundError: No module named 'onnxruntime_on_this_node')")
    assert not (tmp_path / "idx").exists()


def test_a_node_without_the_corpus_is_an_error_not_an_empty_index(tmp_path: Path) -> None:
    import pyarrow as pa

    from qa.index.shards import read_files

    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus)
    path = sorted(corpus.glob("*.txt"))[0]
    batch = pa.table(
        {
            "position": [0],
            "path": [str(path)],
            "opened": [str(path)],
            "name": [path.name],
            "size": [path.stat().st_size],
            "sha256": ["0"],
        }
    )
    with pytest.raises(CorpusError, match="is not on the Ray node .*same path"):
        read_files(batch, [str(corpus), str(tmp_path / "elsewhere")], None)
    with pytest.raises(CorpusError, match="not the file the driver read"):
        read_files(batch, [str(corpus)], None)


def test_no_cluster_at_the_address_is_one_line_and_the_index_is_untouched(
    qa: QA, settings, tmp_path: Path
) -> None:
    index_dir = tmp_path / "idx"
    shutil.copytree(settings.index_path(), index_dir)
    before = files_of(index_dir)
    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus)
    (corpus / "extra.txt").write_text("Extra\n\nSomething new happened in Chongqing.\n")
    qa_command = str(Path(sys.executable).parent / "qa")
    for address, message in [
        ("127.0.0.1:9", "Error: No Ray cluster answers at 127.0.0.1:9 ("),
        ("nowhere", "Error: 'nowhere' is not a Ray address"),
    ]:
        done = subprocess.run(
            [qa_command, "index", str(corpus), "--index-dir", str(index_dir), "--ray", address],
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, "RAY_ADDRESS": ""},
        )
        assert done.returncode == 1, done.stderr
        assert done.stderr.splitlines()[-1].startswith(message), done.stderr
        assert "Traceback" not in done.stderr
    assert files_of(index_dir) == before


def test_without_ray_installed_the_error_says_how_to_install_it(
    settings, corpus: Path, tmp_path: Path, monkeypatch, capsys
) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` raises ImportError
    argv = ["index", str(corpus), "--index-dir", str(tmp_path / "idx"), "--ray", "local"]
    assert main(argv) == 1
    assert "Error: Ray is not installed" in capsys.readouterr().err
    assert not (tmp_path / "idx").exists()


class CrashOnce:
    """An embedding worker whose process dies on its first batch, once per `marker`."""

    marker = ""

    def __init__(self, *args: Any) -> None:
        from qa.index.shards import PassageEncoder

        self.inner = PassageEncoder(*args)

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        if not os.path.exists(self.marker):
            Path(self.marker).write_text("crashed")
            os._exit(1)
        return self.inner(batch)


class CannotStart:
    """An embedding worker on a node that lacks a package."""

    def __init__(self, *args: Any) -> None:
        raise ModuleNotFoundError("No module named 'onnxruntime_on_this_node'")

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        return batch


class RefusesToLoad:
    """An embedding worker that cannot load the model (a qa error, not retried)."""

    def __init__(self, *args: Any) -> None:
        pass

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        from qa.errors import ModelError

        raise ModelError("the export is damaged.")
