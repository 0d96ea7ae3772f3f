"""Shared fixtures: the real corpus and the real bundled model, index built once per session."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from qa import QA, Settings

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
GOLD = ROOT / "tests" / "gold"


@pytest.fixture(scope="session")
def corpus_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A private copy of the real corpus (tests may not touch the project's own)."""
    target = tmp_path_factory.mktemp("corpus") / "corpus"
    shutil.copytree(CORPUS, target)
    return target


@pytest.fixture(scope="session")
def settings(corpus_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(corpus_dir=corpus_dir, index_dir=tmp_path_factory.mktemp("index") / "index")


@pytest.fixture(scope="session")
def qa(settings: Settings) -> QA:
    """The real engine over the real corpus, built once for the whole session."""
    return QA.open(settings, log=lambda message: None, progress=False)


def make_bad_corpus(root: Path, kind: str) -> Path:
    """A corpus folder nothing can be read from: "missing", "empty", or "binary_only"."""
    folder = root / "docs"
    if kind != "missing":
        folder.mkdir()
    if kind == "binary_only":
        (folder / "scan.txt").write_bytes(b"\x00\xff\x00\xfe")
        (folder / "photo.pdf").write_bytes(b"%PDF-1.4")
    return folder
