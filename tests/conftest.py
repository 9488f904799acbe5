"""Shared fixtures: a project folder with the sample scrapes, and in-process CLI runs."""

from __future__ import annotations

import shutil
import sqlite3
import time
from collections.abc import Callable
from typing import Any
from pathlib import Path

import pytest

from cleaner.cli import main

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "raw"
SHARED = ROOT.parent / "shared"


def without_dedup_note(db: Path) -> None:
    """Rewrite a ledger's documents table as versions before `dedup_note` made it (no DROP
    COLUMN: that needs SQLite 3.35)."""
    conn = sqlite3.connect(db)
    cols = ", ".join(r[1] for r in conn.execute("PRAGMA table_info(documents)") if r[1] != "dedup_note")
    conn.execute("ALTER TABLE documents RENAME TO documents_new")
    conn.execute(f"CREATE TABLE documents AS SELECT {cols} FROM documents_new")
    conn.execute("DROP TABLE documents_new")
    conn.commit()
    conn.close()


def make_strip_slow(monkeypatch: pytest.MonkeyPatch, path: str, seconds: float = 3.0) -> None:
    """Strip sleeps on the input at `path`: a document that overruns its time budget (forked
    pool workers inherit the patch)."""
    from cleaner.stages import strip

    real = strip.strip

    def sometimes_slow(doc: Any, *args: Any, **kwargs: Any) -> Any:
        if doc.source.path == path:
            time.sleep(seconds)
        return real(doc, *args, **kwargs)

    monkeypatch.setattr(strip, "strip", sometimes_slow)


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
