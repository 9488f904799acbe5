"""`cleaner run`: the parent process: lock, recovery, discovery, and the pipeline over steps.

Per step of documents: read inputs -> workers `prepare` -> count site lines (templates) ->
workers `finish` -> checkpoint.write_step: dedup decisions, clean/ and archive/ records, and at
each checkpoint publish (fsync + rename) then commit the ledger. The commit comes last, so a
crash anywhere leaves a committed checkpoint or files that recovery removes: every input is
handled exactly once.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import sqlite3
import time
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from types import FrameType
from typing import Any

from cleaner import sources
from cleaner.config import Config
from cleaner.document import Document, Source, document_id
from cleaner.engines.local import LocalEngine
from cleaner.errors import FatalError, UsageError
from cleaner.observe import LOG, Progress, RunSummary
from cleaner.pipeline import Sealed, finish_and_pack, prepare_and_seal, warm_up
from cleaner.checkpoint import Checkpoint, PendingInput, Ready, write_step
from cleaner.longest_first import LongestFirst
from cleaner.sinks.packed import Packed, PackSpec
from cleaner.recovery import recover, rollback_files
from cleaner.sinks.warc import RecordRef, fold_indexes
from cleaner.state.copies import Copies
from cleaner.state.dedup_index import DedupIndex
from cleaner.state.keyfilter import FILTER_SUFFIX
from cleaner.state.ledger import Ledger, readonly_uri
from cleaner.state.lock import StateLock
from cleaner.state.templates import TemplateStats

BATCH_DOCS = 32  # documents per worker task
PREPARE_AHEAD = 2  # chunks handed to the workers' first half before the parent needs them
PIPELINE_DOCS = 256  # documents per pipeline step: small, so writing overlaps the workers' cleaning
SMALL_RUN_INPUTS = 64  # up to this many new inputs ...
SMALL_RUN_BYTES = 512 * 1024  # ... of this many bytes in all are cleaned in-process (`_small_run`)


class Interrupted(BaseException):
    """SIGTERM/SIGINT. A BaseException, like KeyboardInterrupt, so that the per-document error
    capture (which quarantines a document on any Exception) never swallows a stop request."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


@dataclass
class Paths:
    input: Path
    clean: Path
    archive: Path
    state: Path

    @classmethod
    def of(cls, cfg: Config) -> Paths:
        p = cls(Path(cfg.run.input), Path(cfg.run.clean), Path(cfg.run.archive), Path(cfg.run.state))
        if not p.input.is_dir():
            raise UsageError(f"input folder not found: {p.input}")
        resolved = {k: v.resolve() for k, v in vars(p).items()}
        for name in ("clean", "archive", "state"):
            if resolved[name] == resolved["input"]:
                raise UsageError(f"the {name} folder must not be the input folder ({p.input})")
        return p


def run(cfg: Config, *, dry_run: bool = False, progress: bool = True) -> RunSummary:
    paths = Paths.of(cfg)
    if dry_run:
        return _run_locked(cfg, paths, dry_run=True, progress=progress)
    with StateLock(paths.state):
        return _run_locked(cfg, paths, dry_run=False, progress=progress)


def _run_locked(cfg: Config, paths: Paths, *, dry_run: bool, progress: bool) -> RunSummary:
    started = time.monotonic()
    now = datetime.now(UTC)
    run_id = now.strftime("%Y%m%d%H%M%S") + "-" + secrets.token_hex(3)
    summary = RunSummary(run_id=run_id, dry_run=dry_run)
    ledger = Ledger(paths.state, readonly=False) if not dry_run else _scratch_ledger(paths)
    try:
        if not dry_run:
            for line in recover(ledger, paths.archive, paths.clean):
                LOG.warning(line, extra={"event": "recovery"})
        todo = _discover(paths, ledger, summary, cfg.run.max_input_bytes)
        if not todo and not summary.problems:
            summary.seconds = time.monotonic() - started
            return summary
        run_number = ledger.start_run(run_id, cfg.sha256(), json.dumps(cfg.to_dict(), ensure_ascii=False))
        previous = {s: signal.signal(s, _raise_interrupted) for s in (signal.SIGTERM, signal.SIGINT)}
        try:
            _process(cfg, paths, ledger, todo, summary, now, run_number, dry_run=dry_run, progress=progress)
        except Interrupted:
            _abandon(ledger, paths, run_id, "interrupted", summary, dry_run=dry_run)
            raise
        except (OSError, sqlite3.DatabaseError) as err:
            _abandon(ledger, paths, run_id, "failed", summary, dry_run=dry_run)
            raise FatalError(f"cannot write outputs: {err}; nothing of the unfinished part was kept, "
                             "the archive is as the last finished checkpoint left it") from None
        finally:
            for s, h in previous.items():
                signal.signal(s, h)
        if not dry_run:
            _fold_indexes(paths.archive)
        summary.seconds = time.monotonic() - started
        ledger.finish_run(run_id, "done", summary.to_dict())
        if not dry_run:
            _write_quarantine_report(paths.state, summary)
        return summary
    except sqlite3.DatabaseError as err:  # e.g. "database or disk is full" before any output was written
        raise FatalError(f"cannot use the ledger {ledger.path}: {err}") from None
    except OSError as err:
        raise FatalError(f"cannot prepare the run: {err}") from None
    finally:
        ledger.close()


def _abandon(ledger: Ledger, paths: Paths, run_id: str, status: str, summary: RunSummary, *, dry_run: bool) -> None:
    """Undo the unfinished checkpoint at once, so the archive stays valid until the next run;
    if that fails too (the disk is still full), the next run's recovery finishes the job."""
    try:
        ledger.rollback()
        if not dry_run:
            rollback_files(ledger, paths.archive, paths.clean, [run_id])
        ledger.finish_run(run_id, status, summary.to_dict())
    except (OSError, sqlite3.DatabaseError) as err:
        LOG.error("could not clean up after the failed run (%s); the next run will", err,
                  extra={"event": "recovery"})


def _fold_indexes(archive: Path) -> None:
    """One merge of the run's index segments into index.cdxj/text.cdxj. Everything is committed
    by now and the segments are valid indexes themselves, so a failure only postpones the fold."""
    try:
        fold_indexes(archive)
    except OSError as err:
        LOG.warning("index segments left unfolded (%s); the next run folds them", err, extra={"event": "index-fold"})


def _raise_interrupted(signum: int, frame: FrameType | None) -> None:
    raise Interrupted(signum)


def _scratch_ledger(paths: Paths) -> Ledger:
    """Dry runs read the real ledger (to know what is done) but never write it: work on a copy."""
    import shutil
    import tempfile

    tmp = Path(tempfile.mkdtemp(prefix="cleaner-dry-"))
    src = paths.state / "ledger.sqlite"
    if src.exists():
        import sqlite3

        try:
            with sqlite3.connect(readonly_uri(src), uri=True) as s, sqlite3.connect(tmp / "ledger.sqlite") as d:
                s.backup(d)
        except sqlite3.DatabaseError as err:
            shutil.rmtree(tmp, ignore_errors=True)
            raise FatalError(f"state is unreadable: {src}: {err}") from None
        for cached in src.parent.glob(src.name + FILTER_SUFFIX + "*"):  # the dedup index's key filters
            shutil.copyfile(cached, tmp / cached.name)
    ledger = Ledger(tmp)
    _orig_close = ledger.close

    def close() -> None:
        _orig_close()
        shutil.rmtree(tmp, ignore_errors=True)

    ledger.close = close  # type: ignore[method-assign]
    return ledger


def _discover(paths: Paths, ledger: Ledger, summary: RunSummary, limit: int) -> list[PendingInput]:
    """The inputs to process, in input order. A file with the stat of a finished input is
    skipped here; the others are hashed when they are read (`_resolved`, in the pipeline, where
    the workers are busy meanwhile), but the first ones now: a run starts only when there is
    something new, not for files that were only touched."""
    todo: list[PendingInput] = []
    for item in sources.discover(paths.input):
        summary.inputs_seen += 1
        if isinstance(item, sources.Rejected):
            if ledger.known_by_hash(item.rel, "rejected:" + item.reason):
                summary.inputs_skipped += 1
                continue
            summary.inputs_new += 1
            todo.append(PendingInput(file=item, sha256="rejected:" + item.reason))
            continue
        if ledger.known_by_stat(item.rel, item.size, item.mtime_ns):
            summary.inputs_skipped += 1
            continue
        todo.append(PendingInput(file=item, sha256=""))
    first = 0
    while first < len(todo) and not todo[first].sha256 and not _resolve(todo[first], ledger, summary, limit):
        first += 1
    ledger.commit()
    return todo[first:]


def _resolve(pending: PendingInput, ledger: Ledger, summary: RunSummary, limit: int) -> bool:
    """Read and hash an input whose stat changed; False when it holds the bytes of the input
    finished under its path (touched or copied over: its new stat is remembered)."""
    f = pending.file
    assert isinstance(f, sources.InputFile)
    try:
        pending.sha256, pending.data = sources.hashed(f, limit)
    except OSError as err:
        pending.file = sources.Rejected(f.rel, f"unreadable: {err.strerror}")
        pending.sha256 = f"rejected:unreadable: {err.strerror}"
        summary.inputs_new += 1
        return True
    if ledger.known_by_hash(f.rel, pending.sha256):
        ledger.touch_input(f.rel, pending.sha256, f.size, f.mtime_ns)
        pending.data = None
        summary.inputs_skipped += 1
        return False
    summary.inputs_new += 1
    return True


def _resolved(
    todo: list[PendingInput], ledger: Ledger, summary: RunSummary, bar: Progress, limit: int
) -> Iterator[PendingInput]:
    """`todo` with every input hashed, those found unchanged left out (and counted as done)."""
    for pending in todo:
        if pending.sha256 or _resolve(pending, ledger, summary, limit):
            yield pending
        else:
            bar.advance()


def _documents(
    todo: Iterable[PendingInput], cfg: Config, copies: Copies | None = None
) -> Iterator[tuple[PendingInput, Document | None]]:
    """Every document of every new input, then (input, None) once the input is exhausted.
    `copies`: marks documents whose input bytes were seen before (not cleaned again)."""
    for pending in todo:
        f = pending.file
        if isinstance(f, sources.Rejected):
            src = Source(path=f.rel, sha256=pending.sha256)
            doc = Document(id=document_id(pending.sha256, None, f.rel), source=src, raw=b"")
            yield pending, doc.quarantine("read", f.reason)
        else:
            reader = sources.Reader(f, pending.sha256, cfg.run.max_input_bytes, pending.data)
            pending.data = None
            for doc in reader:
                if copies is not None:
                    copies.mark(doc)
                yield pending, doc
            pending.skipped = len(reader.skipped)
            for where, why in reader.skipped:
                LOG.debug("skipped %s: %s", where, why, extra={"event": "skipped", "path": where, "reason": why})
            for warning in reader.warnings:
                LOG.warning("%s: %s", f.rel, warning, extra={"event": "input-warning", "path": f.rel})
        yield pending, None


def _chunks(
    stream: Iterator[tuple[PendingInput, Document | None]], size: int
) -> Iterator[tuple[list[tuple[PendingInput, Document]], list[PendingInput]]]:
    docs: list[tuple[PendingInput, Document]] = []
    finished: list[PendingInput] = []
    for pending, doc in stream:
        if doc is None:
            finished.append(pending)
        else:
            docs.append((pending, doc))
        if len(docs) >= size:
            yield docs, finished
            docs, finished = [], []
    if docs or finished:
        yield docs, finished


def _process(
    cfg: Config, paths: Paths, ledger: Ledger, todo: list[PendingInput], summary: RunSummary,
    now: datetime, run_number: int, *, dry_run: bool, progress: bool,
) -> None:
    index = DedupIndex(ledger.conn, cfg.dedup, run_number)
    templates = TemplateStats(ledger.conn)
    copies = Copies(ledger, summary.run_id if cfg.dedup.scope == "run" else None) if cfg.enabled("dedup") else None
    bar = Progress(len(todo), enabled=progress, every_s=cfg.run.progress_every_s)
    stamp = now.strftime("%Y%m%d%H%M%S")
    small = _small_run(cfg, todo)
    if not small:  # forked workers inherit the tables (a small run loads what its documents need)
        warm_up(cfg)
    engine = _engine(cfg, in_process=small)
    kept_refs: dict[str, RecordRef] = {}
    # the workers build clean documents' outputs too (sinks/packed.py): the parent only appends
    spec = None if dry_run else PackSpec(cfg.archive, summary.run_id, cfg.sha256(), cfg.corpus.write_txt)
    finish_fn = partial(finish_and_pack, cfg=cfg, spec=spec)
    try:
        with engine:
            size = max(1, min(cfg.run.checkpoint_docs, PIPELINE_DOCS))
            inputs = _resolved(todo, ledger, summary, bar, cfg.run.max_input_bytes)
            chunks = _chunks(_documents(inputs, cfg, copies), size)
            # two chunks in preparation: while the parent waits for chunk i's preparation and
            # counts its templates, the workers already prepare chunk i+1 instead of idling
            preparing: deque[PreparingChunk] = deque()
            for _ in range(PREPARE_AHEAD):
                _queue_chunk(preparing, engine, cfg, ledger, next(chunks, None))
            ready: Ready | None = None  # the previous chunk, cleaned, waiting to be written
            cp: Checkpoint | None = None
            folders = (paths.archive, paths.clean)
            # keep = "longest": nothing is written until the run's last chunk is cleaned
            longest = cfg.dedup.keep == "longest" and cfg.enabled("dedup")
            hold = LongestFirst(None if dry_run else paths.state, summary.run_id) if longest else None
            # A pipeline over small chunks: while the parent (the single writer) writes chunk i-1,
            # the workers finish chunk i and prepare chunks i+1 and i+2. Outputs are published and
            # the ledger committed every checkpoint_docs documents. Template counts of chunk i are
            # taken before chunk i-1 is written, so a crash can count some pages twice on the
            # rerun: the counts are evidence for strip, not outputs.
            try:
                while preparing:
                    chunk, finished, prepared = preparing.popleft()
                    sealed: list[Sealed] = list(prepared)
                    pages = [page for s in sealed for page in s.pages]
                    snapshot = _count_templates(templates, pages) if cfg.enabled("strip") else None
                    finishing = engine.map(finish_fn, [(s.blob, snapshot) for s in sealed])
                    _queue_chunk(preparing, engine, cfg, ledger, next(chunks, None))
                    del sealed, pages
                    if ready is not None and hold is not None:
                        bar.held(hold.add(ready))
                    elif ready is not None:
                        cp = write_step(cfg, folders, ledger, index, engine, ready, summary, stamp, kept_refs,
                                        bar, cp, last=False, dry_run=dry_run, copies=copies)
                    ready = _ready(chunk, finished, finishing)
                if ready is not None and hold is not None:
                    bar.held(hold.add(ready))
                    for step, last in hold.steps(size):  # longest first
                        cp = write_step(cfg, folders, ledger, index, engine, step, summary, stamp, kept_refs,
                                        bar, cp, last=last, dry_run=dry_run, copies=copies)
                elif ready is not None:
                    cp = write_step(cfg, folders, ledger, index, engine, ready, summary, stamp, kept_refs,
                                    bar, cp, last=True, dry_run=dry_run, copies=copies)
            except BaseException:
                if cp is not None:
                    cp.abort()
                raise
            finally:
                if hold is not None:
                    hold.close()
    finally:
        bar.close()


Chunk = tuple[list[tuple[PendingInput, Document]], list[PendingInput]]
PreparingChunk = tuple[list[tuple[PendingInput, Document]], list[PendingInput], Iterator[Sealed]]


def _queue_chunk(
    preparing: deque[PreparingChunk], engine: Any, cfg: Config, ledger: Ledger, item: Chunk | None
) -> None:
    """Hand a chunk's new documents to the workers (a process pool starts on them at once)."""
    if item is None:
        return
    chunk, finished = item
    already = _already_done(ledger, chunk)
    work = [d for _, d in chunk if d.id not in already]
    seal = not getattr(engine, "in_process", False)
    preparing.append((chunk, finished, engine.map(partial(prepare_and_seal, cfg=cfg, seal=seal), _batches(work))))


def _small_run(cfg: Config, todo: list[PendingInput]) -> bool:
    """A few small inputs and the default worker count: clean them in this process. Starting a
    pool and warming up every table cost more (~0.2 s of a one-document run's 0.7) than the
    second core gives back on this little work; an explicit --workers N is always obeyed."""
    if cfg.run.engine != "local" or cfg.run.workers != 0 or len(todo) > SMALL_RUN_INPUTS:
        return False
    return sum(p.file.size for p in todo if isinstance(p.file, sources.InputFile)) <= SMALL_RUN_BYTES


def _engine(cfg: Config, *, in_process: bool = False) -> Any:
    """LocalEngine or RayEngine: same context-manager and ordered `map` contract."""
    if in_process:
        return LocalEngine(1, cfg.run.worker_memory_mb)
    if cfg.run.engine == "ray":
        from cleaner.engines.ray import RayEngine

        return RayEngine(cfg.run.workers, cfg.run.ray_address)
    return LocalEngine(cfg.run.workers, cfg.run.worker_memory_mb)


def _already_done(ledger: Ledger, chunk: list[tuple[PendingInput, Document]]) -> set[str]:
    """Documents a crashed run already committed (their input was not): never written twice,
    but counted for their input with the outcome they got then."""
    known = ledger.outcomes(d.id for _, d in chunk)
    out = set()
    if not known:
        return out
    for pending, d in chunk:
        outcome = known.get(d.id)
        if outcome is not None:
            out.add(d.id)
            pending.outcomes[outcome] = pending.outcomes.get(outcome, 0) + 1
            pending.docs += 1
    return out


def _ready(chunk: list[tuple[PendingInput, Document]], finished: list[PendingInput], results: Any) -> Ready:
    docs: list[Document] = []
    packed: dict[str, Packed] = {}
    for batch in results:
        for doc, pk in batch:
            docs.append(doc)
            if pk is not None:
                packed[doc.id] = pk
    return Ready(chunk, finished, docs, packed)


def _batches(docs: list[Document]) -> list[list[Document]]:
    return [docs[i : i + BATCH_DOCS] for i in range(0, len(docs), BATCH_DOCS)]


def _count_templates(templates: TemplateStats, pages: list[tuple[str, list[int]]]) -> Any:
    """Count the chunk's pages, then snapshot the counts of their sites' lines for strip."""
    templates.add_pages(pages)
    wanted: dict[str, set[int]] = {}
    for site, keys in pages:
        wanted.setdefault(site, set()).update(keys)
    return templates.snapshot(wanted, wanted)


def _write_quarantine_report(state: Path, summary: RunSummary) -> None:
    if not summary.problems:
        return
    with open(state / "quarantine.jsonl", "a", encoding="utf-8") as fh:
        for p in summary.problems:
            fh.write(json.dumps({"run": summary.run_id, **p}, ensure_ascii=False) + "\n")
        fh.flush()
        os.fsync(fh.fileno())
