"""A Bloom filter over the band keys of one dedup index level: which probes can be skipped.

Why: a query asks every level for its 36 band keys, and a new document's keys are almost all
absent. Once the levels outgrow the page cache (a 300k-document index: 375 MB) each absent key
still costs a B-tree descent through pages the OS has to hand over: 95% of a check's time. The
filter answers "not in this level" from memory for all but a few percent of them; it never says
"absent" for a key the level holds, so the candidates, and the decisions, are the same.

Two bit positions per key (two multiply-shift hashes of the key, itself a uniform 31-bit hash),
8 to 16 bits per key (a power of two): 2-5% of absent keys still get probed. `save`/`load` keep
it in a file with a generation number and a checksum; `LevelFilters` keeps one per big level of
an index beside its database and decides when a file can be trusted.
"""

from __future__ import annotations

import os
import sqlite3
import struct
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import xxhash

from cleaner.observe import LOG

BITS_PER_KEY = 8
MIN_LOG2 = 16  # 8 KB
MAX_LOG2 = 31  # 256 MB: past ~270M keys the false positives rise instead of the memory
_MULTIPLIERS = np.array([[0x9E3779B97F4A7C15], [0xC2B2AE3D27D4EB4F]], dtype=np.uint64)  # one per position
_U6, _U63, _U1 = np.uint64(6), np.uint64(63), np.uint64(1)


class KeyFilter:
    """Bits for `keys` added so far; `log2` bits in all, in 64-bit words."""

    def __init__(self, log2: int, words: np.ndarray | None = None, keys: int = 0) -> None:
        self.log2 = log2
        self.words = np.zeros(1 << (log2 - 6), dtype=np.uint64) if words is None else words
        self.keys = keys  # keys added (with repeats): when it outgrows the bits, rebuild bigger

    @classmethod
    def sized(cls, keys: int) -> KeyFilter:
        """An empty filter with room for `keys` keys at BITS_PER_KEY."""
        log2 = max(MIN_LOG2, min(MAX_LOG2, int(max(keys, 1) * BITS_PER_KEY - 1).bit_length()))
        return cls(log2)

    @property
    def full(self) -> bool:
        """Holds more keys than it was sized for (and could grow)."""
        return self.keys * BITS_PER_KEY > (1 << self.log2) and self.log2 < MAX_LOG2

    def _positions(self, keys: np.ndarray) -> np.ndarray:
        """(2, n) bit positions: the top `log2` bits of two products of each key."""
        k = keys.astype(np.int64).view(np.uint64)
        with np.errstate(over="ignore"):
            return (_MULTIPLIERS * k) >> np.uint64(64 - self.log2)

    def add(self, keys: np.ndarray) -> None:
        if not keys.size:
            return
        pos = self._positions(keys).ravel()
        np.bitwise_or.at(self.words, pos >> _U6, np.left_shift(_U1, pos & _U63))
        self.keys += int(keys.size)

    def may_hold(self, keys: np.ndarray) -> np.ndarray:
        """Per key: False when the level surely lacks it."""
        pos = self._positions(keys)
        return ((self.words[pos >> _U6] >> (pos & _U63)) & _U1).all(axis=0)  # type: ignore[no-any-return]

    def to_bytes(self) -> bytes:
        return self.words.tobytes()

    @classmethod
    def from_bytes(cls, log2: int, data: bytes, keys: int) -> KeyFilter:
        return cls(log2, np.frombuffer(data, dtype=np.uint64).copy(), keys)


FILTER_SUFFIX = ".dedup-filter."  # a level's filter is cached at <database file><FILTER_SUFFIX><level>
_MAGIC = b"CLEANER-KEYFILTER-1\n"
_HEAD = struct.Struct("<QBQ16s")  # generation, log2, keys, xxh3-128 of the words


def save(path: Path, filt: KeyFilter, generation: int) -> None:
    """Write atomically (temporary file, fsync, rename): a reader sees the old file or the new."""
    words = filt.to_bytes()
    tmp = path.with_name(path.name + ".open")  # a crash leaves it: recovery removes it (`stale_files`)
    with open(tmp, "wb") as fh:
        fh.write(_MAGIC + _HEAD.pack(generation, filt.log2, filt.keys, xxhash.xxh3_128_digest(words)) + words)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def stale_files(folder: Path) -> list[Path]:
    """Temporary files a crash left while `save` wrote them."""
    return sorted(folder.glob(f"*{FILTER_SUFFIX}*.open"))


def load(path: Path) -> tuple[int, KeyFilter] | None:
    """(generation, filter), or None when the file is missing, truncated or damaged."""
    try:
        data = path.read_bytes()
    except OSError:
        return None
    start = len(_MAGIC) + _HEAD.size
    if not data.startswith(_MAGIC) or len(data) < start:
        return None
    generation, log2, keys, digest = _HEAD.unpack_from(data, len(_MAGIC))
    words = data[start:]
    if not MIN_LOG2 <= log2 <= MAX_LOG2 or len(words) != (1 << log2) // 8 or xxhash.xxh3_128_digest(words) != digest:
        return None
    return generation, KeyFilter.from_bytes(log2, words, keys)


class LevelFilters:
    """The key filters of a table's big levels (tables with an integer `key` column), cached in
    files beside its database: `<database file>.dedup-filter.<level>`.

    A file is written before the transaction that changes its level commits, with the level's
    new generation, which the database records too (`filter_gen:<level>` in the `meta` table).
    It is used only when the two generations match: a rolled-back merge, a crash before the
    commit, damage or a database restored without it make the level's filter rebuilt from its
    rows, once. Without a database file (in memory) the filters live in memory only.
    """

    def __init__(self, conn: sqlite3.Connection, meta: str) -> None:
        self.conn = conn
        self.meta = meta
        self.base = next((str(f) for _, name, f in conn.execute("PRAGMA database_list") if name == "main" and f), None)
        self.filters: dict[str, KeyFilter] = {}

    def get(self, level: str) -> KeyFilter | None:
        return self.filters.get(level)

    def open(self, level: str) -> None:
        """Load `level`'s filter from its file, or build it from the level's rows."""
        path = self._file(level)
        got = load(path) if path is not None else None
        if got is not None and got[0] == self._generation(level):
            self.filters[level] = got[1]
        else:
            self.filters[level] = self._built(level, self._generation(level))

    def merging(self, src: str, dst: str, dst_wants: bool) -> None:
        """`src` is about to be merged into `dst` (in the merge's transaction): `dst`'s filter
        takes `src`'s keys (built when `dst_wants` one and has none, rebuilt bigger once full);
        `src`, emptied, drops its own. Each changed level's generation moves on."""
        filt = self.filters.get(dst)
        if filt is not None:
            for keys in self._keys(src):
                filt.add(keys)
        if filt is not None or dst_wants:
            generation = self._next_generation(dst)
            if filt is None or filt.full:
                self.filters[dst] = self._built(dst, generation, extra=src)
            else:
                self._save(dst, filt, generation)
        if self.filters.pop(src, None) is not None:
            self._next_generation(src)
            if (path := self._file(src)) is not None:
                path.unlink(missing_ok=True)

    def invalidate(self, level: str) -> None:
        """`level`'s keys changed wholesale (an index migration): its file is no longer trusted
        and its filter is built again from the rows when next opened."""
        self.filters.pop(level, None)
        self._next_generation(level)
        if (path := self._file(level)) is not None:
            path.unlink(missing_ok=True)

    def _built(self, level: str, generation: int, extra: str | None = None) -> KeyFilter:
        """A filter of `level`'s keys (and `extra`'s: a level about to be merged into it), saved."""
        tables = [level] + ([extra] if extra else [])
        rows = sum(int(self.conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]) for t in tables)
        if rows > 1_000_000:  # seconds at millions of rows: say why the run pauses
            LOG.info("dedup index: building the key filter of %s from %d band rows", level, rows,
                     extra={"event": "dedup-filter", "level": level, "rows": rows})
        filt = KeyFilter.sized(rows)  # 8-16 bits a key (a power of two); rebuilt twice as big once full
        for t in tables:
            for keys in self._keys(t):
                filt.add(keys)
        self._save(level, filt, generation)
        return filt

    def _keys(self, table: str) -> Iterator[np.ndarray]:
        cur = self.conn.execute(f"SELECT key FROM {table}")
        while batch := cur.fetchmany(1 << 16):
            yield np.fromiter((r[0] for r in batch), dtype=np.int64, count=len(batch))

    def _generation(self, level: str) -> int:
        row = self.conn.execute(f"SELECT value FROM {self.meta} WHERE key = ?", (f"filter_gen:{level}",)).fetchone()
        return int(row[0]) if row else 0

    def _next_generation(self, level: str) -> int:
        generation = self._generation(level) + 1
        self.conn.execute(f"INSERT OR REPLACE INTO {self.meta}(key, value) VALUES(?, ?)",
                          (f"filter_gen:{level}", str(generation)))
        return generation

    def _file(self, level: str) -> Path | None:
        return Path(self.base + FILTER_SUFFIX + level) if self.base else None

    def _save(self, level: str, filt: KeyFilter, generation: int) -> None:
        path = self._file(level)
        if path is None:
            return
        try:
            save(path, filt, generation)
        except OSError:  # a read-only state folder: rebuilt by the next run that can write it
            pass
