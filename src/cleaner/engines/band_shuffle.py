"""Dedup of one checkpoint as a shuffle by LSH band key, decided exactly as DedupIndex would.

Why a shuffle: on a cluster the band lookups of a chunk's documents against each other run in
workers instead of the parent's in-memory band table, and the index of earlier runs is queried
once per document with no ordering between documents (it does not change during the chunk).
At one parent and a few thousand documents a checkpoint this saves little (measured: ~0.1 s a
checkpoint either way); it is the shape a band-sharded index (one actor per key range) needs.
Steps, all plain functions (the Ray engine runs `map_rows` and `reduce_groups` as tasks):

1. map: each document's lookup keys (`DedupIndex.lookup_keys_of`: bands and head, the keys the index
   stores) and its exact hash become rows (kind, key, position), split into P partitions by key.
2. reduce: each partition sorts its rows and emits the groups of >= 2 positions sharing a key.
   Grouping is by the key alone, as the index looks keys up (the key already mixes
   in the band number; a chance equality across bands is a candidate there too).
3. `plan` (parent): walks the chunk in the runner's stable order. A document is compared with
   the persistent index (earlier runs and earlier checkpoints) through DedupIndex, and with
   the earlier KEPT documents of its groups here; the verdict is the one DedupIndex.check
   would give with those documents indexed: an earlier exact copy first (index rows before
   this chunk's), else the verified candidate with the highest containment, ties to the
   earliest indexed.

Two corners the merge does not reproduce, both caps of DedupIndex: it verifies at most
`_MAX_CANDIDATES` candidates, chosen by shared-band count over index and chunk together (it does
not expose the counts of its own rows), and a band key lists at most `_BAND_CAP` documents (a
kept document of this chunk may find a key full). When a document's index and chunk candidates
together exceed the first cap, or its chunk neighbours could fill one of its keys (`room`),
`plan` falls back to DedupIndex itself for the rest of the chunk: it indexes the chunk's kept
documents so far (same order, so the same row ids as the local engine) and from then on checks
and adds each document as the local engine does.

Coupling, on purpose: candidates, eligibility, scope and the verification rule are the index's
own (`_candidates`, `_near_eligible`, `_scoped`, `_verified`, `similarity`); only the loop that
picks the best verified candidate is a copy of DedupIndex.check's. tests/unit/test_engine_ray.py
compares `plan` with the index loop without Ray, so the two cannot drift apart unnoticed.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np

from cleaner.document import Document, Outcome
from cleaner.stages.dedup import Fingerprint
from cleaner.state.dedup_index import _MAX_CANDIDATES, DedupIndex, Match, exact_twins, row_of

BAND, EXACT = 0, 1
ROW = np.dtype([("kind", "u1"), ("key", "u8"), ("pos", "i4")])
EXACT_NOTE = "same words in the same order"  # DedupIndex.check's note for exact matches


@dataclass(frozen=True)
class MapInput:
    """The slice of a chunk one map task fingerprints into rows (positions index the chunk)."""

    positions: np.ndarray  # int32 (n,)
    keys: np.ndarray  # int64 (n, bands + 1): the lookup keys the index stores (`DedupIndex.lookup_keys_of`)
    exact: np.ndarray  # uint64 (n,): first 8 bytes of the exact hash (grouping; the parent compares all 16)
    banded: np.ndarray  # bool (n,): the index would hold its band keys (DedupIndex._near_eligible)


@dataclass(frozen=True)
class Groups:
    """Reduce output: group g is members[offsets[g]:offsets[g + 1]] (ascending positions), of kinds[g]."""

    kinds: np.ndarray
    offsets: np.ndarray
    members: np.ndarray


def eligible(doc: Document) -> bool:
    """The runner's condition for a dedup decision (dedup enabled is checked by the caller)."""
    return doc.outcome is Outcome.CLEAN and isinstance(doc.fingerprint, Fingerprint)


def map_inputs(docs: list[Document], index: DedupIndex, slices: int) -> list[MapInput]:
    """Split a chunk's fingerprints into `slices` map inputs; documents without words take no part."""
    pos = [i for i, d in enumerate(docs) if eligible(d) and d.fingerprint.shingles > 0]
    if not pos:
        return []
    fps: list[Fingerprint] = [docs[i].fingerprint for i in pos]
    keys = np.stack([index.lookup_keys_of(f) for f in fps])  # computed by the workers that fingerprinted
    exact = np.frombuffer(b"".join(f.exact[:8] for f in fps), dtype="<u8")
    banded = np.array([index._near_eligible(f) for f in fps], dtype=bool)
    positions = np.array(pos, dtype=np.int32)
    cuts = np.array_split(np.arange(len(pos)), max(1, min(slices, len(pos))))
    return [MapInput(positions[c], keys[c], exact[c], banded[c]) for c in cuts]


def map_rows(inp: MapInput, parts: int) -> list[np.ndarray]:
    """Map: rows (kind, key, position) for every band key and exact hash, split by key into `parts`."""
    b_pos = inp.positions[inp.banded]
    keys = inp.keys[inp.banded].astype(np.uint64)
    bands = inp.keys.shape[1]
    out = np.empty(keys.size + inp.positions.size, dtype=ROW)
    nb = keys.size
    out["kind"][:nb] = BAND
    out["key"][:nb] = keys.ravel()
    out["pos"][:nb] = np.repeat(b_pos, bands)
    out["kind"][nb:] = EXACT
    out["key"][nb:] = inp.exact
    out["pos"][nb:] = inp.positions
    part = (out["key"] % np.uint64(parts)).astype(np.intp)
    return [out[part == p] for p in range(parts)]


def reduce_groups(*parts: np.ndarray) -> Groups:
    """Reduce: sort one partition's rows by (kind, key) and keep the groups of two or more documents."""
    rows = np.unique(np.concatenate(parts)) if parts else np.zeros(0, dtype=ROW)  # sorted by kind, key, pos
    if rows.size == 0:
        return Groups(np.zeros(0, np.uint8), np.zeros(1, np.int64), np.zeros(0, np.int32))
    new = np.ones(rows.size, dtype=bool)
    new[1:] = (rows["kind"][1:] != rows["kind"][:-1]) | (rows["key"][1:] != rows["key"][:-1])
    starts = np.flatnonzero(new)
    sizes = np.diff(np.append(starts, rows.size))
    big = sizes > 1
    members = rows["pos"][np.repeat(big, sizes)]
    offsets = np.zeros(int(big.sum()) + 1, dtype=np.int64)
    np.cumsum(sizes[big], out=offsets[1:])
    return Groups(rows["kind"][starts[big]], offsets, members)


def shuffle_local(docs: list[Document], index: DedupIndex, parts: int = 2) -> list[Groups]:
    """The whole shuffle in this process (tests, and engines without workers)."""
    outs = [map_rows(m, parts) for m in map_inputs(docs, index, parts)]
    return [reduce_groups(*(o[p] for o in outs)) for p in range(parts)]


@dataclass
class _Chunk:
    """What the index would hold of this chunk so far: kept documents in the order they are added."""

    docs: list[Document]
    seq: dict[int, int] = field(default_factory=dict)  # position -> order of insertion (row order)
    banded: set[int] = field(default_factory=set)  # positions whose band keys would be indexed
    ids: set[str] = field(default_factory=set)  # doc ids inserted (the index ignores a second insert)

    def keep(self, p: int, fp: Fingerprint, index: DedupIndex) -> None:
        """Mirror of DedupIndex.add: a row per new doc id with words, band keys when near-eligible."""
        doc_id = self.docs[p].id
        if fp.shingles == 0 or doc_id in self.ids:
            return
        self.ids.add(doc_id)
        self.seq[p] = len(self.seq)
        if index._near_eligible(fp):
            self.banded.add(p)


def plan(index: DedupIndex, docs: list[Document], groups: list[Groups]) -> list[Match | None]:
    """Per position of `docs`: the match DedupIndex.check would return in the local engine's loop.

    Call before any document of the chunk is added to the index; the runner then adds the kept
    ones in the same order (adds this function already made are ignored by the index).
    """
    band_of: dict[int, list[np.ndarray]] = defaultdict(list)
    exact_of: dict[int, list[np.ndarray]] = defaultdict(list)
    for g in groups:
        for k in range(g.kinds.size):
            members = g.members[g.offsets[k] : g.offsets[k + 1]]
            target = band_of if g.kinds[k] == BAND else exact_of
            for p in members.tolist():
                target[p].append(members)
    chunk = _Chunk(docs)
    out: list[Match | None] = [None] * len(docs)
    turned: set[int] = set()  # id() of documents a decision made duplicates (a doc object may repeat)
    local = False
    for p, doc in enumerate(docs):
        if not eligible(doc) or id(doc) in turned:
            continue
        fp: Fingerprint = doc.fingerprint
        match = None
        if not local:
            try:
                match = _merged(index, chunk, p, fp, band_of.get(p, ()), exact_of.get(p, ()))
            except _OverCap:
                local = True
                for q in sorted(chunk.seq, key=chunk.seq.__getitem__):
                    index.add(docs[q].id, docs[q].fingerprint)
        if local:
            match = index.check(doc.id, fp)
            if match is None:
                index.add(doc.id, fp)
        out[p] = match
        if match is None:
            chunk.keep(p, fp, index)
        else:
            turned.add(id(doc))
    return out


class _OverCap(Exception):
    """Index and chunk candidates together exceed what DedupIndex verifies: defer to it."""


def _merged(
    index: DedupIndex, chunk: _Chunk, p: int, fp: Fingerprint,
    bands: list[np.ndarray] | tuple[()], exacts: list[np.ndarray] | tuple[()],
) -> Match | None:
    doc_id = chunk.docs[p].id
    twins = sorted(
        (chunk.seq[q], q) for m in exacts for q in m.tolist()
        if q < p and q in chunk.seq and chunk.docs[q].id != doc_id and exact_twins(chunk.docs[q].fingerprint, fp)
    )
    near = {q for m in bands for q in m.tolist() if q < p and q in chunk.banded and chunk.docs[q].id != doc_id}
    prior = index.check(doc_id, fp)  # the index before this chunk: earlier runs and checkpoints
    if not twins and not near:
        return prior  # no document of this chunk is visible to the index's lookups for fp
    if prior is not None and prior.method == "exact":
        return prior  # index rows of earlier checkpoints come first in the index's exact lookup
    if twins:
        return Match(chunk.docs[twins[0][1]].id, "exact", 1.0, EXACT_NOTE)
    if not near or not index._near_eligible(fp):
        return prior
    rows = index._candidates(fp)  # the index's own candidates for fp, capped, with their sketches
    if len(rows) + len(near) > _MAX_CANDIDATES or len(near) >= index.room(fp):
        raise _OverCap  # (the second: a chunk document before fp may have found a shared key full)
    after = max((r[0] for r in rows), default=0) + 1  # chunk rows are inserted after every index row
    for q in sorted(near):
        f: Fingerprint = chunk.docs[q].fingerprint
        rows.append(row_of(after + chunk.seq[q], chunk.docs[q].id, index.run_id, f))
    return index.best_match(doc_id, fp, rows)

