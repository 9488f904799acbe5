"""Site template statistics: how many pages of a site carry each (normalised) line.

A line that recurs on many pages of one site is the site's chrome (menus, footers, promo
lines) rather than article text. Counts are kept per site and per 64-bit line fingerprint in
SQLite so that knowledge grows run by run; the strip stage only ever sees a small, picklable
`TemplateSnapshot` restricted to the sites of the chunk it cleans.
"""

from __future__ import annotations

import re
import sqlite3
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import xxhash

from cleaner.state.levels import Levels, table_exists

_DIGITS = re.compile(r"\d")
_SIGN64 = 1 << 63


def normalise_line(line: str) -> str:
    """Casefold, digits -> 0, whitespace collapsed: dates and counters do not split a template.

    str.split() and the regex class \\s agree on what whitespace is; split + join is one call
    where a substitution per run of spaces was several (strip keys every line of every page).
    Most lines need no collapsing (no whitespace but single inner spaces): two C scans
    (isprintable is False for every whitespace character but the space) tell, and the split
    into words and the join are skipped."""
    norm = _DIGITS.sub("0", line.casefold())
    if norm.isprintable() and "  " not in norm and norm[:1] != " " and norm[-1:] != " ":
        return norm
    return " ".join(norm.split())


_ASCII_DIGITS = bytes.maketrans(b"123456789", b"000000000")


def line_key(line: str) -> int | None:
    """Signed 64-bit fingerprint of one line (signed so that SQLite INTEGER holds it), None if blank.

    A printable ASCII line without runs of spaces or spaces at its ends (most lines) is already
    normalised but for case and digits, which its bytes fold in two table lookups per byte:
    ~1.5 us on a 277-character line against ~4.5 through `normalise_line`, the same key."""
    if line.isascii() and line.isprintable() and "  " not in line and line[:1] != " " and line[-1:] != " ":
        if not line:
            return None
        h = xxhash.xxh3_64_intdigest(line.encode("ascii").lower().translate(_ASCII_DIGITS))
        return h - (1 << 64) if h & _SIGN64 else h
    norm = normalise_line(line)
    if not norm:
        return None
    h = xxhash.xxh3_64_intdigest(norm.encode("utf-8"))
    return h - (1 << 64) if h & _SIGN64 else h


_INLINE_SPACES = re.compile(r"[^\S\n]+")  # never crosses a newline
_ODD_SPACE = re.compile(r"[^\S\n ]|  ")  # something for _INLINE_SPACES to change (most texts: nothing)


def line_keys(text: str) -> list[int]:
    """Fingerprints of the non-empty lines of `text`, in order (repeats kept).

    Equal to `line_key` per line, normalising the whole text at once (casefold and the digit
    fold never touch a newline; spaces are collapsed without crossing one).
    """
    norm = _DIGITS.sub("0", text.casefold())
    if _ODD_SPACE.search(norm):
        norm = _INLINE_SPACES.sub(" ", norm)
    digest = xxhash.xxh3_64_intdigest
    keys: list[int] = []
    for line in norm.split("\n"):
        line = line.strip()
        if line:
            h = digest(line.encode("utf-8", "surrogatepass"))
            keys.append(h - (1 << 64) if h & _SIGN64 else h)
    return keys


def site_of(url: str | None, path: str = "") -> str:
    """The URL host (lower-cased, 'www.' stripped) or, without a URL, the input sub-folder."""
    if url:
        host = (urlsplit(url).hostname or "").lower()
        if host.startswith("www."):
            host = host[4:]
        if host:
            return host
    folder, _, _ = path.replace("\\", "/").rpartition("/")
    return folder


@dataclass(frozen=True)
class TemplateSnapshot:
    """Per site: (pages seen, {line key: pages carrying it}) for keys on >= 2 pages."""

    sites: Mapping[str, tuple[int, Mapping[int, int]]] = field(default_factory=dict)

    def site_pages(self, site: str) -> int:
        entry = self.sites.get(site)
        return entry[0] if entry else 0

    def line_pages(self, site: str, key: int) -> int:
        entry = self.sites.get(site)
        return entry[1].get(key, 0) if entry else 0

    @classmethod
    def from_counts(
        cls, *counts: Mapping[str, tuple[int, Mapping[int, int]]]
    ) -> TemplateSnapshot:
        """Sum several count tables (earlier runs' snapshot, this batch's pages) into one."""
        merged: dict[str, tuple[int, dict[int, int]]] = {}
        for table in counts:
            for site, (pages, keys) in table.items():
                old_pages, old_keys = merged.get(site, (0, {}))
                new_keys = dict(old_keys)
                for key, n in keys.items():
                    new_keys[key] = new_keys.get(key, 0) + n
                merged[site] = (old_pages + pages, new_keys)
        return cls(
            {s: (p, {k: n for k, n in ks.items() if n >= 2}) for s, (p, ks) in merged.items()}
        )

    @classmethod
    def from_pages(cls, pages: Iterable[tuple[str, Iterable[int]]]) -> TemplateSnapshot:
        """Count (site, line keys) pairs in memory, each distinct key once per page."""
        table: dict[str, tuple[int, dict[int, int]]] = {}
        for site, keys in pages:
            n, counts = table.get(site, (0, {}))
            for key in set(keys):
                counts[key] = counts.get(key, 0) + 1
            table[site] = (n + 1, counts)
        return cls.from_counts(table)


# Line counts live in levels (cleaner.state.levels): a chunk's ~7000 (site, line) upserts go to a
# small first table instead of random pages of one that grows by ~27 rows a page for ever (most
# article lines are seen once): at 250k pages that cost 0.25 ms a page of upserts and 0.17 of
# commit, and grew (benchmarks/README.md, "Template counts at scale").
_LINE_LEVELS = ("template_lines_0", "template_lines_1", "template_lines")
_LINE_LEVEL_ROWS = (250_000, 4_000_000)
_MERGE_LINES = (
    "INSERT INTO {dst}(site, key, pages) SELECT site, key, pages FROM {src} WHERE true ORDER BY site, key "
    "ON CONFLICT(site, key) DO UPDATE SET pages = pages + excluded.pages"
)


class TemplateStats:
    """SQLite-backed counts; the caller (the ledger) owns the connection and commits."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        try:
            conn.execute(
                "CREATE TABLE IF NOT EXISTS template_sites ("
                "site TEXT PRIMARY KEY, pages INTEGER NOT NULL) WITHOUT ROWID"
            )
            for table in _LINE_LEVELS:
                conn.execute(
                    f"CREATE TABLE IF NOT EXISTS {table} ("
                    "site TEXT NOT NULL, key INTEGER NOT NULL, pages INTEGER NOT NULL, "
                    "PRIMARY KEY (site, key)) WITHOUT ROWID"
                )
            conn.execute("CREATE TABLE IF NOT EXISTS template_meta(key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        except sqlite3.OperationalError:  # a read-only ledger of an older layout: read what it has
            if not (table_exists(conn, "template_sites") and table_exists(conn, "template_lines")):
                raise
        self.levels = Levels(conn, _LINE_LEVELS, _LINE_LEVEL_ROWS, "template_meta", _MERGE_LINES)

    def add_page(self, site: str, keys: Iterable[int]) -> None:
        self.add_pages([(site, keys)])

    def add_pages(self, pages: Iterable[tuple[str, Iterable[int]]]) -> None:
        """Count each distinct line once per page; one upsert per (site, line) per call, so a
        chunk's template lines (on every page of a site) cost one row write, not one per page."""
        sites: Counter[str] = Counter()
        lines: Counter[tuple[str, int]] = Counter()
        for site, keys in pages:
            sites[site] += 1
            lines.update((site, k) for k in set(keys))
        self.conn.executemany(
            "INSERT INTO template_sites(site, pages) VALUES (?, ?) "
            "ON CONFLICT(site) DO UPDATE SET pages = pages + excluded.pages",
            sorted(sites.items()),
        )
        # unsorted: the first level is small enough to stay in the page cache (merges write the
        # next one in key order), and sorting ~7000 (site, key) tuples a chunk cost more than
        # the order saved: 0.127-0.139 against 0.139-0.155 ms a page (20k simulated pages)
        self.conn.executemany(
            f"INSERT INTO {self.levels.first}(site, key, pages) VALUES (?, ?, ?) "
            "ON CONFLICT(site, key) DO UPDATE SET pages = pages + excluded.pages",
            [(site, key, n) for (site, key), n in lines.items()],
        )
        self.levels.added(len(lines))  # an upper bound: some of them were counts of lines it held

    def snapshot(self, sites: Iterable[str], keys: Mapping[str, Iterable[int]] | None = None) -> TemplateSnapshot:
        """Counts for these sites; with `keys`, only for those lines of each site (the lines of
        the documents about to be stripped), so a snapshot stays small however old the site is.
        A line's count is the sum over the levels; lines on fewer than 2 pages are left out."""
        out: dict[str, tuple[int, dict[int, int]]] = {}
        levels = self.levels.live()
        for site in set(sites):
            row = self.conn.execute(
                "SELECT pages FROM template_sites WHERE site = ?", (site,)
            ).fetchone()
            if row is None:
                continue
            found: dict[int, int] = {}
            if levels and keys is None:
                found.update(self.conn.execute(_summed(levels, ""), (site,) * len(levels)))
            elif levels:
                wanted = sorted(set(keys.get(site, ())))
                for i in range(0, len(wanted), 500):  # SQLite's bound parameters, 500 keys a query
                    part = wanted[i : i + 500]
                    where = f" AND key IN ({','.join('?' * len(part))})"
                    found.update(self.conn.execute(_summed(levels, where), (site, *part) * len(levels)))
            out[site] = (int(row[0]), found)
        return TemplateSnapshot(out)


def _summed(levels: list[str], where: str) -> str:
    """A site's lines on >= 2 pages, counts summed over the levels (one level: no summing)."""
    if len(levels) == 1:
        return f"SELECT key, pages FROM {levels[0]} WHERE site = ?{where} AND pages >= 2"
    union = " UNION ALL ".join(f"SELECT key, pages FROM {t} WHERE site = ?{where}" for t in levels)
    return f"SELECT key, sum(pages) FROM ({union}) GROUP BY key HAVING sum(pages) >= 2"


def line_counts_sql(conn: sqlite3.Connection) -> str:
    """A subquery of (site, key, pages) summed over the levels this ledger has (reports)."""
    tables = [t for t in _LINE_LEVELS if table_exists(conn, t)]
    union = " UNION ALL ".join(f"SELECT site, key, pages FROM {t}" for t in tables)
    return f"SELECT site, key, sum(pages) AS pages FROM ({union}) GROUP BY site, key"
