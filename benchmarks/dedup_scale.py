"""Dedup index at scale: lookup latency and bytes per document as the index grows to millions.

    python benchmarks/dedup_scale.py [--sizes 10000 100000 1000000] [--queries 2000] [--db PATH]
        [--shared 0.1] [--band-cap N]

One SQLite file grows through the sizes (documents added with `DedupIndex.add`, committed in
chunks as a run's checkpoints do); at each size it times `DedupIndex.check` for

* miss: a document unlike anything indexed (the common case: a new article),
* near: an indexed document with ~25% of its MinHash bins and sketch values changed (an
  edited copy: candidates found, verified, matched),
* exact: an indexed document's exact hash,

and prints p50 / p99 microseconds per check and the file's bytes per indexed document.
Fingerprints are synthetic (random hashes with the real layout and sizes), so the numbers are
the index's own cost, not the fingerprinting's (see test_bench_dedup.py for that).

Random fingerprints share no band, unlike real pages. `--shared F` makes a fraction F of the
documents pages of one site that carry the same long block: 60% of their MinHash bins and 30% of
their sketch come from one block fingerprint, so they are not copies of each other (all kept),
but each of the block's band keys is shared by a fifth of them, a bucket that grows with the
index. Queries then also time

* block: a new page with that block (hits the crowded keys, matches nothing),

and `--band-cap N` overrides the index's cap on documents per band key (`_BAND_CAP`; a large N
shows the index without it).
"""

from __future__ import annotations

import argparse
import sqlite3
import tempfile
import time
from pathlib import Path

import numpy as np

from cleaner.config import DedupConfig
from cleaner.stages.dedup import PREFIX_SIZE, Fingerprint, lookup_keys
from cleaner.state.dedup_index import DedupIndex
from cleaner.state.ledger import CACHE_KB

CHUNK = 2000  # documents per commit (run.checkpoint_docs)


def synthetic(rng: np.random.Generator, cfg: DedupConfig) -> Fingerprint:
    """A long document's fingerprint: random hashes, real shapes (500 shingles, 400 content)."""
    sketch = np.sort(rng.integers(0, 1 << 31, cfg.sketch_size, dtype=np.uint64)) << np.uint64(1)
    minhash = rng.integers(0, 1 << 32, cfg.num_perm, dtype=np.uint64).astype(np.uint32)
    head = rng.integers(0, 1 << 16, PREFIX_SIZE, dtype=np.uint64).astype(np.uint16)
    return Fingerprint(
        exact=rng.bytes(16),
        minhash=minhash,
        sketch=(sketch | np.uint64(1)).astype(np.uint32),
        shingles=500,
        length=5000,
        content=400,
        head=head,
        bands=lookup_keys(minhash, head, cfg),  # the worker computes them (stages.dedup)
    )


def edited(fp: Fingerprint, rng: np.random.Generator, cfg: DedupConfig, share: float = 0.25) -> Fingerprint:
    """A near copy: `share` of the MinHash bins and of the sketch values replaced."""
    mh = fp.minhash.copy()
    bins = rng.random(mh.size) < share
    mh[bins] = rng.integers(0, 1 << 32, int(bins.sum()), dtype=np.uint64).astype(np.uint32)
    sk = fp.sketch.copy()
    vals = rng.random(sk.size) < share
    sk[vals] = rng.integers(0, 1 << 31, int(vals.sum()), dtype=np.uint64).astype(np.uint32) << 1 | 1
    return Fingerprint(rng.bytes(16), mh, np.sort(sk), fp.shingles, fp.length, fp.content, fp.head,
                       bands=lookup_keys(mh, fp.head, cfg))


def with_block(block: Fingerprint, rng: np.random.Generator, cfg: DedupConfig) -> Fingerprint:
    """A page carrying `block`: 60% of its MinHash bins and 30% of its sketch values from it."""
    fresh = synthetic(rng, cfg)
    mh = np.where(rng.random(cfg.num_perm) < 0.6, block.minhash, fresh.minhash)
    keep = fresh.sketch[rng.random(fresh.sketch.size) >= 0.3]
    sk = np.unique(np.concatenate([keep, block.sketch[: fresh.sketch.size - keep.size]]))
    return Fingerprint(fresh.exact, mh, sk, fresh.shingles, fresh.length, fresh.content, fresh.head,
                       bands=lookup_keys(mh, fresh.head, cfg))


def timed(index: DedupIndex, queries: list[tuple[str, Fingerprint]]) -> tuple[float, float, int]:
    """p50 and p99 microseconds of check(), and how many queries found a match."""
    us, hits = [], 0
    for doc_id, fp in queries:
        t = time.perf_counter()
        hits += index.check(doc_id, fp) is not None
        us.append(1e6 * (time.perf_counter() - t))
    us.sort()
    return us[len(us) // 2], us[min(len(us) - 1, int(0.99 * len(us)))], hits


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    ap.add_argument("--queries", type=int, default=2000)
    ap.add_argument("--db", help="SQLite file to grow (default: a temporary one)")
    ap.add_argument("--shared", type=float, default=0.0, help="fraction of pages carrying one shared block")
    ap.add_argument("--band-cap", type=int, help="documents a band key lists at most (default: the index's)")
    args = ap.parse_args(argv)
    if args.band_cap is not None:
        import cleaner.state.dedup_index as di

        di._BAND_CAP = args.band_cap
    cfg = DedupConfig()
    rng = np.random.default_rng(20261203)
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(args.db) if args.db else Path(tmp) / "state.sqlite"
        conn = sqlite3.connect(db)
        conn.execute("PRAGMA journal_mode=WAL")  # the ledger's settings (cleaner.state.ledger)
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute(f"PRAGMA cache_size=-{CACHE_KB}")
        index = DedupIndex(conn, cfg, run_id=1)
        sample: list[tuple[str, Fingerprint]] = []  # indexed documents the queries copy
        block = synthetic(rng, cfg)
        added = 0
        kinds = ("miss", "near", "exact") + (("block",) if args.shared else ())
        print(f"{'indexed':>9} {'add us/doc':>10} {'B/doc':>7}  {'check p50/p99 us: miss':>24}"
              + "".join(f" {k:>13}" for k in kinds[1:]))
        for size in sorted(args.sizes):
            t = time.perf_counter()
            grow = size - added
            while added < size:
                for _ in range(min(CHUNK, size - added)):
                    fp = with_block(block, rng, cfg) if rng.random() < args.shared else synthetic(rng, cfg)
                    doc_id = f"doc-{added:09d}"
                    index.add(doc_id, fp)
                    if rng.random() < 2 * args.queries / max(size, 1) and len(sample) < 4 * args.queries:
                        sample.append((doc_id, fp))
                    added += 1
                index.flush()
                conn.commit()
            add_us = 1e6 * (time.perf_counter() - t) / max(grow, 1)
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            pages, free, size = (conn.execute(f"PRAGMA {p}").fetchone()[0] for p in ("page_count", "freelist_count", "page_size"))
            per_doc = (pages - free) * size / added  # live pages: a merged level's pages are free for reuse
            picks = [sample[int(i)] for i in rng.integers(0, len(sample), args.queries)]
            miss = [(f"q-{i}", synthetic(rng, cfg)) for i in range(args.queries)]
            near = [(f"n-{i}", edited(fp, rng, cfg)) for i, (_, fp) in enumerate(picks)]
            exact = [(f"e-{i}", fp) for i, (_, fp) in enumerate(picks)]
            blocks = [(f"b-{i}", with_block(block, rng, cfg)) for i in range(args.queries if args.shared else 0)]
            cols = []
            for name, queries in zip(kinds, (miss, near, exact, blocks)):
                p50, p99, hits = timed(index, queries)
                cols.append(f"{p50:6.0f}/{p99:<6.0f}")
                if name in ("near", "exact") and hits < 0.95 * len(queries):
                    print(f"  warning: only {hits}/{len(queries)} {name} queries matched")
            print(f"{added:>9} {add_us:>10.0f} {per_doc:>7.0f}  {cols[0]:>24}" + "".join(f" {c:>13}" for c in cols[1:]),
                  flush=True)
        conn.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
