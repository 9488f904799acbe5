"""`cleaner run`: the parent process, the single writer.

Flow per chunk of documents: read inputs -> workers `prepare` -> count site lines (templates)
-> workers `finish` -> dedup decisions against the persistent index -> write clean/ and
archive/ -> publish files (fsync + rename) -> commit the ledger. The ledger commit comes last,
so a crash anywhere leaves either a committed chunk or files that recovery removes: every input
is handled exactly once.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import secrets
import signal
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any

from cleaner import sources
from cleaner.config import Config
from cleaner.document import Document, Outcome, Source, document_id
from cleaner.engines.local import LocalEngine
from cleaner.errors import FatalError, UsageError
from cleaner.observe import LOG, Progress, RunSummary
from cleaner.pipeline import FinishTask, bind, finish_batch, prepare_batch, site_of, warm_up
from cleaner.recovery import recover, rollback_files
from cleaner.sinks.corpus import CorpusWriter
from cleaner.sinks.warc import ArchiveWriter, RecordRef
from cleaner.stages.dedup import order_key
from cleaner.state.dedup_index import DedupIndex, Match
from cleaner.state.ledger import Ledger, readonly_uri
from cleaner.state.lock import StateLock
from cleaner.state.templates import TemplateStats, line_keys

BATCH_DOCS = 32  # documents per worker task
PIPELINE_DOCS = 256  # documents per pipeline step: small, so writing overlaps the workers' cleaning


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


@dataclass
class PendingInput:
    """An input whose documents are in flight; committed when its last document is."""

    file: sources.InputFile | sources.Rejected
    sha256: str
    docs: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    skipped: int = 0  # records that are not articles (requests, images, redirects...)


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
        todo = _discover(paths, ledger, summary)
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
    ledger = Ledger(tmp)
    _orig_close = ledger.close

    def close() -> None:
        _orig_close()
        shutil.rmtree(tmp, ignore_errors=True)

    ledger.close = close  # type: ignore[method-assign]
    return ledger


def _discover(paths: Paths, ledger: Ledger, summary: RunSummary) -> list[PendingInput]:
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
        try:
            sha = sources.sha256_file(item.path)
        except OSError as err:
            summary.inputs_new += 1
            todo.append(PendingInput(file=sources.Rejected(item.rel, f"unreadable: {err.strerror}"),
                                     sha256=f"rejected:unreadable: {err.strerror}"))
            continue
        if ledger.known_by_hash(item.rel, sha):
            ledger.touch_input(item.rel, sha, item.size, item.mtime_ns)
            summary.inputs_skipped += 1
            continue
        summary.inputs_new += 1
        todo.append(PendingInput(file=item, sha256=sha))
    ledger.commit()
    return todo


def _documents(todo: list[PendingInput], cfg: Config) -> Iterator[tuple[PendingInput, Document | None]]:
    """Every document of every new input, then (input, None) once the input is exhausted."""
    for pending in todo:
        f = pending.file
        if isinstance(f, sources.Rejected):
            src = Source(path=f.rel, sha256=pending.sha256)
            doc = Document(id=document_id(pending.sha256, None, f.rel), source=src, raw=b"")
            yield pending, doc.quarantine("read", f.reason)
        else:
            reader = sources.Reader(f, pending.sha256, cfg.run.max_input_bytes)
            for doc in reader:
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
    bar = Progress(len(todo), enabled=progress, every_s=cfg.run.progress_every_s)
    stamp = now.strftime("%Y%m%d%H%M%S")
    warm_up(cfg)
    engine = _engine(cfg)
    kept_refs: dict[str, RecordRef] = {}
    try:
        with engine:
            size = max(1, min(cfg.run.checkpoint_docs, PIPELINE_DOCS))
            chunks = _chunks(_documents(todo, cfg), size)
            current = _start_chunk(engine, cfg, ledger, next(chunks, None))
            ready: Ready | None = None  # the previous chunk, cleaned, waiting to be written
            cp: Checkpoint | None = None
            # A pipeline over small chunks: while the parent (the single writer) writes chunk i-1,
            # the workers finish chunk i and prepare chunk i+1. Outputs are published and the
            # ledger committed every checkpoint_docs documents. Template counts of chunk i are
            # taken before chunk i-1 is written, so a crash can count some pages twice on the
            # rerun: the counts are evidence for strip, not outputs.
            try:
                while current is not None:
                    chunk, finished, preparing = current
                    work = _flatten(preparing)
                    snapshot = _count_templates(templates, work) if cfg.enabled("strip") else None
                    finishing = engine.map(bind(finish_batch, cfg),
                                           [FinishTask(b, snapshot) for b in _batches(work)])
                    upcoming = _start_chunk(engine, cfg, ledger, next(chunks, None))
                    del work
                    if ready is not None:
                        cp = _write_chunk(cfg, paths, ledger, index, engine, ready, summary, stamp, kept_refs,
                                          bar, cp, last=False, dry_run=dry_run)
                    ready = Ready(chunk, finished, _flatten(finishing))
                    current = upcoming
                if ready is not None:
                    cp = _write_chunk(cfg, paths, ledger, index, engine, ready, summary, stamp, kept_refs,
                                      bar, cp, last=True, dry_run=dry_run)
            except BaseException:
                if cp is not None:
                    cp.abort()
                raise
    finally:
        bar.close()


Chunk = tuple[list[tuple[PendingInput, Document]], list[PendingInput]]


@dataclass
class Ready:
    """A chunk whose documents are cleaned and fingerprinted: the parent decides and writes it."""

    chunk: list[tuple[PendingInput, Document]]
    finished: list[PendingInput]  # inputs whose last document is in this chunk
    docs: list[Document]


def _write_chunk(
    cfg: Config, paths: Paths, ledger: Ledger, index: DedupIndex, engine: Any, ready: Ready,
    summary: RunSummary, stamp: str, kept_refs: dict[str, RecordRef], bar: Progress,
    cp: Checkpoint | None, *, last: bool, dry_run: bool,
) -> Checkpoint | None:
    """Dedup decisions in arrival order into the open checkpoint; when it holds checkpoint_docs
    documents (or the run ends): outputs published, then one ledger commit."""
    done = {d.id: d for d in ready.docs}
    owners = {d.id: p for p, d in ready.chunk}
    ordered = [done[d.id] for _, d in ready.chunk if d.id in done]
    if cfg.dedup.keep == "longest":
        ordered.sort(key=order_key)  # stable: arrival order among equals
    planner = getattr(engine, "dedup_plan", None)  # the Ray engine's band shuffle
    plan = planner(index, ordered) if planner is not None and cfg.enabled("dedup") else None
    if cp is None:
        cp = Checkpoint(cfg, paths, summary, stamp, dry_run=dry_run)
    try:
        _decide_and_write(cfg, ledger, index, ordered, owners, summary, kept_refs, cp, plan=plan)
        cp.finished.extend(ready.finished)
        if not last and cp.docs < cfg.run.checkpoint_docs:
            return cp
        cp.publish(ledger, summary)
    except BaseException:
        cp.abort()
        raise
    _commit_inputs(ledger, cp.finished, summary)
    index.flush()
    if not dry_run:
        ledger.commit()
        kept_refs.clear()  # committed: later duplicates find their originals in the ledger
    bar.advance(len(cp.finished))
    return None


def _start_chunk(
    engine: Any, cfg: Config, ledger: Ledger, item: Chunk | None
) -> tuple[list[tuple[PendingInput, Document]], list[PendingInput], Any] | None:
    """Hand a chunk's new documents to the workers (a process pool starts on them at once)."""
    if item is None:
        return None
    chunk, finished = item
    already = _already_done(ledger, chunk)
    work = [d for _, d in chunk if d.id not in already]
    return chunk, finished, engine.map(bind(prepare_batch, cfg), _batches(work))


def _engine(cfg: Config) -> Any:
    """LocalEngine or RayEngine: same context-manager and ordered `map` contract."""
    if cfg.run.engine == "ray":
        from cleaner.engines.ray import RayEngine

        return RayEngine(cfg.run.workers, cfg.run.ray_address)
    return LocalEngine(cfg.run.workers, cfg.run.worker_memory_mb)


def _already_done(ledger: Ledger, chunk: list[tuple[PendingInput, Document]]) -> set[str]:
    """Documents a crashed run already committed (their input was not): never written twice,
    but counted for their input with the outcome they got then."""
    out = set()
    for pending, d in chunk:
        row = ledger.document(d.id)
        if row is not None:
            out.add(d.id)
            pending.outcomes[row["outcome"]] = pending.outcomes.get(row["outcome"], 0) + 1
            pending.docs += 1
    return out


def _batches(docs: list[Document]) -> list[list[Document]]:
    return [docs[i : i + BATCH_DOCS] for i in range(0, len(docs), BATCH_DOCS)]


def _flatten(batches: Any) -> list[Document]:
    return [d for batch in batches for d in batch]


def _count_templates(templates: TemplateStats, docs: list[Document]) -> Any:
    pages = []
    for d in docs:
        if d.outcome is Outcome.CLEAN and d.text:
            pages.append((site_of(d), d.template_keys if d.template_keys is not None else line_keys(d.text)))
            d.template_keys = None  # counted: no need to ship them back to a worker
    templates.add_pages(pages)
    wanted: dict[str, set[int]] = {}
    for site, keys in pages:
        wanted.setdefault(site, set()).update(keys)
    return templates.snapshot(wanted, wanted)


class Checkpoint:
    """What was written since the last ledger commit: open output files, their ledger rows and the
    inputs whose last document is among them. `publish` makes the files durable and records them;
    the caller then commits. `abort` leaves nothing behind."""

    def __init__(self, cfg: Config, paths: Paths, summary: RunSummary, stamp: str, *, dry_run: bool) -> None:
        self.archive = None if dry_run else ArchiveWriter(
            paths.archive, cfg.archive, summary.run_id, cfg.sha256(),
            json.dumps(cfg.to_dict(), ensure_ascii=False, sort_keys=True),
        )
        self.corpus = None if dry_run else CorpusWriter(paths.clean, cfg.corpus, stamp)
        self.rows: list[dict[str, Any]] = []
        self.finished: list[PendingInput] = []
        self.docs = 0

    def publish(self, ledger: Ledger, summary: RunSummary) -> None:
        if self.archive is not None and self.corpus is not None:
            files = [p.name for p in self.archive.close()]
            clean_files = [p.name for p in self.corpus.close()]
            ledger.record_files(files, summary.run_id, "archive")
            ledger.record_files(clean_files, summary.run_id, "corpus")
            summary.files.extend(files + clean_files)
        for row in self.rows:
            ledger.record_document(row)

    def abort(self) -> None:
        # closing a file flushes its buffer, which fails again on a full disk: the caller's
        # rollback removes whatever an abort leaves behind
        for writer in (self.archive, self.corpus):
            if writer is not None:
                with contextlib.suppress(OSError):
                    writer.abort()


def _decide_and_write(
    cfg: Config, ledger: Ledger, index: DedupIndex, docs: list[Document], owners: dict[str, PendingInput],
    summary: RunSummary, kept_refs: dict[str, RecordRef], cp: Checkpoint,
    *, plan: list[Match | None] | None = None,
) -> None:
    """`plan`: dedup decisions per position, made ahead by the engine (else asked of the index here)."""
    archive, corpus = cp.archive, cp.corpus
    for pos, doc in enumerate(docs):
        pending = owners[doc.id]
        summary.documents += 1
        if doc.outcome is Outcome.CLEAN and cfg.enabled("dedup") and doc.fingerprint is not None:
            match = plan[pos] if plan is not None else index.check(doc.id, doc.fingerprint)
            if match is not None:
                doc.outcome = Outcome.DUPLICATE
                doc.duplicate_of = match.duplicate_of
                doc.similarity = match.similarity
                doc.dedup_method = match.method
            else:
                index.add(doc.id, doc.fingerprint)
        for e in doc.edits:
            if e.action == "remove" and e.stage in ("strip", "extract"):
                summary.rules[f"{e.stage}:{e.rule}"] += 1
        refs = None
        shard = None
        if archive is not None and corpus is not None:
            if doc.outcome is Outcome.CLEAN:
                refs = archive.write_article(doc)
                shard = corpus.write(doc, {"warc_record_id": refs.text.record_id if refs.text else None})
                if refs.raw is not None:
                    kept_refs[doc.id] = refs.raw
            elif doc.outcome is Outcome.DUPLICATE:
                original = kept_refs.get(doc.duplicate_of or "") or _ref_from_ledger(ledger, doc.duplicate_of)
                refs = archive.write_duplicate(doc, original)
            else:
                refs = archive.write_quarantined(doc)
        outcome = doc.outcome.value
        pending.outcomes[outcome] = pending.outcomes.get(outcome, 0) + 1
        pending.docs += 1
        if doc.outcome is Outcome.CLEAN:
            summary.clean += 1
        elif doc.outcome is Outcome.DUPLICATE:
            summary.duplicates += 1
        else:
            summary.quarantined += 1
            where = doc.source.path + (f" {doc.source.member}" if doc.source.member else "")
            summary.problems.append({"path": where, "problem": doc.problem or "?"})
            pending.problems.append(doc.problem or "?")
            LOG.warning("quarantined %s: %s", where, doc.problem,
                        extra={"event": "quarantined", "path": where, "reason": doc.problem})
        cp.rows.append(_document_row(doc, summary.run_id, refs, shard))
    cp.docs += len(docs)


def _ref_from_ledger(ledger: Ledger, doc_id: str | None) -> RecordRef:
    row = ledger.document(doc_id or "")
    if row is None or not row.get("raw_json"):
        raise FatalError(f"ledger lists no raw record for kept document {doc_id}: state is inconsistent")
    return RecordRef(**json.loads(row["raw_json"]))


def _document_row(doc: Document, run_id: str, refs: Any, shard: str | None) -> dict[str, Any]:
    rules: dict[str, int] = {}
    for e in doc.edits:
        key = f"{e.stage}:{e.rule}"
        rules[key] = rules.get(key, 0) + 1

    def ref(r: RecordRef | None) -> str | None:
        return json.dumps(dataclasses.asdict(r)) if r is not None else None

    return {
        "doc_id": doc.id, "input_path": doc.source.path, "input_sha256": doc.source.sha256,
        "member": doc.source.member, "run_id": run_id, "outcome": doc.outcome.value,
        "problem": doc.problem, "duplicate_of": doc.duplicate_of, "method": doc.dedup_method,
        "similarity": doc.similarity, "url": doc.url or doc.source.url, "title": doc.title,
        "lang": doc.language, "site": site_of(doc), "chars": len(doc.text),
        "raw_json": ref(refs.raw) if refs else None, "text_json": ref(refs.text) if refs else None,
        "meta_json": ref(refs.metadata) if refs else None, "shard": shard,
        "edits_json": json.dumps(rules, ensure_ascii=False),
    }


def _commit_inputs(ledger: Ledger, finished: list[PendingInput], summary: RunSummary) -> None:
    for p in finished:
        summary.records_skipped += p.skipped
        f = p.file
        if isinstance(f, sources.Rejected):
            ledger.record_input(f.rel, p.sha256, 0, 0, summary.run_id, "quarantined", f.reason, p.docs)
            continue
        kinds = [k for k, n in p.outcomes.items() if n]
        outcome = kinds[0] if len(kinds) == 1 else ("mixed" if kinds else "empty")
        ledger.record_input(f.rel, p.sha256, f.size, f.mtime_ns, summary.run_id, outcome,
                            "; ".join(p.problems[:3]) or None, p.docs)


def _write_quarantine_report(state: Path, summary: RunSummary) -> None:
    if not summary.problems:
        return
    with open(state / "quarantine.jsonl", "a", encoding="utf-8") as fh:
        for p in summary.problems:
            fh.write(json.dumps({"run": summary.run_id, **p}, ensure_ascii=False) + "\n")
        fh.flush()
        os.fsync(fh.fileno())
