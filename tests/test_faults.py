"""Faults `qa` must survive with one clear line and the index left usable: an index folder
that cannot be written, a damaged index, and the progress of a long embedding."""

from __future__ import annotations

import errno
import json
import os
import shlex
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import CORPUS, as_nobody

import qa.index.build as qa_index
from qa.cli import main
from qa.engine import ensure_index
from qa.errors import IndexWriteError
from qa.index import (
    check_index_writable,
    embed_with_progress,
    load_index,
    read_manifest,
    save_index,
    scoring_text,
)

QUESTION = "Which carmaker backs the industrial internet company GYMD?"
BRIDGE = "Bridge news\n\nThe Yellow River bridge is 1,200 metres long.\n"


@pytest.fixture()
def built(qa, settings, tmp_path: Path) -> tuple[Path, Path]:
    """(corpus, index folder): private copies of the session's corpus and built index."""
    corpus = tmp_path / "corpus"
    shutil.copytree(settings.corpus_dir, corpus)
    index_dir = tmp_path / "index"
    shutil.copytree(settings.index_path(), index_dir)
    return corpus, index_dir


def _files(index_dir: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(index_dir.iterdir())}


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def _error_line(err: str) -> str:
    """The one "Error: ..." line, which must be the last line, with no traceback."""
    assert "Traceback" not in err
    errors = [line for line in err.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 1 and err.strip().splitlines()[-1] == errors[0], err
    return errors[0]


# 1. An index folder that cannot be written.


def test_index_into_a_folder_under_a_file_fails_before_embedding(tmp_path: Path, capsys):
    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus)
    (tmp_path / "taken").write_text("not a folder")
    index_dir = tmp_path / "taken" / "idx"
    assert main(["index", str(corpus), "--index-dir", str(index_dir)]) == 1
    err = capsys.readouterr().err
    line = _error_line(err)
    assert line == (
        f"Error: Cannot write the index at {index_dir}/ ({tmp_path / 'taken'} is a file, not "
        "a folder). Point --index-dir (or QA_INDEX_DIR) at a folder you can write."
    )
    assert "Embedding" not in err  # found before minutes of embedding, not after
    assert (tmp_path / "taken").read_text() == "not a folder"


def _as_nobody(action) -> str:  # type: ignore[no-untyped-def]
    """str(the QAError) that `action()` raises as user nobody (conftest.as_nobody)."""
    if os.geteuid() != 0:
        pytest.skip("needs root, to drop to another user")
    outcome = as_nobody(action)
    if "error" not in outcome:
        return "None"
    if not outcome["qa_error"]:
        return f"unexpected {outcome['error']}"
    return str(outcome["error"])


def test_another_users_folder_is_a_clear_error_and_the_old_index_stays(qa):
    # Not under tmp_path: pytest makes that private to root, and the writer is not root.
    root = Path(tempfile.mkdtemp(prefix="qa-perm-"))
    try:
        root.chmod(0o755)
        index_dir = root / "index"
        save_index(qa.index, index_dir)
        before = _files(index_dir)
        for attempt in (check_index_writable, lambda d: save_index(qa.index, d)):
            error = _as_nobody(lambda: attempt(index_dir))  # noqa: B023
            assert error == (
                f"Cannot write the index at {index_dir}/ (permission denied). "
                "Point --index-dir (or QA_INDEX_DIR) at a folder you can write."
            )
        assert _files(index_dir) == before and _leftovers(root) == []
        assert len(load_index(index_dir).chunks) == len(qa.index.chunks)  # still usable
        # The index folder is private to its owner (mkdtemp makes it 0700): another user
        # is told so in one line, not with a traceback.
        assert _as_nobody(lambda: load_index(index_dir)) == (
            f"The index at {index_dir}/ cannot be used: manifest.json cannot be read "
            f'(permission denied). Run "qa index --rebuild" to rebuild it.'
        )
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _deny_index_folder(monkeypatch: pytest.MonkeyPatch, parent: Path) -> None:
    """mkdtemp in `parent` fails as it does in another user's folder (tests run as root,
    for whom chmod changes nothing)."""
    real = tempfile.mkdtemp

    def mkdtemp(*args, **kwargs):  # type: ignore[no-untyped-def]
        if Path(kwargs.get("dir") or "") == parent:
            raise PermissionError(errno.EACCES, "Permission denied", str(parent))
        return real(*args, **kwargs)

    monkeypatch.setattr(tempfile, "mkdtemp", mkdtemp)


def test_stale_index_that_cannot_be_replaced(built, capsys, monkeypatch):
    corpus, index_dir = built
    (corpus / "bridge.txt").write_text(BRIDGE)
    before = _files(index_dir)
    _deny_index_folder(monkeypatch, index_dir.parent)
    paths = ["--corpus", str(corpus), "--index-dir", str(index_dir)]

    # `qa index` exists to write the index: it fails, saying what to do.
    assert main(["index", str(corpus), "--index-dir", str(index_dir)]) == 1
    assert _error_line(capsys.readouterr().err) == (
        f"Error: Cannot write the index at {index_dir}/ (permission denied). "
        "Point --index-dir (or QA_INDEX_DIR) at a folder you can write."
    )
    assert _files(index_dir) == before

    # `qa ask` still answers, from the current corpus, with a warning.
    assert main(["ask", "How long is the Yellow River bridge?", "--json", *paths]) == 0
    captured = capsys.readouterr()
    assert "1,200 metres" in json.loads(captured.out)["answer"]
    warnings = [line for line in captured.err.splitlines() if line.startswith("Warning: ")]
    assert warnings == [
        f"Warning: {index_dir}/ cannot be written (permission denied), so the index is used "
        "from memory and built again next time. "
        "Point --index-dir (or QA_INDEX_DIR) at a folder you can write."
    ]
    assert "Traceback" not in captured.err
    assert _files(index_dir) == before and _leftovers(index_dir.parent) == []


@pytest.mark.parametrize(
    ("code", "reason", "advice"),
    [
        (errno.ENOSPC, "no space left on the disk", "Free some disk space"),
        (errno.EIO, "input/output error", "a folder you can write"),
    ],
)
def test_a_write_failing_midway_keeps_the_old_index(
    qa, settings, built, monkeypatch, code, reason, advice
):
    corpus, index_dir = built
    (corpus / "bridge.txt").write_text(BRIDGE)
    before = _files(index_dir)

    def save(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise OSError(code, os.strerror(code))

    # np.save writes the line offsets and the BM25 arrays, after the JSONL files.
    monkeypatch.setattr(np, "save", save)
    changed = settings.replace(corpus_dir=corpus, index_dir=index_dir)
    with pytest.raises(IndexWriteError) as error:
        ensure_index(changed, qa.embedder, log=lambda m: None, progress=False, must_save=True)
    assert str(error.value).startswith(f"Cannot write the index at {index_dir}/ ({reason}).")
    assert advice in str(error.value)
    assert _files(index_dir) == before and _leftovers(index_dir.parent) == []

    messages: list[str] = []
    index = ensure_index(changed, qa.embedder, log=messages.append, progress=False)
    assert "bridge" in index.documents
    assert any(m.startswith("Warning: ") and reason in m for m in messages)
    assert _files(index_dir) == before and _leftovers(index_dir.parent) == []


def test_a_folder_of_other_files_is_never_replaced(tmp_path: Path, capsys):
    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus)
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me")
    assert main(["index", str(corpus), "--index-dir", str(mine)]) == 1
    line = _error_line(capsys.readouterr().err)
    assert "holds other files" in line and "--index-dir" in line
    assert _files(mine) == {"notes.txt": b"keep me"}


# 2. A damaged index: which file, in plain words, and the command that rebuilds it.


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[:100])


def _garble(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    path.write_text(text[: len(text) // 2] + "\x00}{garbage\n" + text[len(text) // 2 :])


def _manifest_edit(change: Callable[[dict[str, Any]], object]) -> Callable[[Path], None]:
    """A damage that rewrites manifest.json, still valid JSON, with `change` made."""

    def spoil(path: Path) -> None:
        manifest = json.loads(path.read_text(encoding="utf-8"))
        change(manifest)
        path.write_text(json.dumps(manifest), encoding="utf-8")

    return spoil


DAMAGE = {
    "truncated vectors.npy": ("vectors.npy", _truncate, "is truncated or corrupted"),
    "deleted vectors.npy": ("vectors.npy", Path.unlink, "is missing"),
    "garbled chunks.jsonl": ("chunks.jsonl", _garble, "is truncated or corrupted"),
    "deleted bm25.indices.npy": ("bm25.indices.npy", Path.unlink, "is missing"),
    "truncated bm25.data.npy": ("bm25.data.npy", _truncate, "is truncated or corrupted"),
    "truncated chunks.offsets.npy": ("chunks.offsets.npy", _truncate, "is truncated or corrupted"),
    "garbled manifest.json": ("manifest.json", _garble, "is truncated or corrupted"),
    # A manifest that parses but lacks a field, or holds one of the wrong type.
    "manifest.json without its documents": (
        "manifest.json",
        _manifest_edit(lambda m: m.pop("documents")),
        "is truncated or corrupted",
    ),
    "manifest.json with a dimension in words": (
        "manifest.json",
        _manifest_edit(lambda m: m.update(dimension="many")),
        "is truncated or corrupted",
    ),
    # Passages and documents are read line by line when a question needs them; the line
    # offsets, checked against the file when loading, catch a file cut short or emptied.
    "emptied documents.jsonl": (
        "documents.jsonl",
        lambda p: p.write_text(""),
        "is truncated or corrupted",
    ),
}


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_a_damaged_index_names_the_file_and_the_command(built, capfd, damage):
    corpus, index_dir = built
    name, spoil, problem = DAMAGE[damage]
    spoil(index_dir / name)
    paths = ["--corpus", str(corpus), "--index-dir", str(index_dir)]
    assert main(["ask", QUESTION, *paths]) == 1
    err = capfd.readouterr().err  # file-descriptor level: faiss's own C++ output too
    assert len(err.strip().splitlines()) == 1, err
    line = _error_line(err)
    assert line.startswith(f"Error: The index at {index_dir}/ is damaged: ")
    assert name in line and problem in line
    assert line.endswith(
        f'Run "qa index {corpus} --index-dir {index_dir} --rebuild" to rebuild it.'
    )
    for internal in ("faiss::", ".cpp", "Error in", "Traceback", "errno", "Expecting"):
        assert internal not in line


def test_the_named_command_repairs_the_index(built, capsys):
    corpus, index_dir = built
    _truncate(index_dir / "vectors.npy")
    paths = ["--corpus", str(corpus), "--index-dir", str(index_dir)]
    assert main(["ask", QUESTION, *paths]) == 1
    command = _error_line(capsys.readouterr().err).split('Run "')[1].split('"')[0]
    argv = shlex.split(command)
    assert argv[:2] == ["qa", "index"] and "--rebuild" in argv
    assert main(argv[1:]) == 0
    assert main(["ask", QUESTION, "--json", *paths]) == 0
    assert "Geely" in json.loads(capsys.readouterr().out)["answer"]


# 3. Embedding a large corpus: how much, then how far and how long is left.


def test_index_says_how_many_passages_and_files_it_embeds(tmp_path: Path, capsys, monkeypatch):
    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus)
    index_dir = tmp_path / "idx"
    # One batch of 32 per look at the clock, reported every time: the 39 passages of
    # the corpus take two looks, so one progress line comes between.
    monkeypatch.setattr(qa_index, "SLICE_BATCHES", 1)
    monkeypatch.setattr(qa_index, "PROGRESS_EVERY_S", 0.0)
    assert main(["index", str(corpus), "--index-dir", str(index_dir)]) == 0
    lines = capsys.readouterr().err.splitlines()
    manifest = read_manifest(index_dir)
    passages, files = manifest.chunks, len(manifest.documents)
    assert passages > 32 and files == len(list(CORPUS.glob("*.txt")))
    assert f"Embedding {passages} passages from {files} files ..." in lines
    updates = [line for line in lines if line.startswith(f"Embedded 32 of {passages} passages")]
    assert len(updates) == 1 and "left ..." in updates[0]
    assert any(line.startswith(f"Embedded {passages} passages in ") for line in lines)
    assert lines[-1].startswith(f"Indexed {files} documents, {passages} passages")


def test_unchanged_passages_are_not_counted_as_to_embed(qa, settings, built):
    corpus, index_dir = built
    path = sorted(corpus.glob("*.txt"))[0]
    path.write_text(path.read_text(encoding="utf-8") + "\nThe park opened a robotics school.\n")
    messages: list[str] = []
    changed = settings.replace(corpus_dir=corpus, index_dir=index_dir)
    index = ensure_index(changed, qa.embedder, log=messages.append, progress=True)
    embedded = [m for m in messages if m.startswith("Embedding ")]
    old_texts = {scoring_text(c, qa.index.documents[c.doc_id]) for c in qa.index.chunks}
    new = sum(scoring_text(c, index.documents[c.doc_id]) not in old_texts for c in index.chunks)
    reused = len(index.chunks) - new
    assert 0 < new < reused
    assert embedded == [
        f"Embedding {new} {'passage' if new == 1 else 'passages'} from 1 file, "
        f"{reused} unchanged passages reused ..."
    ]
    assert f"({reused} reused, {new} embedded)" in messages[-1]


class SlowEmbedder:
    """Takes `seconds_per_char` of a fake clock per character embedded."""

    batch_size = 10
    dimension = 2

    def __init__(self, seconds_per_char: float) -> None:
        self.seconds_per_char = seconds_per_char
        self.now = 0.0
        self.calls: list[int] = []

    def clock(self) -> float:
        return self.now

    def encode(self, texts: list[str]) -> np.ndarray:
        self.calls.append(len(texts))
        self.now += self.seconds_per_char * sum(len(t) for t in texts)
        return np.array([[len(t), float(t.split()[0])] for t in texts], dtype=np.float32)


@pytest.mark.parametrize(("seconds_per_char", "left"), [(0.01, "18 s"), (0.05, "1 min 30 s")])
def test_the_estimate_comes_from_measured_throughput(monkeypatch, seconds_per_char, left):
    embedder = SlowEmbedder(seconds_per_char)
    monkeypatch.setattr(qa_index, "_clock", embedder.clock)
    monkeypatch.setattr(qa_index, "SLICE_BATCHES", 2)
    texts = [f"{i:03d} " + "x" * 6 for i in range(200)]  # 10 characters each
    lines: list[str] = []
    vectors = embed_with_progress(embedder, texts, files=7, reused=3, log=lines.append)  # type: ignore[arg-type]
    assert embedder.calls == [20] * 10
    assert lines[0] == "Embedding 200 passages from 7 files, 3 unchanged passages reused ..."
    # After the first 20 texts, 180 are left at the rate measured on those 20.
    assert lines[1] == (
        f"Embedded 20 of 200 passages (10%) in {qa_index._duration(20 * 10 * seconds_per_char)}; "
        f"about {left} left ..."
    )
    assert lines[-1].startswith("Embedded 200 passages in ")
    assert len(lines) <= 2 + 10  # at most one report per PROGRESS_EVERY_S
    np.testing.assert_array_equal(vectors[:, 1], np.arange(200))


@pytest.mark.parametrize(("seconds_per_char", "left"), [(0.01, "38 s"), (0.05, "3 min 10 s")])
def test_the_steps_after_embedding_are_timed_at_the_measured_rate(
    monkeypatch, seconds_per_char, left
):
    """The steps after embedding are counted in embedding's own units (after_cost), so a
    machine that embeds five times slower is told they take five times longer too."""
    embedder = SlowEmbedder(seconds_per_char)
    monkeypatch.setattr(qa_index, "_clock", embedder.clock)
    monkeypatch.setattr(qa_index, "SLICE_BATCHES", 2)
    texts = [f"{i:03d} " + "x" * 6 for i in range(200)]
    after = sum(qa_index.embedding_costs(texts, embedder))  # type: ignore[arg-type]
    lines: list[str] = []
    embed_with_progress(embedder, texts, 1, 0, lines.append, after_cost=after)  # type: ignore[arg-type]
    # At 10%: 90% of the embedding and steps costing as much as all of it are left, 19
    # times what the first 10% took.
    assert lines[1].endswith(f"; about {left} left ..."), lines[1]


def test_the_steps_after_embedding_cost_less_when_bm25_is_done_and_more_with_hnsw(settings):
    small, large = settings.ann_threshold, settings.ann_threshold + 1
    assert qa_index.after_embedding_cost(small, settings, bm25=False) < (
        qa_index.after_embedding_cost(small, settings)
    )
    per_vector = qa_index.after_embedding_cost(large, settings) / large
    assert per_vector > qa_index.after_embedding_cost(small, settings) / small


class TokenEmbedder:
    """Takes `seconds_per_token` of a fake clock per word piece it reads: a text's
    characters / 4, cut at the model's 256, as the real model truncates."""

    batch_size = 10
    dimension = 2
    max_seq_length = 256

    def __init__(self, seconds_per_token: float) -> None:
        self.seconds_per_token = seconds_per_token
        self.now = 0.0

    def clock(self) -> float:
        return self.now

    def encode(self, texts: list[str]) -> np.ndarray:
        tokens = sum(min(len(t) / 4, self.max_seq_length) for t in texts)
        self.now += self.seconds_per_token * tokens
        return np.zeros((len(texts), self.dimension), dtype=np.float32)


def _seconds(duration: str) -> float:
    """ "1 min 24 s" -> 84.0 (qa_index._duration, read back)."""
    units = {"h": 3600, "min": 60, "s": 1}
    parts = duration.split()
    return float(sum(int(n) * units[u] for n, u in zip(parts[::2], parts[1::2], strict=True)))


def test_the_estimate_weighs_what_is_left_by_its_tokens_not_its_characters(monkeypatch):
    """Texts go longest first, and the model reads at most 256 word pieces of one: the
    first, truncated texts cost less per character than the rest, so characters done per
    second would promise far too little time left."""
    embedder = TokenEmbedder(0.01)
    monkeypatch.setattr(qa_index, "_clock", embedder.clock)
    monkeypatch.setattr(qa_index, "SLICE_BATCHES", 2)
    monkeypatch.setattr(qa_index, "PROGRESS_EVERY_S", 0.0)
    # 60 texts of 4,000 characters (256 tokens read), 60 of 800 (200), 80 of 200 (50).
    lengths = [4000] * 60 + [800] * 60 + [200] * 80
    texts = ["x" * n for n in lengths[1::2] + lengths[::2]]  # no order: the build sorts
    lines: list[str] = []
    embed_with_progress(embedder, texts, files=1, reused=0, log=lines.append)  # type: ignore[arg-type]
    halfway = next(line for line in lines if line.startswith("Embedded 100 of 200 "))
    # Done: the 60 longest and 40 of 800 characters, 60 x 256 + 40 x 200 = 23,360
    # tokens in 233.6 s. Left: 20 x 200 + 80 x 50 = 8,000 tokens, 80 s.
    elapsed, truth = 233.6, 80.0
    assert f" in {qa_index._duration(elapsed)}; " in halfway
    estimate = _seconds(halfway.split("; about ")[1].removesuffix(" left ..."))
    assert abs(estimate - truth) <= 0.3 * truth, halfway
    # Per character, 272,000 done in 233.6 s and 32,000 left said 27 s: a third of it.
    by_characters = (20 * 800 + 80 * 200) * elapsed / (60 * 4000 + 40 * 800)
    assert abs(by_characters - truth) > 0.3 * truth


def test_slices_keep_the_texts_in_order(monkeypatch):
    embedder = SlowEmbedder(0.0)
    monkeypatch.setattr(qa_index, "SLICE_BATCHES", 1)
    texts = [f"{i} " + "y" * (i * 7 % 23) for i in range(57)]  # lengths in no order
    vectors = embed_with_progress(embedder, texts, files=1, reused=0, log=lambda m: None)  # type: ignore[arg-type]
    np.testing.assert_array_equal(vectors, embedder.encode(texts))
