"""pages.jsonl and SHA256SUMS are appended in place, index lines go to per-checkpoint segments;
recovery removes what a crash left there."""

from __future__ import annotations

import shutil
from pathlib import Path

from cleaner.cli import main
from cleaner.recovery import rollback_files
from cleaner.sinks.archive_check import verify_archive
from cleaner.sinks.cdxj import segments
from cleaner.sinks.warc import fold_indexes
from cleaner.state.ledger import Ledger
from tests.conftest import SAMPLES


def _run_samples(tmp_path: Path, n: int) -> tuple[Path, Path, Path]:
    """`cleaner run` over the first n sample scrapes; returns (archive, clean, state)."""
    raw = tmp_path / "raw"
    raw.mkdir()
    for p in sorted(SAMPLES.glob("*.txt"))[:n]:
        shutil.copy(p, raw / p.name)
    archive, clean, state = tmp_path / "archive", tmp_path / "clean", tmp_path / "state"
    args = ["run", "--input", str(raw), "--clean", str(clean), "--archive", str(archive), "--state", str(state)]
    assert main([*args, "--no-progress", "-q"]) == 0
    return archive, clean, state


def _roll_back_crashed_run(archive: Path, clean: Path, state: Path) -> tuple[int, int]:
    """Recovery's rollback for a crashed run that started after every file of the fixture run."""
    ledger = Ledger(state)
    try:
        return rollback_files(ledger, archive, clean, ["29991231235958-abcdef"])
    finally:
        ledger.close()


def test_a_crash_mid_append_leaves_nothing_after_recovery(tmp_path: Path) -> None:
    archive, clean, state = _run_samples(tmp_path, 2)
    pages, sums = archive / "pages.jsonl", archive / "SHA256SUMS"
    before = {p: p.read_bytes() for p in (pages, sums)}
    assert before[pages].endswith(b"\n") and before[sums].endswith(b"\n")

    # A later checkpoint published a WARC and was cut short while appending its lines: one
    # complete page line of a document the ledger never committed, then an unterminated tail.
    warc = sorted(archive.glob("CLEANER-TEXT-*.warc.gz"))[0]
    orphan = archive / "CLEANER-TEXT-29991231235959-00000-host.warc.gz"
    shutil.copy(warc, orphan)
    with open(pages, "ab") as fh:
        fh.write(b'{"id": "' + b"d" * 32 + b'", "url": "file:///x.txt", "ts": "2999-12-31T23:59:59Z"}\n{"id": "ee')
    with open(sums, "ab") as fh:
        fh.write(f"{'0' * 64}  {orphan.name}\n{'1' * 20}".encode())

    assert _roll_back_crashed_run(archive, clean, state) == (0, 1)
    assert not orphan.exists()
    assert {p: p.read_bytes() for p in (pages, sums)} == before
    assert verify_archive(archive) == []


def test_recovery_drops_the_segment_of_an_uncommitted_checkpoint_and_folds_the_rest(tmp_path: Path) -> None:
    archive, clean, state = _run_samples(tmp_path, 3)
    index = archive / "index.cdxj"
    whole = index.read_text(encoding="utf-8")
    lines = whole.splitlines(keepends=True)
    assert len(lines) >= 3 and not segments(index)  # the run folded its segments

    # A run crashed after two checkpoints: the first committed (its lines only in a segment),
    # the second published a WARC and its segment but never committed.
    index.write_text("".join(lines[1:]), encoding="utf-8")
    (archive / "index-20000101000000-00000.cdxj").write_text(lines[0], encoding="utf-8")
    warc = sorted(archive.glob("CLEANER-2*.warc.gz"))[0]
    orphan = archive / "CLEANER-29991231235959-00000-host.warc.gz"
    shutil.copy(warc, orphan)
    stale = lines[0].replace(warc.name, orphan.name)
    (archive / "index-29991231235959-00000.cdxj").write_text(stale, encoding="utf-8")
    (archive / "index-29991231235959-00001.cdxj.tmp").write_text(stale, encoding="utf-8")
    assert len(segments(index)) == 2

    assert _roll_back_crashed_run(archive, clean, state) == (1, 1)  # the segment's temp file, the orphan
    assert not orphan.exists() and segments(index) == [archive / "index-20000101000000-00000.cdxj"]
    assert not list(archive.glob("*.tmp"))
    assert verify_archive(archive) == []  # the committed segment still indexes its records
    assert fold_indexes(archive) == 1
    assert index.read_text(encoding="utf-8") == whole and not segments(index)
    assert verify_archive(archive) == []
