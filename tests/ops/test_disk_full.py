"""A full disk mid-run: exit 3, the archive stays as the last finished run left it, the next run
(with space again) does the work. Injected at the writer's low-level write and at the ledger,
and for real on a small tmpfs when the test may mount one (root)."""

from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from cleaner.sinks.warc import _Series
from cleaner.state.ledger import Ledger
from tests.conftest import SAMPLES, SHARED

Cli = Callable[..., tuple[int, str, str]]


def _snapshot(*dirs: Path) -> dict[str, str]:
    """Every file under the output folders with the sha256 of its bytes."""
    out = {}
    for d in dirs:
        for p in sorted(d.rglob("*")) if d.exists() else []:
            if p.is_file():
                out[str(p.relative_to(d.parent))] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def _add_inputs(raw: Path, n: int, tag: str) -> None:
    samples = sorted(SAMPLES.iterdir())
    for i in range(n):
        text = samples[i % len(samples)].read_text(encoding="utf-8")
        (raw / f"{tag}-{i:03d}.txt").write_text(f"Meldung {tag} {i}: Neues aus dem Rathaus {i * 31}.\n\n{text}",
                                                encoding="utf-8")


def _clean_ids(clean: Path) -> list[str]:
    return [json.loads(line)["id"] for p in sorted(clean.glob("part-*.jsonl"))
            for line in p.read_text(encoding="utf-8").splitlines()]


def _assert_archive_valid(cli: Cli, archive: Path) -> None:
    code, out, err = cli("verify", str(archive))
    assert code == 0, out + err
    assert not [p for p in archive.parent.rglob("*") if p.name.endswith((".open", ".tmp"))]
    validator = SHARED / "tools" / "validate_archive.py"
    if validator.exists():
        res = subprocess.run([sys.executable, str(validator), str(archive)], capture_output=True, text=True)
        assert "errors=0" in res.stdout.strip().splitlines()[-1], res.stdout[-2000:]


def _status(cli: Cli, *args: str) -> dict[str, Any]:
    code, out, _ = cli("status", "--json", *args)
    assert code == 0
    return json.loads(out)


def test_enospc_while_writing_the_archive(project: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    assert cli("run", "--workers", "1", "--no-progress")[0] == 0
    before = _snapshot(project / "clean", project / "archive")
    counts = _status(cli)["counts"]
    _add_inputs(project / "raw", 4, "full")
    real_write = _Series._write
    calls = {"n": 0}

    def write_until_full(self: _Series, blob: bytes) -> int:
        calls["n"] += 1
        if calls["n"] > 5:  # a few records fit, then the device is full
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_write(self, blob)

    monkeypatch.setattr(_Series, "_write", write_until_full)
    code, _, err = cli("run", "--workers", "1", "--no-progress")
    assert code == 3, err
    assert "No space left on device" in err and "Traceback" not in err
    assert _snapshot(project / "clean", project / "archive") == before  # the previous archive, byte for byte
    _assert_archive_valid(cli, project / "archive")
    status = _status(cli)
    assert status["counts"] == counts and status["runs"][0]["status"] == "failed"

    monkeypatch.setattr(_Series, "_write", real_write)  # space again
    code, _, err = cli("run", "--workers", "1", "--no-progress")
    assert code == 0, err
    after = _status(cli)["counts"]
    assert sum(after.values()) == sum(counts.values()) + 4  # each new input once (clean or a duplicate)
    ids = _clean_ids(project / "clean")
    assert len(ids) == len(set(ids)) == after["clean"]
    _assert_archive_valid(cli, project / "archive")


def test_ledger_full_after_the_files_were_published(project: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    """The worst moment: outputs renamed into place, then the ledger commit fails: they are taken back."""
    assert cli("run", "--workers", "1", "--no-progress")[0] == 0
    before = _snapshot(project / "clean", project / "archive")
    _add_inputs(project / "raw", 3, "late")
    real = Ledger.record_documents

    def ledger_full(self: Ledger, rows: list[dict[str, Any]]) -> None:
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(Ledger, "record_documents", ledger_full)  # the checkpoint's rows, after publishing
    code, _, err = cli("run", "--workers", "1", "--no-progress")
    assert code == 3, err
    assert _snapshot(project / "clean", project / "archive") == before
    _assert_archive_valid(cli, project / "archive")
    monkeypatch.setattr(Ledger, "record_documents", real)
    assert cli("run", "--workers", "1", "--no-progress")[0] == 0
    assert sum(_status(cli)["counts"].values()) == 8
    _assert_archive_valid(cli, project / "archive")


def _mount_tmpfs(where: Path, size: str) -> bool:
    where.mkdir()
    if not hasattr(os, "geteuid") or os.geteuid() != 0 or shutil.which("mount") is None:
        return False
    res = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)], capture_output=True)
    return res.returncode == 0


def test_real_full_disk_on_tmpfs(project: Path, cli: Cli) -> None:
    fs = project / "fs"
    if not _mount_tmpfs(fs, "1000k"):
        pytest.skip("cannot mount a tmpfs here (needs root); the injected ENOSPC tests cover the logic")
    try:
        outs = ["--clean", str(fs / "clean"), "--archive", str(fs / "archive"), "--state", str(fs / "state")]
        assert cli("run", "--workers", "1", "--no-progress", *outs)[0] == 0
        before = _snapshot(fs / "clean", fs / "archive")
        _add_inputs(project / "raw", 40, "tmpfs")
        st = os.statvfs(fs)
        filler = fs / "filler"
        filler.write_bytes(b"\0" * max(0, st.f_bavail * st.f_frsize - 150_000))  # ~150 KB left
        code, _, err = cli("run", "--workers", "1", "--no-progress", *outs)
        assert code == 3, err
        assert "Traceback" not in err
        assert _snapshot(fs / "clean", fs / "archive") == before
        _assert_archive_valid(cli, fs / "archive")
        filler.unlink()
        code, _, err = cli("run", "--workers", "1", "--no-progress", *outs)
        assert code == 0, err
        counts = _status(cli, "--state", str(fs / "state"))["counts"]
        assert sum(counts.values()) == 45
        ids = _clean_ids(fs / "clean")
        assert len(ids) == len(set(ids)) == counts["clean"]
        _assert_archive_valid(cli, fs / "archive")
    finally:
        subprocess.run(["umount", str(fs)], capture_output=True)
