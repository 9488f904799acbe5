"""Dedup cost: fingerprints of 5 KB documents and index lookups at a few thousand documents.

    pytest benchmarks/test_bench_dedup.py --benchmark-only --benchmark-columns=mean,ops

Inputs are 5 KB documents cut from the raw/ samples (German, Chinese) plus synthetic English
text. One benchmark round fingerprints a batch of 200 documents (docs/s = 200 * ops, MB/s in
extra_info); the index benchmarks run check (+ add) against an index already holding
`INDEXED` documents.
"""

from __future__ import annotations

import random
import sqlite3
from functools import lru_cache
from pathlib import Path
from typing import Any

import pytest

from cleaner.config import DedupConfig
from cleaner.stages.dedup import Fingerprint, fingerprint_text
from cleaner.state.dedup_index import DedupIndex

RAW = Path(__file__).resolve().parent.parent / "raw"
CFG = DedupConfig()
BATCH = 200
INDEXED = 5000


def _english(seed: int, size: int = 5000) -> str:
    rnd = random.Random(seed)
    vocab = ["".join(rnd.choice("etaoinshrdlucmfwypvbgk") for _ in range(rnd.randint(2, 9))) for _ in range(5000)]
    out: list[str] = []
    n = 0
    while n < size:
        para = " ".join(rnd.choice(vocab) for _ in range(rnd.randint(30, 90))) + "."
        out.append(para)
        n += len(para) + 2
    return "\n\n".join(out)[:size]


@lru_cache(maxsize=1)
def docs() -> dict[str, list[str]]:
    raw = {p.name: p.read_text("utf-8") for p in sorted(RAW.glob("*.txt"))}
    zh = "".join(t for n, t in raw.items() if n.startswith("002"))
    de = "\n".join(t for n, t in raw.items() if not n.startswith("002"))

    def cut(text: str, size: int) -> list[str]:
        return [text[(i * 997) % max(1, len(text) - size) :][:size] for i in range(BATCH)]

    return {
        "en": [_english(i) for i in range(BATCH)],
        "de": cut(de * 2, 5000),
        "zh": cut(zh * 4, 1700),  # 1700 CJK characters ~ 5 KB of UTF-8
    }


@pytest.mark.parametrize("lang", ["en", "de", "zh"])
def test_fingerprint(benchmark: Any, lang: str) -> None:
    batch = docs()[lang]
    size = sum(len(t.encode("utf-8")) for t in batch)
    benchmark.extra_info["docs"] = BATCH
    benchmark.extra_info["bytes"] = size
    out = benchmark(lambda: [fingerprint_text(t, CFG) for t in batch])
    assert len(out) == BATCH and all(f.shingles > 0 for f in out)
    if benchmark.stats is None:  # --benchmark-disable: ran once as a smoke test
        return
    mean = benchmark.stats.stats.mean
    benchmark.extra_info["docs_per_s"] = round(BATCH / mean)
    benchmark.extra_info["MB_per_s"] = round(size / mean / 1e6, 1)


@lru_cache(maxsize=1)
def indexed() -> tuple[list[Fingerprint], list[Fingerprint]]:
    stored = [fingerprint_text(_english(10_000 + i, 2000), CFG) for i in range(INDEXED)]
    queries = [fingerprint_text(_english(90_000 + i, 2000), CFG) for i in range(BATCH)]
    return stored, queries


def _index(tmp: Path) -> tuple[sqlite3.Connection, DedupIndex]:
    conn = sqlite3.connect(tmp / "state.sqlite")
    conn.execute("PRAGMA journal_mode=WAL")
    index = DedupIndex(conn, CFG)
    for i, fp in enumerate(indexed()[0]):
        index.add(f"stored-{i}", fp)
    index.flush()
    conn.commit()
    return conn, index


def test_index_check(benchmark: Any, tmp_path: Path) -> None:
    """check() of new (non-duplicate) documents against INDEXED committed ones."""
    conn, index = _index(tmp_path)
    queries = indexed()[1]
    res = benchmark(lambda: [index.check(f"q{i}", fp) for i, fp in enumerate(queries)])
    assert all(m is None for m in res)
    if benchmark.stats is not None:
        benchmark.extra_info["us_per_check"] = round(benchmark.stats.stats.mean / BATCH * 1e6, 1)
    pages = conn.execute("PRAGMA page_count").fetchone()[0] - conn.execute("PRAGMA freelist_count").fetchone()[0]
    size = pages * conn.execute("PRAGMA page_size").fetchone()[0]
    benchmark.extra_info["index_bytes_per_doc"] = round(size / INDEXED)  # 2 KB documents here
    conn.close()


def test_index_check_add(benchmark: Any, tmp_path: Path) -> None:
    """check() + add() + flush, as the parent does for kept documents (rolled back each round)."""
    conn, index = _index(tmp_path)
    queries = indexed()[1]

    def run() -> None:
        for i, fp in enumerate(queries):
            if index.check(f"q{i}", fp) is None:
                index.add(f"q{i}", fp)
        index.flush()
        conn.rollback()

    benchmark(run)
    if benchmark.stats is not None:
        benchmark.extra_info["us_per_doc"] = round(benchmark.stats.stats.mean / BATCH * 1e6, 1)
    conn.close()
