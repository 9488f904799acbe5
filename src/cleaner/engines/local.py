"""The default engine: a local process pool (or the calling process when one worker is asked for).

Per-document budgets are enforced where the work runs: `budget()` arms a wall-clock timer in
the worker and turns an overrun into an InputError, so a pathological page is quarantined
instead of hanging the run. Workers are recycled to contain slow leaks in parsers.
"""

from __future__ import annotations

import contextlib
import fcntl
import gc
import multiprocessing as mp
import multiprocessing.pool
import os
import resource
import signal
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from types import FrameType, TracebackType
from typing import Any, TypeVar

from cleaner.errors import InputError

T = TypeVar("T")
R = TypeVar("R")


def default_workers() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


class _Overrun(BaseException):
    """The alarm of a `budget`. A BaseException, like KeyboardInterrupt: the per-document error
    capture (which quarantines a document on any Exception, as an internal error) must let it
    reach `budget`, which names the input and the budget it overran."""


def _on_alarm(signum: int, frame: FrameType | None) -> None:
    raise _Overrun()


_held = False  # True while `alarms` keeps _on_alarm installed for a batch of budgets


@contextmanager
def alarms(seconds: float) -> Iterator[None]:
    """Keep the alarm handler installed over a batch of `budget` blocks (three a document).
    Installing and restoring it cost ~7 us of a block's ~10 (signal.signal wraps the handler
    it returns in an enum lookup that fails for a function); inside, a block only sets the timer."""
    global _held
    if seconds <= 0 or _held:
        yield
        return
    previous = signal.signal(signal.SIGALRM, _on_alarm)
    _held = True
    try:
        yield
    finally:
        _held = False
        signal.signal(signal.SIGALRM, previous)


@contextmanager
def budget(seconds: float, what: str) -> Iterator[None]:
    """Raise InputError if the block runs longer than `seconds` (main thread only; 0 = no limit)."""
    if seconds <= 0:
        yield
        return
    own = not _held  # outside `alarms`: install the handler for this block alone
    previous = signal.signal(signal.SIGALRM, _on_alarm) if own else None
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    except _Overrun:
        raise InputError(f"timeout: {what} took longer than the {seconds:g}s budget") from None
    finally:
        try:
            signal.setitimer(signal.ITIMER_REAL, 0)
        except _Overrun:  # the alarm came as the block ended: it finished, so let it be
            pass
        if own:
            signal.signal(signal.SIGALRM, previous)


def _address_space() -> int:
    """Bytes of virtual memory this process maps now (VmSize), 0 where /proc is missing."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def limit_memory(budget_mb: int) -> tuple[int, int] | None:
    """Let this process grow by at most `budget_mb` beyond what it maps now.

    Past the limit an allocation fails with MemoryError, which the pipeline turns into a
    quarantined document ("out of memory") instead of the kernel killing the whole run.
    Returns the previous limits to restore, or None when no limit was set.
    """
    now = _address_space()
    if budget_mb <= 0 or now == 0:
        return None
    previous = resource.getrlimit(resource.RLIMIT_AS)
    soft = now + budget_mb * 1024 * 1024
    hard = previous[1]
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
    return previous


def _init_worker(budget_mb: int) -> None:
    # The parent handles Ctrl-C and SIGTERM and tears the pool down; workers just stop. The
    # parent's SIGTERM handler (inherited through fork) would make a worker that the pool
    # terminates raise and print a traceback: the default action ends it quietly.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    limit_memory(budget_mb)


_PIPE_BUFFER = 1 << 20
# Tasks (batches of 32 documents, each half of the pipeline a task) a worker runs before a fresh
# one replaces it, to contain slow leaks in parsers. Not fewer: a fresh worker is forked from a
# parent that has grown (page tables copied, its line memos empty again). On the 20k corpus with
# 2 workers, 500 (a restart per worker) against none: tree RSS 648 against 516 MB, largest
# process 224 against 206 MB, CPU 1.6-2.5% more (two alternating pairs); without restarts the
# workers' RSS stayed flat, so 2000 (~32k documents a worker) keeps the guard at a low price.
TASKS_PER_WORKER = 2000


def _pipe_buffer_bytes() -> int:
    """1 MiB, or the most an unprivileged process may ask for when that is less (Linux)."""
    try:
        with open("/proc/sys/fs/pipe-max-size", encoding="ascii") as fh:
            return min(_PIPE_BUFFER, int(fh.read()))
    except (OSError, ValueError):
        return _PIPE_BUFFER


class _Pool(multiprocessing.pool.Pool):
    """Pool whose worker-maintenance thread sleeps until a worker exits or the pool changes.

    The stock pool also wakes that thread whenever a result waits in the result pipe. While
    the parent is busy writing (holding the GIL), results wait there, and the thread spun on
    it: about 1.2 s of parent CPU (and GIL hand-offs) per 5000 documents with 2 workers.
    Worker exits have their own sentinels and close/terminate and an emptied task cache
    signal the change notifier, so results are not needed to wake it.
    """

    def _setup_queues(self) -> None:
        """The task and result pipes with a 1 MiB buffer instead of 64 KiB. A result message
        (a batch's cleaned documents with their records) is ~0.7 MB: through a 64 KiB pipe it
        crosses in a dozen write/wake/read rounds, each a context switch on both sides. One
        round instead: 400 such messages each way cost 0.43-0.48 s of parent CPU instead of
        0.84-0.93 s, and 0.36-0.41 s wall instead of 0.78-0.90 (2 workers). Where the system
        refuses (another OS, a lower pipe-max-size) the pipes stay as they are."""
        super()._setup_queues()  # type: ignore[misc]
        size = _pipe_buffer_bytes()
        for queue in (self._inqueue, self._outqueue):  # type: ignore[attr-defined]
            for end in (queue._reader, queue._writer):
                with contextlib.suppress(OSError, AttributeError, ValueError):
                    fcntl.fcntl(end.fileno(), fcntl.F_SETPIPE_SZ, size)  # type: ignore[attr-defined]

    def _get_sentinels(self) -> list[Any]:
        notifier = getattr(self, "_change_notifier", None)
        if notifier is None:  # a Python whose Pool differs: keep its own behaviour
            return super()._get_sentinels()  # type: ignore[misc, no-any-return]
        return [notifier._reader]


class LocalEngine:
    """`map` keeps input order, so decisions downstream are deterministic whatever the worker count."""

    def __init__(self, workers: int, memory_mb: int = 0) -> None:
        self.workers = workers if workers > 0 else default_workers()
        self.memory_mb = memory_mb
        self._pool: Any = None
        self._restore: tuple[int, int] | None = None
        self._thresholds: tuple[int, ...] = gc.get_threshold()

    def __enter__(self) -> LocalEngine:
        # Everything alive now (the warm-up: rule tables, OpenCC, the language model) lives for
        # the whole run: freezing it keeps the garbage collector from walking it again and
        # again and, in forked workers, from touching (copying) its pages: 4-8% less CPU with
        # 2 workers, ~4% with one, on 5k documents (CPython's advice for fork without exec).
        gc.collect()
        gc.freeze()
        # A document allocates thousands of short-lived containers (edits, lines, tuples) and
        # frees them again; collecting every 700 net allocations mostly rescans survivors.
        # 50,000 took the collector's time over 5k documents from 0.51 to 0.14 s, peak RSS
        # unchanged (212-213 MB). Forked workers inherit it; `__exit__` puts it back.
        self._thresholds = gc.get_threshold()
        gc.set_threshold(50_000, 20, 10)
        if self.workers > 1:
            ctx = mp.get_context("fork") if hasattr(os, "fork") else mp.get_context()
            self._pool = _Pool(self.workers, initializer=_init_worker, initargs=(self.memory_mb,),
                               maxtasksperchild=TASKS_PER_WORKER, context=ctx)
        else:  # one worker: the work runs here, so the budget applies to this process for the run
            self._restore = limit_memory(self.memory_mb)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._restore is not None:
            resource.setrlimit(resource.RLIMIT_AS, self._restore)
            self._restore = None
        gc.unfreeze()  # a library caller's next run (or test) collects as usual
        gc.set_threshold(*self._thresholds)
        if self._pool is not None:
            if exc_type is None:
                self._pool.close()
            else:
                self._pool.terminate()
            self._pool.join()
            self._pool = None

    @property
    def in_process(self) -> bool:
        """True when `map` runs the work here (one worker): nothing needs pickling."""
        return self._pool is None

    def map(self, fn: Callable[[T], R], items: Iterable[T]) -> Iterator[R]:
        if self._pool is None:
            return map(fn, items)
        return self._pool.imap(fn, items, chunksize=1)
