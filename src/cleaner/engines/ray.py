"""The Ray engine: the same per-document functions as the local pool, as Ray core tasks.

Core tasks, not Ray Data: the work is "apply a pure function to a batch" plus one band shuffle
per checkpoint, and Ray Data's groupby was 5x slower than tasks for that shuffle
(notes/dedup.md section 3). The parent stays the single writer: `map` returns results in input
order with a bounded number of tasks in flight, and `dedup_plan` returns the decisions of a
checkpoint, computed from a map -> P partitions -> reduce shuffle by band key (see
`cleaner.engines.band_shuffle`), identical to those of the local engine's DedupIndex loop.

Without an address a local Ray instance is started (and stopped at the end); with one, the
engine connects to that cluster, whose nodes must have the same `cleaner` installed. If the
process already holds a Ray connection (a test session, a notebook), it is used and left open.
"""

from __future__ import annotations

import logging
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from types import ModuleType, TracebackType
from typing import Any, TypeVar

from cleaner.document import Document
from cleaner.engines import band_shuffle
from cleaner.engines.local import default_workers
from cleaner.errors import FatalError, UsageError
from cleaner.observe import LOG
from cleaner.state.dedup_index import DedupIndex, Match

T = TypeVar("T")
R = TypeVar("R")

IN_FLIGHT_PER_SLOT = 2  # tasks queued per CPU slot: keeps workers busy, bounds memory in the object store


def _import_ray() -> ModuleType:
    try:
        import ray
    except ImportError:
        raise UsageError('the ray engine needs Ray: pip install "cleaner[ray]"') from None
    return ray


def _apply(fn: Callable[[Any], Any], item: Any) -> Any:
    return fn(item)


def _get(ray: Any, ref: Any) -> Any:
    """A task that failed after Ray's retries (a worker crashed or was killed) ends the run:
    the stage functions quarantine every error of a document, so this is the cluster's fault."""
    try:
        return ray.get(ref)
    except ray.exceptions.RayError as err:
        raise FatalError(f"a Ray task failed: {str(err).splitlines()[0]}") from None


def _ray_log_level() -> int:
    """Ray's own log level: its warnings where ours show (a cron job's `-q` asks for errors only,
    and Ray's start-up warnings are not errors)."""
    return max(logging.WARNING, LOG.getEffectiveLevel())


class RayEngine:
    """Same contract as LocalEngine (context manager, ordered `map`), plus `dedup_plan`."""

    def __init__(self, workers: int, address: str = "") -> None:
        self.workers = workers
        self.address = address
        self.slots = 1
        self._ray: Any = None
        self._owned = False
        self._remote: dict[str, Any] = {}

    def __enter__(self) -> RayEngine:
        ray = _import_ray()
        os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # a cron job phones nobody
        if ray.is_initialized():
            pass  # a connection this process already holds: use it, leave it open
        elif self.address:
            try:
                ray.init(address=self.address, log_to_driver=False, logging_level=_ray_log_level())
            except (ConnectionError, ValueError, RuntimeError) as err:
                raise UsageError(f"cannot connect to the Ray cluster at {self.address}: {err}") from None
            self._owned = True
        else:
            workers = self.workers if self.workers > 0 else default_workers()
            ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False,
                     logging_level=_ray_log_level())
            self._owned = True
        self._ray = ray
        self.slots = max(1, int(ray.cluster_resources().get("CPU", 1)))
        self._remote = {
            "apply": ray.remote(_apply),
            "map_rows": ray.remote(band_shuffle.map_rows),
            "reduce": ray.remote(band_shuffle.reduce_groups),
        }
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._ray is not None and self._owned:
            self._ray.shutdown()  # a local instance stops; a cluster connection is closed
        self._ray = None
        self._remote = {}

    def map(self, fn: Callable[[T], R], items: Iterable[T]) -> Iterator[R]:
        """fn over items as Ray tasks, results in input order, at most 2 tasks per slot in flight."""
        ray = self._ray
        if ray is None:
            raise RuntimeError("RayEngine.map outside its `with` block")
        fn_ref = ray.put(fn)  # the bound config travels once, not with every task
        apply = self._remote["apply"]
        limit = IN_FLIGHT_PER_SLOT * self.slots
        pending: deque[Any] = deque()
        try:
            for item in items:
                pending.append(apply.remote(fn_ref, item))
                if len(pending) >= limit:
                    yield _get(ray, pending.popleft())
            while pending:
                yield _get(ray, pending.popleft())
        finally:
            for ref in pending:  # interrupted or failed: do not leave work running on the cluster
                ray.cancel(ref)

    def dedup_plan(self, index: DedupIndex, docs: list[Document]) -> list[Match | None]:
        """Decisions for one checkpoint, in the order of `docs` (see band_shuffle.plan)."""
        return band_shuffle.plan(index, docs, self.shuffle(index, docs))

    def shuffle(self, index: DedupIndex, docs: list[Document]) -> list[band_shuffle.Groups]:
        """Map tasks emit band rows into P partitions (num_returns=P); P reduce tasks group them."""
        ray = self._ray
        if ray is None:
            raise RuntimeError("RayEngine.shuffle outside its `with` block")
        inputs = band_shuffle.map_inputs(docs, index, self.slots)
        if not inputs:
            return []
        parts = max(2, self.slots)  # num_returns=1 would hand back the list, not its one partition
        mapper = self._remote["map_rows"].options(num_returns=parts)
        outs = [mapper.remote(m, parts) for m in inputs]
        reducer = self._remote["reduce"]
        return _get(ray, [reducer.remote(*(o[p] for o in outs)) for p in range(parts)])
