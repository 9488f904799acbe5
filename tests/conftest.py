"""Shared fixtures: a project folder with the sample scrapes, and in-process CLI runs."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from cleaner.cli import main

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "raw"
SHARED = ROOT.parent / "shared"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh project folder (cwd) whose raw/ holds the five sample scrapes."""
    shutil.copytree(SAMPLES, tmp_path / "raw")
    monkeypatch.chdir(tmp_path)
    for name in list(__import__("os").environ):
        if name.startswith("CLEANER_"):
            monkeypatch.delenv(name)
    return tmp_path


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., tuple[int, str, str]]:
    def run(*args: str) -> tuple[int, str, str]:
        code = main(list(args))
        out, err = capsys.readouterr()
        return code, out, err

    return run
