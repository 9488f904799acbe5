"""Persistent dedup index (parent process): exact hashes, LSH bands, sketches; the decision.

Tables live in the ledger's SQLite connection and are never committed here: the ledger
commits once the outputs they describe are durable, so a crash rolls the index back with them.

Decision for a document Q against everything indexed (earlier runs unless scope="run", and
this run so far); only kept documents are indexed, so a duplicate is always the duplicate of
a kept document it matches directly (no transitive chains):

1. exact: same normalised token sequence (xxh3_128, of which the index keeps 8 bytes, and the
   same number of distinct shingles) -> method "exact", similarity 1.0. For a
   document with less than `min_content` content shingles (about one long line: a header, a
   disclosure, a few teaser lines that strip left after removing a short body) the hash also
   covers the text before cleaning (cleaner.stages.dedup): such a remnant says nothing about
   which page it came from, so only the same input is the same page.
1b. near, short (fewer than `min_content` content shingles, at least `min_shingles` shingles,
   and a sample of the input text before strip, `short_sketch` values): only against another
   short document, when both the cleaned texts and the input texts are copies both ways
   (containment of the smaller and coverage of the larger >= `threshold`, on the cleaned
   sketches and on the input samples): a strip that cut two copies alike. Or when the cleaned
   texts are the same text of two lines or more (the same shingles, every one in both
   sketches): a product box or a list of two items under two sites' templates. It is the one
   line a remnant often is (a header, a disclosure) that many pages share. Short documents have
   band rows too (the cleaned MinHash); a long document never matches a short one.
2. near (documents with at least `min_shingles` shingles and `min_content` content shingles):
   candidates share at least one LSH band (bands x rows over the MinHash) or the head key
   (where the text proper starts: how a truncated copy with few bands in common is found);
   a key lists at most `_BAND_CAP` documents, the earliest, so a key that many kept pages
   share cannot make every lookup slower as the archive grows; each is verified on
   the bottom-k sketches (restricted to the smaller of the two thresholds, which makes both
   samples consistent): S = the document with fewer shingles, L = the other.
   - containment = |content shingles of S found in L| / |content shingles of S| >= `threshold`.
     Containment of the *smaller* text covers truncated copies (a teaser is contained in the
     full article) and copies wrapped in another site's header/footer; counting only content
     shingles (long lines) keeps two short bodies in one long site template apart.
   - coverage = shared share of L's *own* content shingles (L's content flags, on L's sample)
     >= `coverage`: the shared text must be a real part of the larger page too, not one
     paragraph many pages carry, nor teaser lines that are content only in a remnant of them.
   - S shorter than `short_content` content shingles (a paragraph or two) must match both ways:
     coverage (of L's content, or of all of L's shingles) >= `threshold`, like two copies of one
     short text. A short text contained in a longer one is more often a shared block than a copy.
   - anchored instead: when S and L start alike (`same_start` on the fingerprints' heads: the
     first shingles of the first sentence-long line), `anchored_coverage` of L (content or all
     shingles) is enough: S is L's beginning, a truncated copy, not a block L carries elsewhere.
   - at least `_MIN_EVIDENCE` sampled shingles of S (fewer: undecidable, kept).
   - S list-shaped (content lines hold under half of its shingles: a meal plan, a schedule, a
     spec sheet, whose items are short lines): containment over all its shingles must reach
     `_LIST_CONTAINMENT` too. Two parts of one plan share its few long lines, not its items.
     And where S's short lines are a fifth of it or more, `_SHORT_LINES_FOUND` of those sampled
     must be in L (parts of one series that share intro and closing, not their items).
   Best verified candidate wins: highest containment, then the earliest indexed.
3. opening (when nothing above matched): Q is a copy of the beginning of a larger document L
   (a teaser, a feed item cut after a paragraph or two, however long L is) when Q starts like
   L (`same_start`), is not one short line (two lines, or `PREFIX_SIZE` shingles: one sentence
   can start many texts), and `_begins`: what the sketches can judge of Q is in L
   (`_OPENING_CONTAINMENT`), on `_MIN_EVIDENCE` sampled shingles or, where L is too long for its
   sample to hold that many of Q's, on the heads: Q's first paragraphs start as L's do (the
   head samples the start of each of the first sentence-long lines, `PREFIX_SIZE` shingles), so
   a text that shares only L's lead paragraph is not one. No coverage of L is asked. Only when
   exactly one kept document qualifies: a text that begins two different kept articles (a
   site's opening lines, a stock interview question) cannot say which one it copies, and is
   kept. Q may be short (rule 1b's kind) and L long, never the other way round: an article is
   not lost to an earlier teaser of it (with keep="first" both are then kept). The list checks
   of rule 2 apply (a series part is not the beginning of another part).

Guarantees: the same sequence of check/add calls gives the same decisions, whether it runs in
one session or several over the same SQLite file (band rows buffered or flushed, candidates
are ordered by a total key) and in any process (fingerprints are process-independent). The
first-arriving copy is the one kept, unless it is itself a duplicate of something earlier.
A *different* arrival order keeps other copies; since near matching is not transitive, the
number of survivors may then differ slightly (dev set, 3 shuffles: precision 0.979-0.985,
recall 0.960-0.966, lost clusters 9-11, vs 0.983 / 0.965 / 11 in corpus order).

Why these rules and parameters: every rule, threshold and the bands x rows choice was measured
on the labelled dev set, and the index's storage and speed at 10k-1M documents; the tables
(precision / recall / lost clusters per rule added, the LSH trade-off, bytes per document, lookup
and add costs at scale) are in benchmarks/README.md, "Dedup: how the rules were chosen". In
short: 36 bands x 3 rows over a 108-value MinHash finds truncated and wrapped copies (Jaccard
0.2-0.4, containment ~1) and keeps the index under 1 KB per document (860 B on 5 KB documents,
since band keys take 4 bytes and exact hashes 8);
band rows live in levels (`_LEVELS`) so that adding stays cheap at millions of documents, and
the big levels have key filters (cached beside the ledger, `LevelFilters`) so that a lookup
does not probe them for keys they lack (a 300k-document index: check p50 ~320-420 -> ~95-120 us).
"""

from __future__ import annotations

import re
import sqlite3
from bisect import bisect_right
from collections import defaultdict
from dataclasses import dataclass

import numpy as np

from cleaner.config import DedupConfig
from cleaner.errors import UsageError
from cleaner.stages.dedup import FIRST_LINE_SIZE, HEAD_SIZE, PREFIX_SIZE, SCHEME, Fingerprint, head_keys, lookup_keys
from cleaner.state.keyfilter import LevelFilters
from cleaner.observe import LOG
from cleaner.state.levels import Levels, table_exists, table_has_rows

_MIN_EVIDENCE = 8  # sampled shingles of the smaller document needed to call a near duplicate
_OPENING_CONTAINMENT = 0.8  # of a smaller text's sampled shingles (or head) found in the larger one it begins (rule 3)
_LIST_CONTAINMENT = 0.7  # of all shingles of a list-shaped smaller text (content lines under half of them), rules 2 and 3
# rules 2 and 3: where a smaller text's short lines are a fifth of it or more (and
# _SHORT_LINES_MIN shingles), at least _SHORT_LINES_FOUND of those its sketch samples
# (_SHORT_LINES_SAMPLED or more) must be in the other
_SHORT_LINES_SHARE, _SHORT_LINES_MIN, _SHORT_LINES_FOUND, _SHORT_LINES_SAMPLED = 0.2, 16, 0.2, 4
_MAX_CANDIDATES = 64  # verified per query, most shared bands first (caps template-heavy sites)
# Kept documents a band key lists at most. Kept documents that share a band are *not* copies of
# each other (the later one was checked against the earlier); a key many of them share (pages of
# one site carrying the same long block) is no evidence, yet every query that hits it would read
# all of them, and such a bucket grows with the archive. A document added when its key is full
# is listed under its other keys only. Reads are then bounded: (bands + 1) x _BAND_CAP rows a query.
_BAND_CAP = 64
_FLUSH_ROWS = 100_000  # buffered band rows before they are written
# Band rows live in levels (cleaner.state.levels): flushes go to the first, small table; a level
# that outgrows its size is merged, in key order, into the next, 16x larger one; the last
# (`dedup_bands`) is unbounded. Rows are rewritten about once per level instead of one random
# B-tree page per row per checkpoint (at 1M documents the single table cost 1.3 ms of
# flush+commit per document; see the measurements above).
_LEVELS = ("dedup_bands_0", "dedup_bands_1", "dedup_bands")
_LEVEL_ROWS = (500_000, 8_000_000)  # rows a level may hold before it is merged on (level 0 fits the page cache)
# Big levels have a key filter (cleaner.state.keyfilter.LevelFilters, cached beside the ledger):
# most of a query's keys are absent there and are not probed. The last level has one from its
# first rows on (~220k documents), the middle one from _FILTER_MIN_ROWS on; the first stays in the
# page cache, where a probe is cheap.
_FILTER_MIN_ROWS = 2_000_000
# The exact hash as indexed: its first 8 bytes. Two texts the index calls the same must also have
# as many distinct shingles; a chance match of both among 10M documents: ~3e-6 for the hash alone.
_EXACT_BYTES = 8
_NARROWED_FROM = "cleaner-dedup-4"  # the scheme `_narrow` migrates: 16-byte exact hashes, 48-bit band keys
_HEADLESS = "cleaner-dedup-5"  # the scheme `_add_head_keys` migrates: band keys only, no head keys
_HEX_ID = re.compile(r"[0-9a-f]{32}")
_FULL = 1 << 31  # sketch threshold of a document whose every shingle is in its sketch


@dataclass(frozen=True, slots=True)
class Match:
    """Why a document is a duplicate: of which kept document, how, how similar."""

    duplicate_of: str
    method: str  # "exact" | "near"
    similarity: float  # 1.0 for exact; estimated containment for near
    note: str = ""  # e.g. "containment 0.93 of 61 sampled shingles, jaccard 0.71"


@dataclass(frozen=True, slots=True)
class Similarity:
    containment: float  # content shingles of the smaller document found in the other
    jaccard: float  # all shingles, both documents
    evidence: int  # sampled content shingles of the smaller document the estimate rests on
    coverage: float = 1.0  # shared content shingles / content shingles of the larger document
    coverage_all: float = 1.0  # shared shingles / all shingles of the larger document
    contained_all: float = 1.0  # shared shingles / all shingles of the smaller document
    short_found: float = 1.0  # sampled shingles of the smaller document's short lines found in the other
    short_sampled: int = 0  # how many of them were sampled


def scheme(cfg: DedupConfig) -> str:
    """Everything that changes stored values; an index built under another scheme is refused."""
    return (
        f"{SCHEME} perm={cfg.num_perm} bands={cfg.bands}x{cfg.rows} words={cfg.shingle_words} "
        f"chars={cfg.shingle_chars} sketch={cfg.sketch_size} "
        f"content={cfg.content_ratio}/{cfg.content_tokens} min_content={cfg.min_content} short={cfg.short_sketch}"
    )


def similarity(a: np.ndarray, n_a: int, b: np.ndarray, n_b: int, c_a: int = 0, c_b: int = 0) -> Similarity:
    """Estimate containment of the smaller document's content in the other, and Jaccard.

    `a`, `b` are sketches (sorted uint32: 31-bit hash << 1 | content flag) of documents with
    n_a, n_b distinct shingles. A sketch holding fewer values than its document has shingles is
    a bottom-k sample below its largest hash; restricting both to the smaller of the two
    thresholds gives two consistent samples (every hash below it is in both or flagged absent).
    c_a, c_b are their content shingle counts (0: unknown, coverage is then reported as 1.0).
    """
    sa, sb, swapped = _samples(a.tolist(), n_a, b.tolist(), n_b)
    if swapped:
        c_a, c_b = c_b, c_a
    hb = {v >> 1 for v in sb}
    inter = [v >> 1 in hb for v in sa]
    shared_n = sum(inter)
    union = len(sa) + len(sb) - shared_n
    jaccard = float(shared_n) / union if union else 0.0
    content = [v & 1 == 1 for v in sa]
    if not any(content):
        content = [True] * len(sa)
    evidence = sum(content)
    found = sum(i and c for i, c in zip(inter, content))
    contained = float(found) / evidence if evidence else 0.0
    coverage = _coverage(sa, sb, c_a, c_b, contained)
    n_small, n_large = min(n_a, n_b), max(n_a, n_b)
    shared = jaccard * (n_small + n_large) / (1.0 + jaccard)  # |S & L| from the Jaccard estimate
    short = len(sa) - evidence
    return Similarity(contained, jaccard, evidence, coverage, min(1.0, shared / n_large) if n_large else 0.0,
                      min(1.0, shared / n_small) if n_small else 0.0,
                      float(shared_n - found) / short if short else 1.0, short)


def containment(a: list[int], n_a: int, b: list[int], n_b: int) -> tuple[float, int]:
    """`similarity(...).containment` and `.evidence` alone (the same values), at a third of its
    cost: both verification rules ask for them first, and most candidates fail there.
    `a`, `b`: the sketches as lists."""
    sa, sb, _ = _samples(a, n_a, b, n_b)
    hb = {v >> 1 for v in sb}
    content = [v for v in sa if v & 1] or sa
    if not content:
        return 0.0, 0
    return float(sum(v >> 1 in hb for v in content)) / len(content), len(content)


def _samples(la: list[int], n_a: int, lb: list[int], n_b: int) -> tuple[list[int], list[int], bool]:
    """Both sketches restricted to the smaller of their two thresholds (consistent samples),
    the smaller document's first; True when that is `lb`'s. Sketches are plain lists: at
    <= 64 values, plain ints beat numpy's per-call cost."""
    tau_a = la[-1] >> 1 if len(la) < n_a else _FULL
    tau_b = lb[-1] >> 1 if len(lb) < n_b else _FULL
    cut = 2 * min(tau_a, tau_b) + 1  # hash <= tau  <=>  value <= 2 tau + 1 (values are sorted)
    sa, sb = la[: bisect_right(la, cut)], lb[: bisect_right(lb, cut)]
    if (n_a, len(sa)) > (n_b, len(sb)):
        return sb, sa, True
    return sa, sb, False


def _coverage(sa: list[int], sb: list[int], c_a: int, c_b: int, contained: float) -> float:
    """Share of the larger document's *own* content that the smaller one shares, on its sample.

    The larger document's content flags decide: teaser lines that are content in a short
    remnant (no longer line there) but side lines of the larger page do not cover that page's
    body. Falls back to scaling the containment when the sample holds no content shingle.
    """
    if not (c_a and c_b):
        return 1.0
    own = [v >> 1 for v in sb if v & 1]
    if not own:
        return min(1.0, contained * c_a / c_b)
    ha = {v >> 1 for v in sa}
    return float(sum(h in ha for h in own)) / len(own)


Row = tuple[int, str | bytes, int, int, int, bytes, bytes, bytes, int]
# id, doc_id as stored (`_packed`), run, shingles, content, sketch, head, source sketch, source shingles


def row_of(row: int, doc_id: str, run: int, fp: Fingerprint) -> Row:
    """A candidate row as the index stores it (the band shuffle builds rows of unindexed documents)."""
    return (
        row, _packed(doc_id), run, fp.shingles, fp.content, fp.sketch.astype(np.uint32).tobytes(),
        fp.head.astype(np.uint16).tobytes(), fp.source.astype(np.uint32).tobytes(), fp.source_shingles,
    )


def exact_twins(a: Fingerprint, b: Fingerprint) -> bool:
    """What the index's exact lookup calls the same text (`DedupIndex.check`): the indexed bytes
    of the exact hash and the number of distinct shingles."""
    return a.exact[:_EXACT_BYTES] == b.exact[:_EXACT_BYTES] and a.shingles == b.shingles


def same_start(a: np.ndarray, b: np.ndarray) -> bool:
    """Two texts start alike: at least half of their anchors (the first HEAD_SIZE head
    shingles) agree (a few edited words near the start still anchor; an empty head never
    does), or one's anchor lies whole in the other's first-line sample (FIRST_LINE_SIZE head
    values): a short heading that one copy joins to its first paragraph moves where that
    copy's first sentence-long line starts by a few words."""
    x, y = a[:HEAD_SIZE].tolist(), b[:HEAD_SIZE].tolist()
    if not (x and y):
        return False
    other = set(y)  # a few values: a set beats numpy's per-call overhead
    if 2 * sum(v in other for v in x) >= max(len(x), len(y)):
        return True
    return set(x) <= set(b[:FIRST_LINE_SIZE].tolist()) or other <= set(a[:FIRST_LINE_SIZE].tolist())


class DedupIndex:
    """Exact and near-duplicate index over kept documents; one instance per run session.

    `run_id` tags what this session adds; with cfg.scope == "run" only entries of the same
    run_id are matched. Deterministic: the same sequence of check/add calls gives the same
    decisions (the pipeline orders a run's documents by a stable key first; for keep="longest"
    the whole run by `cleaner.stages.dedup.order_key`, see `cleaner.longest_first`).
    """

    def __init__(self, conn: sqlite3.Connection, cfg: DedupConfig, run_id: int = 0) -> None:
        if cfg.bands * cfg.rows > cfg.num_perm:
            raise UsageError(f"dedup.bands x dedup.rows ({cfg.bands} x {cfg.rows}) exceeds dedup.num_perm ({cfg.num_perm})")
        self.conn = conn
        self.cfg = cfg
        self.run_id = run_id
        self._pending: dict[int, list[int]] = defaultdict(list)  # band key -> doc rows, unwritten
        self._pending_keys: list[np.ndarray] = []  # the same rows as arrays, for a numpy sort at flush
        self._pending_docs: list[int] = []  # their doc rows ...
        self._pending_lists: list[int] = []  # ... and how many keys list each (`_BAND_CAP`)
        self._pending_rows = 0
        self._counted: tuple[Fingerprint, dict[int, int]] | None = None  # `_candidates`' last per-key counts
        self._filters = LevelFilters(conn, "dedup_meta")  # big levels' key filters
        self._create()

    def _create(self) -> None:
        c = self.conn
        c.execute("CREATE TABLE IF NOT EXISTS dedup_meta(key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        want = scheme(self.cfg)
        row = c.execute("SELECT value FROM dedup_meta WHERE key = 'scheme'").fetchone()
        older = None  # an older scheme of the same settings, migrated in place below
        if row is not None and row[0] != want and table_has_rows(c, "dedup_docs"):
            older = next((old for old in (_NARROWED_FROM, _HEADLESS) if row[0] == want.replace(SCHEME, old, 1)), None)
        if older == _NARROWED_FROM:
            self._narrow()
        elif row is not None and row[0] != want and older is None:
            if table_has_rows(c, "dedup_docs"):
                raise UsageError(
                    f"dedup settings changed: the index was built with [{row[0]}], the config asks for "
                    f"[{want}]; restore the settings or start a new state folder"
                )
            c.execute("DROP TABLE IF EXISTS dedup_docs")  # empty: its layout may be an older one
            for table in _LEVELS:
                c.execute(f"DROP TABLE IF EXISTS {table}")
            c.execute("DELETE FROM dedup_meta WHERE key LIKE 'rows:%'")
        if row is None or row[0] != want:  # no write (no open transaction) when nothing changes
            c.execute("INSERT OR REPLACE INTO dedup_meta(key, value) VALUES('scheme', ?)", (want,))
        c.execute(
            "CREATE TABLE IF NOT EXISTS dedup_docs(id INTEGER PRIMARY KEY, doc_id TEXT NOT NULL UNIQUE,"
            " run INTEGER NOT NULL, exact BLOB NOT NULL, shingles INTEGER NOT NULL, content INTEGER NOT NULL,"
            " length INTEGER NOT NULL, sketch BLOB NOT NULL, head BLOB NOT NULL, source BLOB NOT NULL,"
            " source_shingles INTEGER NOT NULL)"
        )
        c.execute("CREATE INDEX IF NOT EXISTS dedup_docs_exact ON dedup_docs(exact)")
        for table in _LEVELS:
            c.execute(
                f"CREATE TABLE IF NOT EXISTS {table}(key INTEGER NOT NULL, doc INTEGER NOT NULL,"
                " PRIMARY KEY(key, doc)) WITHOUT ROWID"
            )
        self._levels = Levels(c, _LEVELS, _LEVEL_ROWS, "dedup_meta",
                              "INSERT OR IGNORE INTO {dst}(key, doc) SELECT key, doc FROM {src} ORDER BY key, doc",
                              on_merge=self._merging)
        for level in _LEVELS[1:]:
            if self._wants_filter(level, 0):
                self._filters.open(level)
        if older is not None:
            self._add_head_keys()

    def _narrow(self) -> None:
        """An index of scheme 4, the same settings: its stored values cut to scheme 5's, which
        are their prefixes (exact hashes: the first 8 of 16 bytes; band keys: the top 31 of 48
        bits), so the index is what scheme 5 would have built, without the texts. In the
        caller's transaction, like everything here."""
        c = self.conn
        LOG.info("dedup index: narrowing exact hashes and band keys to scheme %s (once)", SCHEME,
                 extra={"event": "dedup-migrate", "scheme": SCHEME})
        c.execute(f"UPDATE dedup_docs SET exact = substr(exact, 1, {_EXACT_BYTES})")
        for table in _LEVELS:
            if not table_exists(c, table):
                continue
            c.execute(f"CREATE TABLE {table}_narrow(key INTEGER NOT NULL, doc INTEGER NOT NULL,"
                      " PRIMARY KEY(key, doc)) WITHOUT ROWID")
            c.execute(f"INSERT OR IGNORE INTO {table}_narrow(key, doc) SELECT key >> 17, doc FROM {table} ORDER BY 1, 2")
            c.execute(f"DROP TABLE {table}")
            c.execute(f"ALTER TABLE {table}_narrow RENAME TO {table}")
            self._filters.invalidate(table)

    def _add_head_keys(self) -> None:
        """An index without head keys (scheme 5): every near-eligible document listed under its
        head key too, computed from its stored head, the earliest `_BAND_CAP` a key, so the
        index is what this scheme would have built. A batch at a time through a temporary
        table (memory stays flat at millions of documents). In the caller's transaction."""
        c = self.conn
        LOG.info("dedup index: adding head keys for scheme %s (once)", SCHEME,
                 extra={"event": "dedup-migrate", "scheme": SCHEME})
        c.execute("CREATE TEMP TABLE head_rows(key INTEGER NOT NULL, doc INTEGER NOT NULL)")
        docs = c.execute("SELECT id, head, shingles, content, source_shingles FROM dedup_docs ORDER BY id")
        while batch := docs.fetchmany(50_000):
            listed = [(doc, head) for doc, head, *counts in batch if self._eligible(*counts)]
            keys = head_keys([head for _, head in listed]).tolist()
            c.executemany("INSERT INTO temp.head_rows(key, doc) VALUES(?, ?)", zip(keys, (doc for doc, _ in listed)))
        cur = c.execute(
            f"INSERT OR IGNORE INTO {self._levels.first}(key, doc) SELECT key, doc FROM (SELECT key, doc,"
            " row_number() OVER (PARTITION BY key ORDER BY doc) AS n FROM temp.head_rows) WHERE n <= ?"
            " ORDER BY key, doc",
            (_BAND_CAP,),
        )
        self._levels.added(cur.rowcount)
        c.execute("DROP TABLE temp.head_rows")

    def _scoped(self, run: int) -> bool:
        return self.cfg.scope != "run" or run == self.run_id

    def check(self, doc_id: str, fp: Fingerprint) -> Match | None:
        """The kept document `fp` duplicates, or None; never the document itself (by doc_id)."""
        if fp.shingles == 0:  # no words at all: nothing to compare
            return None
        for _, stored, run, shingles in self.conn.execute(
            "SELECT id, doc_id, run, shingles FROM dedup_docs WHERE exact = ? ORDER BY id", (fp.exact[:_EXACT_BYTES],)
        ):
            other = _unpacked(stored)
            if other != doc_id and self._scoped(run) and shingles == fp.shingles:
                return Match(other, "exact", 1.0, "same words in the same order")
        if not self._near_eligible(fp):
            return None
        return self.best_match(doc_id, fp, self._candidates(fp))

    def best_match(self, doc_id: str, fp: Fingerprint, rows: list[Row]) -> Match | None:
        """Verify candidate rows (`Row`): the highest containment wins, ties go to the earliest
        indexed row. Shared with the Ray engine's
        band shuffle, which brings candidates of its own chunk (`row_of`)."""
        best: tuple[float, int, str | bytes, Similarity, str] | None = None
        short = fp.source_shingles > 0
        may_begin = fp.lines >= 2 or fp.shingles >= PREFIX_SIZE  # rule 3: not one short line (one sentence)
        openings: list[tuple[int, str | bytes, Similarity, str]] = []
        sketch = fp.sketch.tolist()
        me = _packed(doc_id)
        shared = _shared_counts(fp.sketch, [r[5] for r in rows])
        for (row, other, run, shingles, content, blob, head, src, src_shingles), common in zip(rows, shared):
            if other == me or not self._scoped(run) or (src_shingles > 0 and not short):
                continue  # a long document never matches a short one
            theirs = np.frombuffer(blob, dtype=np.uint32)
            their_head = np.frombuffer(head, dtype=np.uint16)
            smaller = min(fp.shingles, shingles)
            sim: Similarity | None = None
            anchored: bool | None = None  # same_start, asked once: rules 2 and 3 both read it
            if short == (src_shingles > 0) and self._may_match(common, smaller):  # rules 2 and 1b
                contained, evidence = containment(sketch, fp.shingles, theirs.tolist(), shingles)
                if contained >= self.cfg.threshold and evidence >= min(_MIN_EVIDENCE, smaller):
                    sim = similarity(fp.sketch, fp.shingles, theirs, shingles, fp.content, content)
                    anchored = same_start(fp.head, their_head)
                    why = self._verified_pair(fp, sim, shingles, theirs.size, content, src, src_shingles, anchored)
                    if why is not None:
                        if best is None or (-sim.containment, row) < (-best[0], best[1]):
                            best = (sim.containment, row, other, sim, why)
                        continue
            if not (may_begin and fp.shingles < shingles):
                continue
            if anchored is None:
                anchored = same_start(fp.head, their_head)
            if anchored:  # rule 3
                sim = sim or similarity(fp.sketch, fp.shingles, theirs, shingles, fp.content, content)
                if _list_unlike(sim, fp.shingles, fp.content):
                    continue
                how = self._begins(fp.head, their_head, sim, smaller)
                if how is not None:
                    openings.append((row, other, sim, how))
        if best is None and len(openings) == 1:  # two or more: which one it begins is unknown
            row, other, sim, how = openings[0]
            best = (sim.containment, row, other, sim, f"; the beginning of the one kept text that starts alike{how}")
        if best is None:
            return None
        sim = best[3]
        note = (
            f"containment {sim.containment:.2f} of {sim.evidence} sampled shingles, "
            f"coverage {sim.coverage:.2f}, jaccard {sim.jaccard:.2f}{best[4]}"
        )
        return Match(_unpacked(best[2]), "near", round(sim.containment, 4), note)

    def _verified_pair(
        self, fp: Fingerprint, sim: Similarity, shingles: int, sketch_size: int, content: int,
        src: bytes, src_shingles: int, anchored: bool,
    ) -> str | None:
        """Rules 1b and 2 for `fp` and a stored document of the same kind (both short or both
        not) whose estimate `sim` passed containment and evidence: None, or the note's why."""
        smaller = min(fp.shingles, shingles)
        if fp.source_shingles > 0:
            if fp.lines >= 2 and fp.shingles == shingles == fp.sketch.size == sketch_size and sim.jaccard == 1.0:
                return "; both short, the same text of several lines"
            before = similarity(fp.source, fp.source_shingles, np.frombuffer(src, dtype=np.uint32), src_shingles)
            return "; both short, their inputs copies too" if self._verified_short(sim, before, smaller) else None
        smaller_content = fp.content if (fp.shingles, fp.sketch.size) <= (shingles, sketch_size) else content
        return self._verified(sim, smaller, smaller_content, anchored)

    @staticmethod
    def _begins(head: np.ndarray, their_head: np.ndarray, sim: Similarity, smaller: int) -> str | None:
        """Rule 3's evidence that a smaller text that starts like a larger one is its beginning:
        None (not enough), "" (the samples), or what the note adds when the heads decided.

        What the sketches can judge of the smaller text must be in the larger one
        (`_OPENING_CONTAINMENT`), on at least `_MIN_EVIDENCE` sampled shingles. Where the larger
        text is too long for its sample to hold that many of the smaller one's (a teaser of a
        long article), the smaller one's head must be in the larger one's instead: its first
        paragraphs start as the larger one's do (`stages.dedup._head`), which a lead paragraph
        that two different stories share is not enough for; and a smaller text of more than
        twice PREFIX_SIZE shingles must still have two sampled shingles, both found. Heads
        stored before they held the paragraph starts (HEAD_SIZE values) cannot tell.
        """
        if sim.evidence and sim.containment < _OPENING_CONTAINMENT:
            return None
        if sim.evidence >= min(_MIN_EVIDENCE, smaller):
            return ""
        if their_head.size <= HEAD_SIZE or head.size < _MIN_EVIDENCE:
            return None
        if smaller > 2 * PREFIX_SIZE and sim.evidence < 2:
            return None
        theirs = set(their_head.tolist())
        found = sum(v in theirs for v in head.tolist())
        if found < _OPENING_CONTAINMENT * head.size:
            return None
        return f" (the other too long for its sample to tell; {found} of the {head.size} shingles that start this text's paragraphs start the other's)"

    def _may_match(self, shared: int, smaller: int) -> bool:
        """A necessary condition of `_verified` and `_verified_short`, at a tenth of the cost of
        `similarity`: both need containment >= threshold on at least min(_MIN_EVIDENCE, smaller)
        sampled shingles, so at least threshold x that many hashes `shared` by the two whole
        sketches (`_shared_counts`). Most LSH candidates (one band of 36 in common) share far
        fewer: 86% are dropped here."""
        return shared >= self.cfg.threshold * min(_MIN_EVIDENCE, smaller)

    def _near_eligible(self, fp: Fingerprint) -> bool:
        return self._eligible(fp.shingles, fp.content, fp.source_shingles)

    def _eligible(self, shingles: int, content: int, source_shingles: int) -> bool:
        """Has lookup-key rows and near matches: enough text and content, or a short document
        with a sample of its input text (matched only to other short ones, `_verified_short`).
        Else too little text to tell a copy from a shared header: exact only. (`_near_eligible`
        for a fingerprint; the head-key migration asks it of stored rows.)"""
        return shingles >= self.cfg.min_shingles and (content >= self.cfg.min_content or source_shingles > 0)

    def _verified_short(self, sim: Similarity, before: Similarity, smaller: int) -> bool:
        """Two short documents are copies when their cleaned texts AND their input texts (before
        strip) are copies of each other both ways: the remnant alone (a header, a disclosure
        line) is shared by different pages, whose inputs then differ. Containment of the smaller
        input only is not enough: inputs of one site share its template, and on a small sample
        that reads as containment (a shuffled dev order merged a hard cluster that way)."""
        t = self.cfg.threshold
        if sim.evidence < min(_MIN_EVIDENCE, smaller) or before.evidence < _MIN_EVIDENCE:
            return False
        return min(sim.containment, max(sim.coverage, sim.coverage_all), before.containment, before.coverage_all) >= t

    def _verified(self, sim: Similarity, smaller: int, smaller_content: int, anchored: bool = False) -> str | None:
        """A near duplicate: the smaller document's content is (mostly) in the other, that shared
        content is a real part of the larger one too, and the estimate rests on enough samples.
        Returns None (not one), "" or, where only the shared start made it one, why (for the note).

        A short smaller document (under `short_content` content shingles: a paragraph or two)
        must match both ways, like two copies of one short text: one long line or a few teaser
        lines that many pages of a site carry are contained in all of them, but explain only a
        part of each. Unless both texts start alike (`anchored`): a text contained in another
        that also begins where the other begins is its beginning (a truncated copy), and then
        `anchored_coverage` of the larger one's content is enough.
        """
        cfg = self.cfg
        if sim.evidence < min(_MIN_EVIDENCE, smaller) or sim.containment < cfg.threshold:
            return None
        if _list_unlike(sim, smaller, smaller_content):
            return None
        short = smaller_content < cfg.short_content
        cover = max(cfg.coverage, cfg.threshold) if short else cfg.coverage
        if max(sim.coverage, sim.coverage_all if short else 0.0) >= cover:
            return ""
        if anchored and max(sim.coverage, sim.coverage_all) >= cfg.anchored_coverage:
            return "; both start alike: the smaller is the other's beginning"
        return None

    def lookup_keys_of(self, fp: Fingerprint) -> np.ndarray:
        """The keys `fp` is listed and looked up under (`lookup_keys`: its LSH band keys and its
        head key): the worker's (`fingerprint_text` computes them), else here."""
        if fp.bands.size == self.cfg.bands + 1:
            return fp.bands
        return lookup_keys(fp.minhash, fp.head, self.cfg)

    def _candidates(self, fp: Fingerprint) -> list[Row]:
        """Rows of the documents sharing a band key with `fp`, most shared keys first (at most
        `_MAX_CANDIDATES`), ordered by row. Counts each key's documents on the way (`key_counts`)."""
        arr = self.lookup_keys_of(fp)
        keys = arr.tolist()
        hits: dict[int, int] = defaultdict(int)
        per_key: dict[int, int] = defaultdict(int)
        parts: list[str] = []
        args: list[int] = []
        for t in self._levels.live():  # empty levels are not asked, nor a filtered level for keys it lacks
            filt = self._filters.get(t)
            asked = keys if filt is None else arr[filt.may_hold(arr)].tolist()
            if asked:
                parts.append(f"SELECT key, doc FROM {t} WHERE key IN ({','.join('?' * len(asked))})")
                args += asked
        for key, doc in self.conn.execute(" UNION ALL ".join(parts), args) if parts else ():
            hits[doc] += 1
            per_key[key] += 1
        if self._pending:
            for k in keys:
                for doc in self._pending.get(k, ()):
                    hits[doc] += 1
            for k in set(keys):
                if k in self._pending:
                    per_key[k] += len(self._pending[k])
        self._counted = (fp, per_key)
        if not hits:
            return []
        top = sorted(hits, key=lambda d: (-hits[d], d))[:_MAX_CANDIDATES]
        marks = ",".join("?" * len(top))
        rows = self.conn.execute(
            f"SELECT id, doc_id, run, shingles, content, sketch, head, source, source_shingles FROM dedup_docs"
            f" WHERE id IN ({marks})",
            top,
        )
        return sorted(rows, key=lambda r: r[0])  # type: ignore[no-any-return]

    def room(self, fp: Fingerprint) -> int:
        """How many more documents the fullest of `fp`'s band keys lists before `_BAND_CAP`."""
        return _BAND_CAP - max(self.key_counts(fp).values(), default=0)

    def key_counts(self, fp: Fingerprint) -> dict[int, int]:
        """Documents listed under each of `fp`'s band keys now (indexed and buffered; keys
        listing none are absent), as `_candidates(fp)` counted them: free right after it, else
        it runs again (the band shuffle adds a chunk's kept documents after planning it)."""
        if self._counted is None or self._counted[0] is not fp:
            self._candidates(fp)
        assert self._counted is not None
        return self._counted[1]

    def add(self, doc_id: str, fp: Fingerprint) -> None:
        """Index a kept document (duplicates are never added); adding a doc_id twice is a no-op."""
        if fp.shingles == 0:
            return
        cur = self.conn.execute(
            "INSERT OR IGNORE INTO dedup_docs(doc_id, run, exact, shingles, content, length, sketch, head, source,"
            " source_shingles) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (_packed(doc_id), self.run_id, fp.exact[:_EXACT_BYTES], fp.shingles, fp.content, fp.length,
             *row_of(0, doc_id, 0, fp)[5:]),
        )
        if cur.rowcount != 1 or not self._near_eligible(fp):
            return
        row = int(cur.lastrowid or 0)
        keys = self.lookup_keys_of(fp)
        counts = self.key_counts(fp)
        self._counted = None  # stale once this document is listed
        full = [k for k, n in counts.items() if n >= _BAND_CAP]
        if full:
            keys = keys[~np.isin(keys, full)]
            if not keys.size:
                return
        for k in keys.tolist():
            self._pending[k].append(row)
        self._pending_keys.append(keys)
        self._pending_docs.append(row)
        self._pending_lists.append(keys.size)
        self._pending_rows += keys.size
        if self._pending_rows >= _FLUSH_ROWS:
            self.flush()

    def flush(self) -> None:
        """Write buffered band rows in key order; call before the connection commits."""
        if not self._pending:
            return
        keys = np.concatenate(self._pending_keys)
        docs = np.repeat(np.asarray(self._pending_docs, dtype=np.int64), self._pending_lists)
        order = np.lexsort((docs, keys))  # by key, then doc: B-tree appends in key order
        rows = zip(keys[order].tolist(), docs[order].tolist(), strict=True)
        cur = self.conn.executemany(f"INSERT OR IGNORE INTO {self._levels.first}(key, doc) VALUES(?, ?)", rows)
        self._pending.clear()
        self._pending_keys.clear()
        self._pending_docs.clear()
        self._pending_lists.clear()
        self._pending_rows = 0
        self._levels.added(cur.rowcount)

    def _wants_filter(self, level: str, more: int) -> bool:
        """Does `level`, about to receive `more` rows, need a key filter?"""
        if level == _LEVELS[-1]:
            return self._levels.last_used or more > 0
        return level != _LEVELS[0] and self._levels.rows[level] + more >= _FILTER_MIN_ROWS

    def _merging(self, src: str, dst: str) -> None:
        """Levels.on_merge: the key filters follow the rows (in the merge's transaction)."""
        self._filters.merging(src, dst, self._wants_filter(dst, self._levels.rows.get(src, 0)))

    def size(self) -> int:
        """Kept documents indexed (all runs)."""
        return int(self.conn.execute("SELECT count(*) FROM dedup_docs").fetchone()[0])


def _list_unlike(sim: Similarity, smaller: int, smaller_content: int) -> bool:
    """The smaller text's long lines, which containment counts, do not speak for its short ones
    (a list's items; the parts of one meal plan share intro and closing, not their items), in
    rules 2 and 3:

    - it is list-shaped (content lines hold under half of its shingles) and, over all its
      shingles, not `_LIST_CONTAINMENT` in the other;
    - its short-line shingles are `_SHORT_LINES_SHARE` of it or more and under
      `_SHORT_LINES_FOUND` of those its sketch samples are in the other (`Similarity.short_found`).
      Parts of one series share an intro and a closing paragraph, and the smaller part starts
      like the larger one, so both rules saw a copy or a beginning. An edited copy keeps a fair
      share of its short lines' shingles; a teaser's leftover site lines are a small part of it.
      Counted on the sample: derived from the all-shingle and content estimates, as first built,
      the share was too noisy (0.3 or more for parts with a dozen different items) to use in
      rule 3 too."""
    if 2 * smaller_content < smaller and sim.contained_all < _LIST_CONTAINMENT:
        return True
    rest = smaller - smaller_content
    if rest < max(_SHORT_LINES_MIN, _SHORT_LINES_SHARE * smaller):
        return False
    return sim.short_sampled >= _SHORT_LINES_SAMPLED and sim.short_found < _SHORT_LINES_FOUND


def _shared_counts(sketch: np.ndarray, blobs: list[bytes]) -> list[int]:
    """For each stored sketch, how many of its hashes (content flags dropped) `sketch` holds too.
    All candidates of a query in one pass: ~8 candidates of 64 values cost one search instead
    of a list and a set intersection each (the query's sketch is sorted, and so its hashes)."""
    if not blobs:
        return []
    mine = sketch.astype(np.uint32) >> 1
    theirs = np.frombuffer(b"".join(blobs), dtype=np.uint32) >> 1
    at = mine.searchsorted(theirs)
    found = mine[np.minimum(at, mine.size - 1)] == theirs if mine.size else np.zeros(theirs.size, dtype=bool)
    owner = np.repeat(np.arange(len(blobs)), [len(b) // 4 for b in blobs])
    return np.bincount(owner, weights=found, minlength=len(blobs)).astype(np.int64).tolist()


def _packed(doc_id: str) -> str | bytes:
    """A pipeline id (32 lowercase hex digits) is stored as its 16 bytes: 32 bytes less per
    document in the table and its unique index. Other ids are stored as they are."""
    return bytes.fromhex(doc_id) if _HEX_ID.fullmatch(doc_id) else doc_id


def _unpacked(stored: str | bytes) -> str:
    return stored.hex() if isinstance(stored, bytes) else stored

