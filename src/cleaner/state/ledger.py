"""The ledger: one SQLite file in the state folder that remembers every input, document and run.

It is the single source of truth for "what is done": an input is committed only after the
files holding its outputs are durable, in the same transaction as its documents, the dedup
index entries and the template counts (those modules create their tables in this connection
and never commit themselves). Files the ledger does not list as committed are leftovers of a
crashed run and are removed by recovery.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from cleaner.errors import FatalError
from cleaner.state.levels import table_columns

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY,
    started REAL NOT NULL,
    finished REAL,
    status TEXT NOT NULL,              -- running | done | failed | interrupted
    config_sha256 TEXT NOT NULL,
    config_json TEXT NOT NULL,
    summary_json TEXT
);
CREATE TABLE IF NOT EXISTS inputs (
    path TEXT NOT NULL,                -- relative to the input folder
    sha256 TEXT NOT NULL,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    run_id TEXT NOT NULL,
    outcome TEXT NOT NULL,             -- clean | duplicate | quarantined | mixed (multi-document inputs)
    problem TEXT,
    docs INTEGER NOT NULL,
    PRIMARY KEY (path, sha256)
);
CREATE TABLE IF NOT EXISTS documents (
    doc_id TEXT PRIMARY KEY,
    input_path TEXT NOT NULL,
    input_sha256 TEXT NOT NULL,
    member TEXT,
    run_id TEXT NOT NULL,
    outcome TEXT NOT NULL,
    problem TEXT,
    duplicate_of TEXT,
    method TEXT,
    similarity REAL,
    url TEXT,
    title TEXT,
    lang TEXT,
    site TEXT,
    chars INTEGER,
    raw_json TEXT,                     -- RecordRef of the raw / revisit record
    text_json TEXT,                    -- RecordRef of the conversion record
    meta_json TEXT,                    -- RecordRef of the metadata record
    shard TEXT,                        -- clean/ shard holding the article
    edits_json TEXT,                   -- {rule: count} of this document's edits
    dedup_note TEXT                    -- a duplicate: the dedup index's evidence (Match.note)
);
CREATE INDEX IF NOT EXISTS inputs_sha256 ON inputs(sha256);
CREATE INDEX IF NOT EXISTS documents_run ON documents(run_id);
CREATE INDEX IF NOT EXISTS documents_dup ON documents(duplicate_of);
CREATE TABLE IF NOT EXISTS files (
    name TEXT PRIMARY KEY,             -- path relative to the state's parent outputs: archive/… or clean/…
    run_id TEXT NOT NULL,
    kind TEXT NOT NULL                 -- archive | corpus
);
"""


def readonly_uri(path: Path) -> str:
    """A reader that leaves no trace: a read-only connection to a WAL database would create
    -wal/-shm files if none exist. None exist only when no writer has the database open, so the
    file is then stable and can be opened as immutable (no locks, no side files)."""
    wal = path.with_name(path.name + "-wal")
    return f"file:{path}?mode=ro" + ("" if wal.exists() else "&immutable=1")


CACHE_KB = 16 * 1024


_STAT_FOLDER_ROWS = 50_000  # inputs of one folder `known_by_stat` remembers at most (~8 MB; times its depth)


class Ledger:
    """SQLite in WAL mode; one writer (the parent process), any number of readers."""

    def __init__(self, state_dir: Path, *, readonly: bool = False) -> None:
        self.path = state_dir / "ledger.sqlite"
        # `known_by_stat`'s folder and its parents, with their rows (None: too many to hold)
        self._stat_folders: dict[str, set[tuple[str, int, int]] | None] = {}
        try:
            if readonly:
                if not self.path.exists():
                    raise FatalError(f"no ledger at {self.path}: nothing has run with this state folder")
                self.conn = sqlite3.connect(readonly_uri(self.path), uri=True)
            else:
                state_dir.mkdir(parents=True, exist_ok=True)
                self.conn = sqlite3.connect(self.path, isolation_level="DEFERRED")
                self.conn.execute("PRAGMA journal_mode=WAL")
                self.conn.execute("PRAGMA synchronous=FULL")
                self.conn.executescript(SCHEMA)
                self._add_columns()
                self.conn.commit()
            # the page cache is most of the parent's memory growth on a big ledger; 16 MB keeps
            # dedup lookups fast (index pages are hot) without growing with the archive
            self.conn.execute(f"PRAGMA cache_size=-{CACHE_KB}")
        except sqlite3.DatabaseError as err:
            raise FatalError(f"state is unreadable: {self.path}: {err}") from None

    def _add_columns(self) -> None:
        """Columns later versions added, added to a ledger of an earlier one (empty for its rows)."""
        if "dedup_note" not in table_columns(self.conn, "documents"):
            self.conn.execute("ALTER TABLE documents ADD COLUMN dedup_note TEXT")

    def close(self) -> None:
        self.conn.close()

    def commit(self) -> None:
        self.conn.commit()

    def rollback(self) -> None:
        self.conn.rollback()

    # runs ---------------------------------------------------------------------------------

    def start_run(self, run_id: str, config_sha256: str, config_json: str) -> int:
        """Record the run as started (committed, so recovery knows it); returns its number."""
        cur = self.conn.execute(
            "INSERT INTO runs(run_id, started, status, config_sha256, config_json) VALUES (?,?,?,?,?)",
            (run_id, time.time(), "running", config_sha256, config_json),
        )
        self.conn.commit()
        return int(cur.lastrowid or 0)

    def finish_run(self, run_id: str, status: str, summary: dict[str, Any]) -> None:
        self.conn.execute(
            "UPDATE runs SET finished=?, status=?, summary_json=? WHERE run_id=?",
            (time.time(), status, json.dumps(summary, ensure_ascii=False), run_id),
        )
        self.conn.commit()

    def unfinished_runs(self) -> list[str]:
        rows = self.conn.execute("SELECT run_id FROM runs WHERE status='running'").fetchall()
        return [r[0] for r in rows]

    def mark_runs(self, run_ids: Iterable[str], status: str) -> None:
        self.conn.executemany("UPDATE runs SET status=? WHERE run_id=?", [(status, r) for r in run_ids])
        self.conn.commit()

    def runs(self, limit: int = 10) -> list[dict[str, Any]]:
        rows = self.conn.execute(
            "SELECT run_id, started, finished, status, config_sha256, summary_json FROM runs "
            "ORDER BY started DESC LIMIT ?",
            (limit,),
        ).fetchall()
        keys = ("run_id", "started", "finished", "status", "config_sha256", "summary")
        out = []
        for row in rows:
            d = dict(zip(keys, row, strict=True))
            d["summary"] = json.loads(d["summary"]) if d["summary"] else None
            out.append(d)
        return out

    # inputs -------------------------------------------------------------------------------

    def known_by_stat(self, path: str, size: int, mtime_ns: int) -> bool:
        """Cheap check: same path, size and mtime as a committed input means unchanged.

        Discovery asks for every file of a folder in turn, so the folder's rows are read in one
        range scan of the primary key and remembered, with its parents' while it is inside them
        (a query per file was a third of a run that finds nothing new: 0.75 of 2.5 s over 100k
        inputs). A folder with more than `_STAT_FOLDER_ROWS` inputs is asked file by file, which
        keeps memory bounded."""
        folder = path.rpartition("/")[0]
        if folder not in self._stat_folders:  # discovery walks depth first: a folder it left is not
            self._stat_folders = {  # seen again, its parents are (after their subfolders)
                f: rows for f, rows in self._stat_folders.items() if f == "" or folder.startswith(f + "/")
            }
            self._stat_folders[folder] = self._folder_stats(folder)
        rows = self._stat_folders[folder]
        if rows is not None:
            return (path, size, mtime_ns) in rows
        row = self.conn.execute(
            "SELECT 1 FROM inputs WHERE path=? AND size=? AND mtime_ns=? LIMIT 1", (path, size, mtime_ns)
        ).fetchone()
        return row is not None

    def _folder_stats(self, folder: str) -> set[tuple[str, int, int]] | None:
        """(path, size, mtime_ns) of the inputs directly in `folder` ('' is the input root), or
        None when there are too many to hold. '0' follows '/': the range is the folder's tree."""
        if folder:  # a range of the primary key
            rows = self.conn.execute(
                "SELECT path, size, mtime_ns FROM inputs WHERE path >= ? AND path < ?"
                " AND instr(substr(path, ?), '/') = 0 LIMIT ?",
                (folder + "/", folder + "0", len(folder) + 2, _STAT_FOLDER_ROWS + 1),
            ).fetchall()
        else:  # the root: every path without a folder
            rows = self.conn.execute(
                "SELECT path, size, mtime_ns FROM inputs WHERE instr(path, '/') = 0 LIMIT ?", (_STAT_FOLDER_ROWS + 1,)
            ).fetchall()
        return None if len(rows) > _STAT_FOLDER_ROWS else set(rows)

    def known_by_hash(self, path: str, sha256: str) -> bool:
        row = self.conn.execute(
            "SELECT 1 FROM inputs WHERE path=? AND sha256=? LIMIT 1", (path, sha256)
        ).fetchone()
        return row is not None

    def paths_by_hash(self, sha256: str) -> list[str]:
        """Every recorded input path with these bytes, the earliest first."""
        rows = self.conn.execute("SELECT path FROM inputs WHERE sha256=? ORDER BY rowid", (sha256,))
        return [str(r[0]) for r in rows]

    def input_by_hash(self, sha256: str, run_id: str | None = None) -> str | None:
        """The path of a committed input with these bytes that held one document and was not
        quarantined (of run `run_id` only, when given), the earliest recorded."""
        scope, args = (" AND run_id=?", (sha256, run_id)) if run_id else ("", (sha256,))
        row = self.conn.execute(
            f"SELECT path FROM inputs WHERE sha256=? AND docs=1 AND outcome!='quarantined'{scope}"
            " ORDER BY rowid LIMIT 1", args
        ).fetchone()
        return None if row is None else str(row[0])

    def touch_input(self, path: str, sha256: str, size: int, mtime_ns: int) -> None:
        """Same bytes, new mtime (e.g. `touch`, a copy): remember the stat so the next run skips cheaply."""
        self._stat_folders = {}
        self.conn.execute(
            "UPDATE inputs SET size=?, mtime_ns=? WHERE path=? AND sha256=?", (size, mtime_ns, path, sha256)
        )

    def record_input(
        self, path: str, sha256: str, size: int, mtime_ns: int, run_id: str, outcome: str,
        problem: str | None, docs: int,
    ) -> None:
        self._stat_folders = {}
        self.conn.execute(
            "INSERT OR REPLACE INTO inputs VALUES (?,?,?,?,?,?,?,?)",
            (path, sha256, size, mtime_ns, run_id, outcome, problem, docs),
        )

    # documents ----------------------------------------------------------------------------

    def record_document(self, row: dict[str, Any]) -> None:
        cols = ",".join(row)
        marks = ",".join("?" for _ in row)
        self.conn.execute(f"INSERT OR REPLACE INTO documents({cols}) VALUES ({marks})", tuple(row.values()))

    def record_documents(self, rows: list[dict[str, Any]]) -> None:
        """Many `record_document` rows in one statement (rows with the same keys, as the
        checkpoint builds them); rows with other key sets go one by one."""
        if not rows:
            return
        keys = tuple(rows[0])
        same = [tuple(r.values()) for r in rows if tuple(r) == keys]
        if len(same) == len(rows):
            marks = ",".join("?" for _ in keys)
            self.conn.executemany(f"INSERT OR REPLACE INTO documents({','.join(keys)}) VALUES ({marks})", same)
            return
        for row in rows:
            self.record_document(row)

    def outcomes(self, doc_ids: Iterable[str]) -> dict[str, str]:
        """{doc id: outcome} of those of `doc_ids` the ledger holds (one query per 500 ids)."""
        ids = list(doc_ids)
        out: dict[str, str] = {}
        for i in range(0, len(ids), 500):
            part = ids[i : i + 500]
            marks = ",".join("?" * len(part))
            out.update(self.conn.execute(
                f"SELECT doc_id, outcome FROM documents WHERE doc_id IN ({marks})", part).fetchall())
        return out

    def document(self, doc_id: str) -> dict[str, Any] | None:
        return next(_dicts(self.conn.execute("SELECT * FROM documents WHERE doc_id=?", (doc_id,))), None)

    def documents_of_member(self, member: str) -> list[dict[str, Any]]:
        """Documents read from an input record with this id (a WARC-Record-ID), in any input."""
        return list(_dicts(self.conn.execute("SELECT * FROM documents WHERE member=? ORDER BY rowid", (member,))))

    def documents_for_input(self, path: str) -> list[dict[str, Any]]:
        return list(_dicts(self.conn.execute("SELECT * FROM documents WHERE input_path=? ORDER BY rowid", (path,))))

    def documents_of_url(self, url: str) -> list[dict[str, Any]]:
        """Documents with this URL, oldest first. Not indexed (a scan): for `cleaner get`'s
        fallback, after the archive's own index found no text for the URL."""
        return list(_dicts(self.conn.execute("SELECT * FROM documents WHERE url=? ORDER BY rowid", (url,))))

    def duplicates_of(self, doc_id: str) -> list[dict[str, Any]]:
        return list(_dicts(self.conn.execute("SELECT * FROM documents WHERE duplicate_of=?", (doc_id,))))

    def counts(self) -> dict[str, int]:
        out = {"clean": 0, "duplicate": 0, "quarantined": 0}
        for outcome, n in self.conn.execute("SELECT outcome, COUNT(*) FROM documents GROUP BY outcome"):
            out[outcome] = n
        return out

    def quarantined(self, limit: int = 50) -> list[dict[str, Any]]:
        rows = self.conn.execute(
            "SELECT input_path, member, problem, run_id FROM documents WHERE outcome='quarantined' "
            "ORDER BY rowid DESC LIMIT ?",
            (limit,),
        ).fetchall()
        return [dict(zip(("path", "member", "problem", "run_id"), r, strict=True)) for r in rows]

    def iter_documents(self, run_id: str | None = None) -> Iterator[dict[str, Any]]:
        sql = "SELECT * FROM documents" + (" WHERE run_id=?" if run_id else "") + " ORDER BY rowid"
        yield from _dicts(self.conn.execute(sql, (run_id,) if run_id else ()))

    # files --------------------------------------------------------------------------------

    def record_files(self, names: Iterable[str], run_id: str, kind: str) -> None:
        self.conn.executemany(
            "INSERT OR REPLACE INTO files VALUES (?,?,?)", [(n, run_id, kind) for n in names]
        )

    def committed_files(self, kind: str) -> set[str]:
        return {r[0] for r in self.conn.execute("SELECT name FROM files WHERE kind=?", (kind,))}


def _dicts(cur: sqlite3.Cursor) -> Iterator[dict[str, Any]]:
    """Rows of a query as {column: value}."""
    names = [c[0] for c in cur.description]
    for row in cur:
        yield dict(zip(names, row, strict=True))
