"""The archive of runs over real inputs passes the shared validator (needs ../shared/eval)."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from cleaner.cli import main
from cleaner.sinks.archive_check import verify_archive
from tests.conftest import SHARED

EVAL = SHARED / "eval"
VALIDATOR = SHARED / "tools" / "validate_archive.py"
pytestmark = pytest.mark.skipif(not (EVAL / "warc").is_dir() or not VALIDATOR.exists(), reason="needs ../shared")


def _validate(archive: Path) -> str:
    res = subprocess.run([sys.executable, str(VALIDATOR), str(archive)], capture_output=True, text=True)
    return res.stdout.strip().splitlines()[-1]


@pytest.mark.slow
def test_real_pages_and_warcs_archive_without_validator_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    for page in sorted((EVAL / "extraction" / "html").glob("*.html.gz"))[:60]:
        shutil.copy(page, raw)
    for kind in ("ok", "quirky"):
        shutil.copytree(EVAL / "warc" / kind, raw / kind)
    monkeypatch.chdir(tmp_path)
    assert main(["run", "--no-progress", "-q"]) in (0, 1)  # pages with no article text left: quarantined
    with sqlite3.connect(tmp_path / "state" / "ledger.sqlite") as db:
        wacz = db.execute("SELECT outcome, url FROM documents WHERE input_path LIKE '%.wacz'").fetchall()
    assert wacz == [("clean", "http://www.example.com/")]  # the page in the WACZ's one WARC
    assert _validate(tmp_path / "archive").endswith("errors=0 warnings=0")
    assert verify_archive(tmp_path / "archive") == []
    # a second run over more pages adds files that validate together with the first run's
    for page in sorted((EVAL / "extraction" / "html").glob("*.html.gz"))[60:90]:
        shutil.copy(page, raw)
    assert main(["run", "--no-progress", "-q"]) == 0
    assert "errors=0" in _validate(tmp_path / "archive")


def test_broken_warcs_are_quarantined_with_file_and_offset(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    shutil.copytree(EVAL / "warc" / "broken", tmp_path / "raw")
    monkeypatch.chdir(tmp_path)
    assert main(["run", "--no-progress"]) == 1
    err = capsys.readouterr().err
    assert "clipped.warc.gz" in err and "record at offset 0" in err and "truncated" in err
    assert _validate(tmp_path / "archive").endswith("errors=0 warnings=0")
