"""Template statistics: line fingerprints, SQLite counts, picklable snapshots."""

from __future__ import annotations

import pickle
import random
import sqlite3
from pathlib import Path

import pytest

import xxhash

from cleaner.state.templates import (
    TemplateSnapshot,
    TemplateStats,
    line_key,
    line_keys,
    normalise_line,
    site_of,
)


def test_line_keys_normalise_case_digits_and_spaces() -> None:
    keys = line_keys("Posted  on 12 March 2024\n\n   \nposted on 03 march 1999 ")
    assert len(keys) == 2 and keys[0] == keys[1]
    assert normalise_line("  Foo\t 42  BAR ") == "foo 00 bar"
    assert line_key("   ") is None


def _slow_key(line: str) -> int | None:
    norm = normalise_line(line)
    if not norm:
        return None
    h = xxhash.xxh3_64_intdigest(norm.encode("utf-8"))
    return h - (1 << 64) if h & (1 << 63) else h


def test_ascii_fast_path_is_the_normalised_key() -> None:
    """Printable ASCII lines take a byte-level fold; every line's key is still its
    normalised text's, and the whole-text `line_keys` agrees line by line."""
    rnd = random.Random(5)
    alphabet = "aZ09 .,-\t\x0b\x1c\x1f\x7fé٣İ"
    lines = ["", " ", "Posted on 12 March", "x  y", " lead", "trail ", "A\tB", "ends\x1f"]
    lines += ["".join(rnd.choice(alphabet) for _ in range(rnd.randrange(1, 12))) for _ in range(3000)]
    for line in lines:
        assert line_key(line) == _slow_key(line), repr(line)
    text = "\n".join(lines)
    assert line_keys(text) == [k for k in (line_key(x.strip()) for x in text.split("\n")) if k is not None]


def test_keys_fit_sqlite_integers() -> None:
    keys = line_keys("\n".join(f"line {chr(65 + i)}" for i in range(26)))
    assert all(-(1 << 63) <= k < (1 << 63) for k in keys)


def test_site_of_url_host_or_folder() -> None:
    assert site_of("https://WWW.Example.com/a/b?c=1") == "example.com"
    assert site_of("http://news.example.org:8080/x") == "news.example.org"
    assert site_of(None, "dailyai/000.txt") == "dailyai"
    assert site_of(None, "000.txt") == ""


def test_stats_count_each_key_once_per_page_and_do_not_commit() -> None:
    conn = sqlite3.connect(":memory:")
    stats = TemplateStats(conn)
    menu, other = line_key("Menu"), line_key("Other")
    assert menu is not None and other is not None
    stats.add_page("a.com", [menu, menu, other])
    stats.add_page("a.com", [menu])
    stats.add_page("b.com", [menu])
    assert conn.in_transaction  # the ledger commits, not us
    snap = stats.snapshot(["a.com", "b.com", "c.com"])
    assert snap.site_pages("a.com") == 2 and snap.line_pages("a.com", menu) == 2
    assert snap.line_pages("a.com", other) == 0  # seen on one page only: not in the snapshot
    assert snap.site_pages("b.com") == 1 and snap.line_pages("b.com", menu) == 0
    assert snap.site_pages("c.com") == 0
    TemplateStats(conn)  # re-opening keeps the tables
    assert stats.snapshot(["a.com"]).site_pages("a.com") == 2


def test_snapshot_from_counts_combines_runs_and_pickles() -> None:
    k = 12345
    earlier = {"a.com": (5, {k: 4})}
    batch = TemplateSnapshot.from_pages([("a.com", [k]), ("a.com", [k, 7]), ("b.com", [7])])
    combined = TemplateSnapshot.from_counts(earlier, batch.sites)
    assert combined.site_pages("a.com") == 7 and combined.line_pages("a.com", k) == 6
    assert combined.line_pages("a.com", 7) == 0
    again = pickle.loads(pickle.dumps(combined))
    assert again == combined


def _site_pages(seed: int, n: int) -> list[tuple[str, list[int]]]:
    """Pages of three sites: mostly lines of their own, some of a per-site template."""
    rnd = random.Random(seed)
    template = {s: [rnd.getrandbits(62) for _ in range(12)] for s in ("a.com", "b.com", "c.com")}
    return [(s, [rnd.getrandbits(62) for _ in range(8)] + rnd.sample(template[s], 5))
            for s in (rnd.choice(sorted(template)) for _ in range(n))]


def test_counts_are_the_same_whatever_the_level_sizes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tiny levels merge at nearly every call: the counts read back are the sums all the same."""
    import cleaner.state.templates as t

    pages = _site_pages(5, 300)
    snaps = []
    for caps in (t._LINE_LEVEL_ROWS, (40, 300)):
        monkeypatch.setattr(t, "_LINE_LEVEL_ROWS", caps)
        conn = sqlite3.connect(":memory:")
        stats = TemplateStats(conn)
        for i in range(0, len(pages), 7):
            stats.add_pages(pages[i : i + 7])
        keys = {s: [k for site, ks in pages if site == s for k in ks] for s in ("a.com", "b.com", "c.com")}
        snaps.append((stats.snapshot(keys, keys), stats.snapshot(keys)))
        rows = {tb: conn.execute(f"SELECT count(*) FROM {tb}").fetchone()[0] for tb in t._LINE_LEVELS}
        if caps != t._LINE_LEVEL_ROWS:
            assert rows["template_lines"] > 0 and rows["template_lines_0"] <= 40  # merged on
        conn.close()
    assert snaps[0] == snaps[1]
    assert snaps[0][0] == snaps[0][1]  # restricted to every key == the whole site
    assert max(n for _, (_, counts) in snaps[0][0].sites.items() for n in counts.values()) > 50


def test_a_read_only_ledger_of_the_older_layout_is_read(tmp_path: Path) -> None:
    """Before levels, counts lived in template_lines alone: `cleaner explain` opens such a ledger
    read-only and must still read them (it cannot create the level tables)."""
    db = tmp_path / "ledger.sqlite"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE template_sites (site TEXT PRIMARY KEY, pages INTEGER NOT NULL) WITHOUT ROWID")
        conn.execute("CREATE TABLE template_lines (site TEXT NOT NULL, key INTEGER NOT NULL, "
                     "pages INTEGER NOT NULL, PRIMARY KEY (site, key)) WITHOUT ROWID")
        conn.execute("INSERT INTO template_sites VALUES ('a.com', 4)")
        conn.executemany("INSERT INTO template_lines VALUES ('a.com', ?, ?)", [(1, 3), (2, 1)])
    ro = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    snap = TemplateStats(ro).snapshot(["a.com"])
    assert snap.site_pages("a.com") == 4 and snap.line_pages("a.com", 1) == 3 and snap.line_pages("a.com", 2) == 0
    ro.close()
