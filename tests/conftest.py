"""Shared fixtures: the real corpus and the real bundled model, index built once per session."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from qa import QA, Settings
from qa.errors import QAError

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
GOLD = ROOT / "tests" / "gold"


@pytest.fixture(scope="session", autouse=True)
def ocr_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Scans are read by OCR into a cache of the session's own (QA_OCR_CACHE), not the
    user's: each test's first reading of a scan really runs Tesseract."""
    folder = tmp_path_factory.mktemp("ocr-cache")
    before = os.environ.get("QA_OCR_CACHE")
    os.environ["QA_OCR_CACHE"] = str(folder)
    yield folder
    if before is None:
        os.environ.pop("QA_OCR_CACHE", None)
    else:
        os.environ["QA_OCR_CACHE"] = before


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


def as_nobody(action: Callable[[], Any]) -> dict[str, Any]:
    """Run `action()` as a user without root's right to read or write anywhere: as root,
    in a forked child that drops to "nobody" (uid 65534); otherwise here. Returns
    {"result": its JSON-able result} or {"error": the exception's message, "qa_error":
    whether it is one of qa's own errors}."""
    if os.geteuid() != 0:
        return _outcome(action)
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        os.close(read)
        try:
            os.setgid(65534)
            os.setuid(65534)
            payload = _outcome(action)
        except BaseException as e:
            payload = {"error": repr(e), "qa_error": False}
        os.write(write, json.dumps(payload).encode())
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as f:
        payload = json.loads(f.read() or "{}")
    os.waitpid(pid, 0)
    return payload


def _outcome(action: Callable[[], Any]) -> dict[str, Any]:
    try:
        return {"result": action()}
    except Exception as e:
        return {
            "error": str(e) if isinstance(e, QAError) else repr(e),
            "qa_error": isinstance(e, QAError),
        }


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Debian's chromium driven by Playwright, one for the session: Playwright's sync API
    runs one instance per process, so every browser test shares it."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path="/usr/bin/chromium",
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield chromium
        chromium.close()


@pytest.fixture
def private_qa(qa: QA, tmp_path: Path) -> QA:
    """An engine over a corpus copy of its own (uploads, verdicts and a calibrated
    threshold stay in tmp_path), sharing the session's loaded model."""
    from qa.index import ensure_index

    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus)
    settings = qa.settings.replace(corpus_dir=corpus, index_dir=tmp_path / "index")
    index = ensure_index(settings, qa.embedder, log=lambda message: None, progress=False)
    return QA(index, qa.embedder, settings)
