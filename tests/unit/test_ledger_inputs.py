"""The ledger's input rows: the stat check discovery asks for every file of a folder."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from cleaner.state import ledger as ledger_mod
from cleaner.state.ledger import Ledger
from tests.conftest import without_dedup_note

PATHS = ["a.txt", "b.txt", "d/x.txt", "d/y.txt", "d/sub/z.txt", "d0.txt", "d-2/w.txt", "e/f/g/h.txt"]


def _point(ledger: Ledger, path: str, size: int, mtime_ns: int) -> bool:
    return ledger.conn.execute("SELECT 1 FROM inputs WHERE path=? AND size=? AND mtime_ns=?",
                               (path, size, mtime_ns)).fetchone() is not None


@pytest.mark.parametrize("cap", [50_000, 1])  # remembered per folder, and file by file past the cap
def test_known_by_stat_answers_as_a_query_per_file_would(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                          cap: int) -> None:
    monkeypatch.setattr(ledger_mod, "_STAT_FOLDER_ROWS", cap)
    ledger = Ledger(tmp_path)
    for i, path in enumerate(PATHS):
        ledger.record_input(path, f"{i:064x}", 10 + i, 1000 + i, "run", "clean", None, 1)
    ledger.commit()
    asks = [(p, 10 + i, 1000 + i) for i, p in enumerate(PATHS)]  # as recorded
    asks += [(p, 10 + i, 999) for i, p in enumerate(PATHS)]  # touched since
    asks += [("d/new.txt", 1, 1), ("new/a.txt", 10, 1000), ("d", 1, 1)]
    for path, size, mtime in sorted(asks):  # discovery's order: a folder's files together
        assert ledger.known_by_stat(path, size, mtime) == _point(ledger, path, size, mtime), (path, size, mtime)
    # a row written meanwhile is seen: the remembered folder is read again
    assert not ledger.known_by_stat("d/x.txt", 99, 99)
    ledger.touch_input("d/x.txt", f"{2:064x}", 99, 99)
    assert ledger.known_by_stat("d/x.txt", 99, 99)
    ledger.record_input("d/new.txt", "f" * 64, 5, 5, "run", "clean", None, 1)
    assert ledger.known_by_stat("d/new.txt", 5, 5)
    ledger.close()


def test_discovery_order_reads_each_folder_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Files of the root sorted between its folders: the root's rows are kept while discovery is
    in a folder below it, not read again (for the root, that read is a scan of every input)."""
    from cleaner.sources import InputFile, discover

    raw = tmp_path / "raw"
    for name in ("a.txt", "b/x.txt", "b/c/y.txt", "b/z.txt", "c.txt", "d/w.txt", "e.txt"):
        (raw / name).parent.mkdir(parents=True, exist_ok=True)
        (raw / name).write_text(name)
    files = [f for f in discover(raw) if isinstance(f, InputFile)]
    ledger = Ledger(tmp_path / "state")
    for f in files:
        ledger.record_input(f.rel, "0" * 64, f.size, f.mtime_ns, "run", "clean", None, 1)
    ledger.commit()
    reads: list[str] = []
    real = ledger._folder_stats
    monkeypatch.setattr(ledger, "_folder_stats", lambda folder: reads.append(folder) or real(folder))
    assert all(ledger.known_by_stat(f.rel, f.size, f.mtime_ns) for f in files)
    assert sorted(reads) == ["", "b", "b/c", "d"]
    ledger.close()


def test_a_ledger_of_an_earlier_version_gains_the_dedup_note_column(tmp_path: Path) -> None:
    """`documents.dedup_note` came later: opening an older ledger adds it (empty for old rows),
    and rows with a note are written and read back."""
    state = tmp_path / "state"
    Ledger(state).close()
    without_dedup_note(state / "ledger.sqlite")
    c = sqlite3.connect(state / "ledger.sqlite")
    c.execute("INSERT INTO documents(doc_id, input_path, input_sha256, run_id, outcome) VALUES('old', 'a.txt', 'x', 'r1', 'clean')")
    c.commit()
    c.close()
    ledger = Ledger(state)
    ledger.record_documents([{"doc_id": "new", "input_path": "b.txt", "input_sha256": "y", "run_id": "r2",
                              "outcome": "duplicate", "duplicate_of": "old", "dedup_note": "same words in the same order"}])
    ledger.commit()
    assert ledger.document("old")["dedup_note"] is None
    assert ledger.document("new")["dedup_note"] == "same words in the same order"
    ledger.close()

