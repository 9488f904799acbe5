"""Template statistics: line fingerprints, SQLite counts, picklable snapshots."""

from __future__ import annotations

import pickle
import random
import sqlite3

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
