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
