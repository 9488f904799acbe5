"""kill -9 a real `cleaner run` at many points; after a rerun every input is handled exactly once."""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from cleaner.sinks.archive_check import verify_archive
from tests.conftest import SAMPLES


def _make_inputs(raw: Path, n: int) -> None:
    raw.mkdir()
    samples = sorted(SAMPLES.iterdir())
    words = ("Stadt Rat Haushalt Schule Wasser Energie Plan Markt Preis Dorf Museum Bahnhof Fest Wetter Sturm "
             "Hafen Bauern Brücke Bibliothek Klinik Wahl Bürgermeister Verkehr Ernte Verein Theater").split()
    for i in range(n):
        src = samples[i % len(samples)].read_text(encoding="utf-8")
        rnd = random.Random(i)
        # distinct articles: two unique paragraphs on top, so most are not duplicates of each other
        extra = "\n\n".join(" ".join(rnd.choice(words) for _ in range(120)) + "." for _ in range(2))
        (raw / f"doc{i:04d}.txt").write_text(f"Bericht Nummer {i}.\n\n{extra}\n\n{src}", encoding="utf-8")
        if i % 10 == 9:  # the same bytes again (state/copies.py): near (same checkpoint) or far back
            earlier = raw / f"doc{i - (3 if i % 20 == 9 else 16):04d}.txt"
            (raw / f"doc{i:04d}.txt").write_bytes(earlier.read_bytes())


def _committed(root: Path) -> int:
    """Documents the ledger holds right now (0 while it does not exist or is busy)."""
    path = root / "state" / "ledger.sqlite"
    if not path.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=0.1) as db:
            return int(db.execute("SELECT COUNT(*) FROM documents").fetchone()[0])
    except sqlite3.Error:
        return 0


def _run(root: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "cleaner", "run", "--workers", "1", "-q"], cwd=root, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


@pytest.mark.slow
@pytest.mark.parametrize("keep", ["first", "longest"])
def test_kill_9_anywhere_loses_and_duplicates_nothing(tmp_path: Path, keep: str) -> None:
    """keep = "longest" spools the whole run before writing (longest_first.py): kills land in
    the spooling too, and a rerun writes from a fresh spool."""
    _make_inputs(tmp_path / "raw", 120)
    env = {**os.environ, "CLEANER_RUN_CHECKPOINT_DOCS": "7", "CLEANER_DEDUP_KEEP": keep}
    rnd = random.Random(8)
    # two kills while starting up (recovery, discovery), then kills at random moments after the
    # ledger has moved on by one or two checkpoints: inside a chunk, a write, a publish, a commit
    for early in (0.05, 0.4):
        proc = _run(tmp_path, env)
        time.sleep(early)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    for _ in range(6):
        start = _committed(tmp_path)
        proc = _run(tmp_path, env)
        deadline = time.monotonic() + 20
        while proc.poll() is None and _committed(tmp_path) < start + rnd.choice((1, 7, 14)) \
                and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(rnd.uniform(0, 0.15))
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    proc = _run(tmp_path, env)
    _, err = proc.communicate(timeout=600)
    assert proc.returncode in (0, 1), err.decode()
    # every input exactly once in the ledger
    out = subprocess.run([sys.executable, "-m", "cleaner", "status", "--json"], cwd=tmp_path, capture_output=True, check=True)
    counts = json.loads(out.stdout)["counts"]
    assert sum(counts.values()) == 120
    # clean/: no article twice, none lost
    ids = [json.loads(line)["id"] for p in (tmp_path / "clean").glob("part-*.jsonl") for line in p.read_text().splitlines()]
    assert len(ids) == len(set(ids)) == counts["clean"]
    # archive: one raw record per input, valid, no temporary files
    raw_per_source: Counter[str] = Counter()
    for f in (tmp_path / "archive").glob("CLEANER-2*.warc.gz"):
        with open(f, "rb") as fh:
            for rec in ArchiveIterator(fh):
                if rec.rec_type in ("resource", "revisit"):
                    raw_per_source[rec.rec_headers.get_header("WARC-Target-URI")] += 1
    assert len(raw_per_source) == 120 and set(raw_per_source.values()) == {1}
    assert verify_archive(tmp_path / "archive") == []
    assert not list(tmp_path.rglob("*.open")) and not list(tmp_path.rglob("*.tmp"))
    assert not list(tmp_path.rglob("*.spool"))
    assert sorted(p.name for p in (tmp_path / "archive").glob("*.cdxj")) == ["index.cdxj", "text.cdxj"]  # folded


def test_two_runs_at_once_one_exits_75(tmp_path: Path) -> None:
    _make_inputs(tmp_path / "raw", 300)
    first = _run(tmp_path, {**os.environ, "CLEANER_RUN_CHECKPOINT_DOCS": "5"})
    lock = tmp_path / "state" / "cleaner.lock"
    deadline = time.monotonic() + 30
    while not (lock.exists() and lock.stat().st_size) and time.monotonic() < deadline:
        time.sleep(0.02)
    second = subprocess.run([sys.executable, "-m", "cleaner", "run"], cwd=tmp_path, capture_output=True, text=True)
    first.send_signal(signal.SIGTERM)  # its work is done: the second run was refused while it ran
    first.wait(timeout=60)
    assert first.returncode in (0, 1, 143)
    assert second.returncode == 75, second.stderr
    assert f"pid {first.pid}" in second.stderr
    assert len(second.stderr.strip().splitlines()) == 1
