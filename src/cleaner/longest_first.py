"""keep = "longest" over a whole run: cleaned documents wait on disk, then reach the writer longest first.

The writer keeps the first copy of a text it is handed (`DedupIndex`: a later copy is the
duplicate of a kept one). Handing it a run's documents longest first therefore keeps the
longest copy that the run brings, wherever in the run its copies arrive. That needs every
document of the run cleaned before the first one is written, so the cleaned documents (with
the outputs their workers built) are pickled to a spool file in the state folder as they
come (deflated: about twice the input's size on disk). Memory stays small: here a sort key,
an offset, a size and an input a document, 32 bytes. Once the last chunk is cleaned the spool
is read back in order, a pipeline step at a time, and each step goes to
`checkpoint.write_step` as in a keep="first" run.

Crashes: one before the spool is read back has written nothing (the next run removes the
file and cleans the inputs again); one while it is read back leaves committed checkpoints as
any run does, and the next run cleans what its unfinished inputs still hold. A copy kept in an
earlier run stays kept: an archived document is never un-archived.
"""

from __future__ import annotations

import contextlib
import pickle
import tempfile
from array import array
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import numpy as np
from isal import isal_zlib

from cleaner.checkpoint import PendingInput, Ready
from cleaner.document import Document
from cleaner.sinks.packed import Packed
from cleaner.stages.dedup import Fingerprint, order_key

_SUFFIX = ".longest-first.spool"
# ISA-L level 1: a pickled document (its input bytes, the records and lines its worker built)
# shrinks from ~4.5x its input's size to ~2.2x, at ~20 us of the writer's time a document
_LEVEL = 1


def sort_key(doc: Document, packed: Packed | None) -> int:
    """`order_key` (longest first), also for documents whose text stayed in the worker (their
    length came along); a copy of an earlier input (not cleaned: no text of its own) after
    every cleaned document, so that its first copy is always decided before it."""
    if doc.copy_of is not None:
        return 1
    if packed is None or isinstance(doc.fingerprint, Fingerprint):
        return order_key(doc)
    return -packed.chars


class LongestFirst:
    """The run's cleaned documents, spooled in arrival order, handed back longest first."""

    def __init__(self, state: Path | None, run_id: str) -> None:
        """`state`: the run's state folder (the run lock held); None for a dry run, which writes
        nothing there: an unnamed temporary file then."""
        self.path: Path | None = None
        if state is None:
            self._fh: BinaryIO = tempfile.TemporaryFile()  # noqa: SIM115 (closed by `close`)
        else:
            for stale in state.glob(f"*{_SUFFIX}"):  # a crashed run's
                stale.unlink()
            self.path = state / f"{run_id}{_SUFFIX}"
            self._fh = open(self.path, "w+b")  # noqa: SIM115 (closed by `close`)
        # per spooled document, in arrival order
        self._keys, self._offsets, self._sizes, self._of = array("q"), array("q"), array("q"), array("q")
        self._owners: list[PendingInput] = []
        self._index: dict[int, int] = {}  # id(PendingInput) -> position in _owners
        self._left: list[int] = []  # spooled documents of each owner not handed back yet

    def add(self, ready: Ready) -> int:
        """Spool a cleaned chunk's documents; returns how many."""
        owners = {d.id: p for p, d in ready.chunk}
        for p in ready.finished:  # (an input may have no document left to spool)
            self._owner(p)
        for doc in ready.docs:
            pk = ready.packed.get(doc.id)
            blob = isal_zlib.compress(pickle.dumps((doc, pk), protocol=pickle.HIGHEST_PROTOCOL), _LEVEL)
            k = self._owner(owners[doc.id])
            self._keys.append(sort_key(doc, pk))
            self._offsets.append(self._fh.tell())
            self._sizes.append(len(blob))
            self._of.append(k)
            self._fh.write(blob)
            self._left[k] += 1
        return len(ready.docs)

    def _owner(self, pending: PendingInput) -> int:
        k = self._index.get(id(pending))
        if k is None:
            k = self._index[id(pending)] = len(self._owners)
            self._owners.append(pending)
            self._left.append(0)
        return k

    def steps(self, size: int) -> Iterator[tuple[Ready, bool]]:
        """The spooled documents longest first (ties in arrival order), `size` a step, each with
        whether it is the last. An input is finished in the step that holds its last document;
        one with none (all committed by a crashed run, or none at all) in the first step."""
        self._fh.flush()
        order = np.argsort(np.frombuffer(self._keys, dtype=np.int64), kind="stable")
        finished = [p for p, left in zip(self._owners, self._left) if left == 0]
        for start in range(0, max(len(order), 1), size):
            chunk: list[tuple[PendingInput, Document]] = []
            docs: list[Document] = []
            packed: dict[str, Packed] = {}
            for i in order[start : start + size].tolist():
                k = self._of[i]
                self._fh.seek(self._offsets[i])
                doc, pk = pickle.loads(isal_zlib.decompress(self._fh.read(self._sizes[i])))
                chunk.append((self._owners[k], doc))
                docs.append(doc)
                if pk is not None:
                    packed[doc.id] = pk
                self._left[k] -= 1
                if self._left[k] == 0:
                    finished.append(self._owners[k])
            yield Ready(chunk, finished, docs, packed), start + size >= len(order)
            finished = []

    def close(self) -> None:
        """Remove the spool (also after an error: what it held is cleaned again next run)."""
        with contextlib.suppress(OSError):
            self._fh.close()
        if self.path is not None:
            with contextlib.suppress(OSError):
                self.path.unlink()
