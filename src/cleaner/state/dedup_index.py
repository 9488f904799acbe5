"""Persistent dedup index (parent process): exact hashes, LSH bands, sketches; the decision.

Tables live in the ledger's SQLite connection and are never committed here: the ledger
commits once the outputs they describe are durable, so a crash rolls the index back with them.

Decision for a document Q against everything indexed (earlier runs unless scope="run", and
this run so far); only kept documents are indexed, so a duplicate is always the duplicate of
a kept document it matches directly (no transitive chains):

1. exact: same normalised token sequence (xxh3_128) -> method "exact", similarity 1.0.
2. near: candidates share at least one LSH band (bands x rows over the MinHash); each is
   verified on the bottom-k sketches (restricted to the smaller of the two thresholds, which
   makes both samples consistent): S = the document with fewer shingles, L = the other,
   containment = |content shingles of S found in L| / |content shingles of S| (estimated).
   A duplicate needs containment >= cfg.threshold and at least `_MIN_EVIDENCE` sampled
   shingles of S (fewer: undecidable, kept). Containment of the *smaller* text covers
   truncated copies (a teaser is contained in the full article) and copies wrapped in another
   site's header/footer (the article is contained in the wrapped copy); counting only content
   shingles (long lines, see cleaner.stages.dedup) keeps two short bodies in one long site
   template apart. Edited copies (3-10% of words changed) keep word-3-gram containment
   around 0.75-0.9.
   Best verified candidate wins: highest containment, then the earliest indexed.

LSH trade-off (P(candidate) = 1 - (1 - J^rows)^bands, J = Jaccard of all shingles; the dev
set columns are benchmarks/quality_dedup.py --templates, precision / recall / lost clusters):

    bands x rows   J=0.2   J=0.3   J=0.4   J=0.5   J=0.7   dev set P / R / lost    bytes/doc
    64 x 2         0.92    1.00    1.00    1.00    1.00    0.966 / 0.956 / 30      ~1300
    42 x 3         0.29    0.68    0.93    0.99    1.00    0.975 / 0.955 / 23      ~1060
    36 x 3 (used)  0.25    0.63    0.90    0.99    1.00    0.982 / 0.954 / 19      ~990
    32 x 4         0.05    0.23    0.56    0.87    1.00    0.979 / 0.940 / 19      ~930
    Truncated copies and copies inside another site's template have a low Jaccard with their
    original (0.2-0.4) while their containment is ~1: 32 x 4 misses half of those; 64 x 2 finds
    them, but its extra candidates are mostly same-template pages (4x the lookup time, and more
    chances for a wrong merge). 36 x 3 with a 64-value sketch keeps the index under 1 KB per doc.

Storage per kept document (measured, see tests/unit/test_dedup_index.py and the report):
a docs row (doc id, run, exact hash, counts, sketch of 4 x sketch_size bytes) plus `bands`
rows of (key, doc) in a WITHOUT ROWID table. This run's band rows are buffered in memory and
written sorted by `flush()` (called automatically every `_FLUSH_ROWS` rows, and by the ledger
before it commits), so the B-tree is appended in key order instead of touched at random.
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from dataclasses import dataclass

import numpy as np

from cleaner.config import DedupConfig
from cleaner.errors import UsageError
from cleaner.stages.dedup import SCHEME, Fingerprint, mix64

_MIN_EVIDENCE = 8  # sampled shingles of the smaller document needed to call a near duplicate
_MAX_CANDIDATES = 64  # verified per query, most shared bands first (caps template-heavy sites)
_FLUSH_ROWS = 100_000  # buffered band rows before they are written
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


def scheme(cfg: DedupConfig) -> str:
    """Everything that changes stored values; an index built under another scheme is refused."""
    return (
        f"{SCHEME} perm={cfg.num_perm} bands={cfg.bands}x{cfg.rows} words={cfg.shingle_words} "
        f"chars={cfg.shingle_chars} sketch={cfg.sketch_size} "
        f"content={cfg.content_ratio}/{cfg.content_tokens}"
    )


def band_keys(minhash: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """One 48-bit key per band, band number mixed in (SQLite stores it in 6 bytes, not 8).

    A chance collision only adds a candidate that verification then rejects: at 10 million
    documents that is ~1.5 extra candidates per query.
    """
    m = minhash[: bands * rows].astype(np.uint64).reshape(bands, rows)
    with np.errstate(over="ignore"):
        acc = np.arange(bands, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15)
        for j in range(rows):
            acc = mix64(acc ^ m[:, j])
    return (acc >> np.uint64(16)).astype(np.int64)


def similarity(a: np.ndarray, n_a: int, b: np.ndarray, n_b: int) -> Similarity:
    """Estimate containment of the smaller document's content in the other, and Jaccard.

    `a`, `b` are sketches (sorted uint32: 31-bit hash << 1 | content flag) of documents with
    n_a, n_b distinct shingles. A sketch holding fewer values than its document has shingles is
    a bottom-k sample below its largest hash; restricting both to the smaller of the two
    thresholds gives two consistent samples (every hash below it is in both or flagged absent).
    """
    tau_a = int(a[-1]) >> 1 if a.size < n_a else _FULL
    tau_b = int(b[-1]) >> 1 if b.size < n_b else _FULL
    tau = min(tau_a, tau_b)
    ha = a >> 1
    hb = b >> 1
    keep_a = ha <= tau
    keep_b = hb <= tau
    sa, sb = a[keep_a], b[keep_b]
    ha, hb = ha[keep_a], hb[keep_b]
    if (n_a, sa.size) > (n_b, sb.size):
        sa, sb, ha, hb = sb, sa, hb, ha
    inter = np.isin(ha, hb, assume_unique=True)
    union = ha.size + hb.size - int(inter.sum())
    jaccard = float(inter.sum()) / union if union else 0.0
    content = (sa & 1).astype(bool)
    if not content.any():
        content = np.ones(sa.size, dtype=bool)
    evidence = int(content.sum())
    contained = float(inter[content].sum()) / evidence if evidence else 0.0
    return Similarity(contained, jaccard, evidence)


class DedupIndex:
    """Exact and near-duplicate index over kept documents; one instance per run session.

    `run_id` tags what this session adds; with cfg.scope == "run" only entries of the same
    run_id are matched. Deterministic: the same sequence of check/add calls gives the same
    decisions (the pipeline orders a run's documents by a stable key first; for keep="longest"
    by `cleaner.stages.dedup.order_key`).
    """

    def __init__(self, conn: sqlite3.Connection, cfg: DedupConfig, run_id: int = 0) -> None:
        if cfg.bands * cfg.rows > cfg.num_perm:
            raise UsageError(f"dedup.bands x dedup.rows ({cfg.bands} x {cfg.rows}) exceeds dedup.num_perm ({cfg.num_perm})")
        self.conn = conn
        self.cfg = cfg
        self.run_id = run_id
        self._pending: dict[int, list[int]] = defaultdict(list)  # band key -> doc rows, unwritten
        self._pending_rows = 0
        self._create()

    def _create(self) -> None:
        c = self.conn
        c.execute("CREATE TABLE IF NOT EXISTS dedup_meta(key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        c.execute(
            "CREATE TABLE IF NOT EXISTS dedup_docs(id INTEGER PRIMARY KEY, doc_id TEXT NOT NULL UNIQUE,"
            " run INTEGER NOT NULL, exact BLOB NOT NULL, shingles INTEGER NOT NULL,"
            " length INTEGER NOT NULL, sketch BLOB NOT NULL)"
        )
        c.execute("CREATE INDEX IF NOT EXISTS dedup_docs_exact ON dedup_docs(exact)")
        c.execute(
            "CREATE TABLE IF NOT EXISTS dedup_bands(key INTEGER NOT NULL, doc INTEGER NOT NULL,"
            " PRIMARY KEY(key, doc)) WITHOUT ROWID"
        )
        want = scheme(self.cfg)
        row = c.execute("SELECT value FROM dedup_meta WHERE key = 'scheme'").fetchone()
        if row is None:
            c.execute("INSERT INTO dedup_meta(key, value) VALUES('scheme', ?)", (want,))
        elif row[0] != want:
            if c.execute("SELECT 1 FROM dedup_docs LIMIT 1").fetchone() is not None:
                raise UsageError(
                    f"dedup settings changed: the index was built with [{row[0]}], the config asks for "
                    f"[{want}]; restore the settings or start a new state folder"
                )
            c.execute("UPDATE dedup_meta SET value = ? WHERE key = 'scheme'", (want,))

    def _scoped(self, run: int) -> bool:
        return self.cfg.scope != "run" or run == self.run_id

    def check(self, doc_id: str, fp: Fingerprint) -> Match | None:
        """The kept document `fp` duplicates, or None; never the document itself (by doc_id)."""
        if fp.shingles == 0:  # no words at all: nothing to compare
            return None
        for _, other, run in self.conn.execute(
            "SELECT id, doc_id, run FROM dedup_docs WHERE exact = ? ORDER BY id", (fp.exact,)
        ):
            if other != doc_id and self._scoped(run):
                return Match(other, "exact", 1.0, "same words in the same order")
        if fp.shingles < self.cfg.min_shingles:
            return None
        best: tuple[float, int, str, Similarity] | None = None
        for row, other, run, shingles, blob in self._candidates(fp):
            if other == doc_id or not self._scoped(run):
                continue
            sim = similarity(fp.sketch, fp.shingles, np.frombuffer(blob, dtype=np.uint32), shingles)
            if sim.evidence < min(_MIN_EVIDENCE, fp.shingles, shingles):
                continue
            if sim.containment >= self.cfg.threshold and (best is None or (-sim.containment, row) < (-best[0], best[1])):
                best = (sim.containment, row, other, sim)
        if best is None:
            return None
        sim = best[3]
        note = f"containment {sim.containment:.2f} of {sim.evidence} sampled shingles, jaccard {sim.jaccard:.2f}"
        return Match(best[2], "near", round(sim.containment, 4), note)

    def _candidates(self, fp: Fingerprint) -> list[tuple[int, str, int, int, bytes]]:
        keys = band_keys(fp.minhash, self.cfg.bands, self.cfg.rows).tolist()
        hits: dict[int, int] = defaultdict(int)
        marks = ",".join("?" * len(keys))
        for (doc,) in self.conn.execute(f"SELECT doc FROM dedup_bands WHERE key IN ({marks})", keys):
            hits[doc] += 1
        if self._pending:
            for k in keys:
                for doc in self._pending.get(k, ()):
                    hits[doc] += 1
        if not hits:
            return []
        top = sorted(hits, key=lambda d: (-hits[d], d))[:_MAX_CANDIDATES]
        marks = ",".join("?" * len(top))
        rows = self.conn.execute(
            f"SELECT id, doc_id, run, shingles, sketch FROM dedup_docs WHERE id IN ({marks})", top
        ).fetchall()
        rows.sort(key=lambda r: r[0])
        return rows

    def add(self, doc_id: str, fp: Fingerprint) -> None:
        """Index a kept document (duplicates are never added); adding a doc_id twice is a no-op."""
        if fp.shingles == 0:
            return
        cur = self.conn.execute(
            "INSERT OR IGNORE INTO dedup_docs(doc_id, run, exact, shingles, length, sketch)"
            " VALUES(?, ?, ?, ?, ?, ?)",
            (doc_id, self.run_id, fp.exact, fp.shingles, fp.length, fp.sketch.astype(np.uint32).tobytes()),
        )
        if cur.rowcount != 1 or fp.shingles < self.cfg.min_shingles:
            return
        row = int(cur.lastrowid or 0)
        for k in band_keys(fp.minhash, self.cfg.bands, self.cfg.rows).tolist():
            self._pending[k].append(row)
        self._pending_rows += self.cfg.bands
        if self._pending_rows >= _FLUSH_ROWS:
            self.flush()

    def flush(self) -> None:
        """Write buffered band rows in key order; call before the connection commits."""
        if not self._pending:
            return
        rows = sorted((k, d) for k, docs in self._pending.items() for d in docs)
        self.conn.executemany("INSERT OR IGNORE INTO dedup_bands(key, doc) VALUES(?, ?)", rows)
        self._pending.clear()
        self._pending_rows = 0

    def size(self) -> int:
        """Kept documents indexed (all runs)."""
        return int(self.conn.execute("SELECT count(*) FROM dedup_docs").fetchone()[0])
