"""A SQLite table kept as levels, newest first: a log-structured merge, as LSM trees do.

Why: rows written at random keys into one large B-tree touch one page each, and every touched
page is written again (to the WAL) at the next commit, so the cost per row grows with the
table: at millions of documents the dedup band rows cost 1.3 ms a document that way, and the
site template counts grow the same way. Rows go instead to a small first level that stays in
the page cache; a level that outgrows its cap is merged in key order into the next, larger one
(whose pages are then visited once, in order), and the last level is unbounded. Readers ask
every level that holds rows (`live`) and combine what they find (the dedup index: a union;
template counts: a sum). The row counts are kept in a meta table, in the caller's transaction,
so a rolled-back checkpoint rolls them back too.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Levels:
    conn: sqlite3.Connection
    names: tuple[str, ...]  # first (small, written to) ... last (unbounded; an older layout's single table)
    caps: tuple[int, ...]  # rows each level but the last may hold before it is merged on
    meta: str  # table (key TEXT PRIMARY KEY, value TEXT) holding "rows:<level>"
    merge: str  # statement moving the rows of {src} into {dst} in key order (combining equal keys)
    on_merge: Callable[[str, str], None] | None = None  # told (src, dst) just before a merge, in its transaction
    rows: dict[str, int] = field(init=False)  # rows per bounded level (upper bounds, see `added`)
    last_used: bool = field(init=False)  # the last level holds rows (young indexes: not yet)

    def __post_init__(self) -> None:
        self.rows = {t: 0 for t in self.names[:-1]}
        self.last_used = table_has_rows(self.conn, self.names[-1])
        if table_exists(self.conn, self.meta):
            for key, value in self.conn.execute(f"SELECT key, value FROM {self.meta} WHERE key LIKE 'rows:%'"):
                if key[5:] in self.rows:
                    self.rows[key[5:]] = int(value)

    @property
    def first(self) -> str:
        return self.names[0]

    def live(self) -> list[str]:
        """The levels holding rows: empty ones are not asked."""
        return [t for t in self.names[:-1] if self.rows[t]] + ([self.names[-1]] if self.last_used else [])

    def added(self, n: int) -> None:
        """`n` rows went to the first level (an upper bound is fine: a level merged a little
        early costs a little time, never a row): merge full levels on, persist the counts."""
        self.rows[self.first] += max(n, 0)
        for i, cap in enumerate(self.caps):
            src, dst = self.names[i], self.names[i + 1]
            if self.rows[src] > cap:
                if self.on_merge is not None:
                    self.on_merge(src, dst)
                moved = self.conn.execute(self.merge.format(src=src, dst=dst)).rowcount
                self.conn.execute(f"DELETE FROM {src}")
                self.rows[src] = 0
                if dst in self.rows:
                    self.rows[dst] += max(moved, 0)
                else:
                    self.last_used = True
        self.conn.executemany(
            f"INSERT OR REPLACE INTO {self.meta}(key, value) VALUES(?, ?)",
            [(f"rows:{t}", str(n)) for t, n in self.rows.items()],
        )


def table_exists(conn: sqlite3.Connection, table: str) -> bool:
    return conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)).fetchone() is not None


def table_columns(conn: sqlite3.Connection, table: str) -> set[str]:
    """Column names of `table` (a ledger of an earlier version may lack later ones)."""
    return {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}


def table_has_rows(conn: sqlite3.Connection, table: str) -> bool:
    return table_exists(conn, table) and conn.execute(f"SELECT 1 FROM {table} LIMIT 1").fetchone() is not None
