"""The README's terminal transcripts, run: each `$ qa ...` line of a ```console block
prints what the README shows under it (a line ending in "..." stands for any rest)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from qa import Settings
from qa.cli import main

README = Path(__file__).resolve().parent.parent / "README.md"
BLOCK = re.compile(r"```console\n(.*?)```", re.S)


def transcripts() -> list[tuple[str, list[str]]]:
    """(command line, expected output lines) for every `$ qa` command in the README."""
    found: list[tuple[str, list[str]]] = []
    for block in BLOCK.findall(README.read_text(encoding="utf-8")):
        for command, output in re.findall(r"^\$ (qa [^\n]*)\n(.*?)(?=^\$ |\Z)", block, re.S | re.M):
            found.append((command, output.rstrip("\n").split("\n")))
    return found


def test_the_readme_has_transcripts() -> None:
    assert len(transcripts()) >= 3


@pytest.mark.parametrize(("command", "expected"), transcripts(), ids=lambda v: str(v)[:40])
def test_a_readme_transcript_prints_what_it_shows(
    command: str, expected: list[str], settings: Settings, qa, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = shlex.split(command)[1:]
    paths = ["--corpus", str(settings.corpus_dir), "--index-dir", str(settings.index_dir)]
    assert main([*argv, *paths]) == 0
    printed = capsys.readouterr().out.rstrip("\n").split("\n")
    assert len(printed) == len(expected), printed
    for line, shown in zip(printed, expected, strict=True):
        if shown.endswith("..."):
            assert line.startswith(shown[:-3].rstrip()), (line, shown)
        else:
            assert line == shown
