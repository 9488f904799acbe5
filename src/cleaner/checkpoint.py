"""One checkpoint of a run, written by the parent (the single writer).

Documents arrive cleaned and fingerprinted, a pipeline step at a time. For each, in arrival
order: the dedup decision against the persistent index, the archive and corpus records, a
ledger row. Every `checkpoint_docs` documents the files are published (fsync, rename), and only
then is the ledger committed: a crash leaves a committed checkpoint, or files that recovery
removes and inputs that the next run processes again.
"""

from __future__ import annotations

import contextlib
import json
from json.encoder import encode_basestring_ascii as _json_str
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cleaner import sources
from cleaner.config import Config
from cleaner.document import Document, Outcome
from cleaner.errors import FatalError
from cleaner.observe import LOG, Progress, RunSummary
from cleaner.pipeline import site_of
from cleaner.sinks.corpus import CorpusWriter, rule_counts
from cleaner.sinks.packed import Packed, removed_counts
from cleaner.sinks.warc import ArchiveWriter, RecordRef
from cleaner.state.copies import Copies
from cleaner.state.dedup_index import DedupIndex, Match
from cleaner.state.ledger import Ledger


@dataclass
class PendingInput:
    """An input whose documents are in flight; committed when its last document is."""

    file: sources.InputFile | sources.Rejected
    sha256: str  # "" until the file is read (`runner._resolve`)
    data: bytes | None = field(default=None, repr=False)  # read for the hash, until the Reader takes it
    docs: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    skipped: int = 0  # records that are not articles (requests, images, redirects...)


@dataclass
class Ready:
    """A chunk whose documents are cleaned and fingerprinted: the parent decides and writes it."""

    chunk: list[tuple[PendingInput, Document]]
    finished: list[PendingInput]  # inputs whose last document is in this chunk
    docs: list[Document]
    packed: dict[str, Packed] = field(default_factory=dict)  # doc id -> outputs built by a worker


def write_step(
    cfg: Config, folders: tuple[Path, Path], ledger: Ledger, index: DedupIndex, engine: Any, ready: Ready,
    summary: RunSummary, stamp: str, kept_refs: dict[str, RecordRef], bar: Progress,
    cp: Checkpoint | None, *, last: bool, dry_run: bool, copies: Copies | None = None,
) -> Checkpoint | None:
    """Dedup decisions in arrival order into the open checkpoint; when it holds checkpoint_docs
    documents (or the run ends): outputs published, then one ledger commit."""
    done = {d.id: d for d in ready.docs}
    owners = {d.id: p for p, d in ready.chunk}
    ordered = [done[d.id] for _, d in ready.chunk if d.id in done]  # (keep="longest": see longest_first)
    planner = getattr(engine, "dedup_plan", None)  # the Ray engine's band shuffle
    plan = planner(index, ordered) if planner is not None and cfg.enabled("dedup") else None
    if cp is None:
        cp = Checkpoint(cfg, folders, summary, stamp, dry_run=dry_run)
    try:
        _decide_and_write(cfg, ledger, index, ordered, owners, summary, kept_refs, cp, plan=plan,
                          packed=ready.packed, copies=copies)
        bar.wrote(len(ordered))
        cp.finished.extend(ready.finished)
        if not last and cp.docs < cfg.run.checkpoint_docs:
            return cp
        cp.publish(ledger, summary)
    except BaseException:
        cp.abort()
        raise
    commit_inputs(ledger, cp.finished, summary)
    index.flush()
    if not dry_run:
        ledger.commit()
        kept_refs.clear()  # committed: later duplicates find their originals in the ledger
    if copies is not None:  # (a dry run's rows stay uncommitted, but this connection reads them)
        copies.committed()
    bar.advance(len(cp.finished))
    return None


class Checkpoint:
    """What was written since the last ledger commit: open output files, their ledger rows and the
    inputs whose last document is among them. `publish` makes the files durable and records them;
    the caller then commits. `abort` leaves nothing behind."""

    def __init__(
        self, cfg: Config, folders: tuple[Path, Path], summary: RunSummary, stamp: str, *, dry_run: bool
    ) -> None:
        archive_dir, clean_dir = folders
        self.archive = None if dry_run else ArchiveWriter(
            archive_dir, cfg.archive, summary.run_id, cfg.sha256(),
            json.dumps(cfg.to_dict(), ensure_ascii=False, sort_keys=True),
        )
        self.corpus = None if dry_run else CorpusWriter(clean_dir, cfg.corpus, stamp)
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
        ledger.record_documents(self.rows)

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
    *, plan: list[Match | None] | None = None, packed: dict[str, Packed] | None = None,
    copies: Copies | None = None,
) -> None:
    """`plan`: dedup decisions per position, made ahead by the engine (else asked of the index here).
    `packed`: outputs of clean documents built by the workers (others are built here).
    `copies`: decides documents whose input bytes were seen before, like their first copy."""
    archive, corpus = cp.archive, cp.corpus
    packed = packed or {}
    for pos, doc in enumerate(docs):
        pending = owners[doc.id]
        pk = packed.get(doc.id)
        summary.documents += 1
        if doc.copy_of is not None and copies is not None:
            copies.resolve(doc)
            summary.copies += 1
        if doc.outcome is Outcome.CLEAN and cfg.enabled("dedup") and doc.fingerprint is not None:
            match = plan[pos] if plan is not None else index.check(doc.id, doc.fingerprint)
            if match is not None:
                doc.outcome = Outcome.DUPLICATE
                doc.duplicate_of = match.duplicate_of
                doc.similarity = match.similarity
                doc.dedup_method = match.method
                doc.dedup_note = match.note
            else:
                index.add(doc.id, doc.fingerprint)
        removed = pk.removed if pk is not None else removed_counts(doc).items()
        for key, n in removed:
            summary.rules[key] += n
        refs = None
        shard = None
        if archive is not None and corpus is not None:
            if doc.outcome is Outcome.CLEAN:
                if pk is not None:
                    refs = archive.write_packed(pk.article)
                    shard = corpus.write_line(pk.corpus_line, doc.id, pk.text)
                else:
                    refs = archive.write_article(doc)
                    shard = corpus.write(doc, {"warc_record_id": refs.text.record_id if refs.text else None})
                if refs.raw is not None:
                    kept_refs[doc.id] = refs.raw
            elif doc.outcome is Outcome.DUPLICATE:
                original = kept_refs.get(doc.duplicate_of or "") or _ref_from_ledger(ledger, doc.duplicate_of)
                refs = archive.write_duplicate(doc, original, pk.article[0] if pk is not None else None)
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
        row = _document_row(doc, summary.run_id, refs, shard, pk)
        cp.rows.append(row)
        if copies is not None:
            copies.written(doc, row)
    cp.docs += len(docs)


def _ref_from_ledger(ledger: Ledger, doc_id: str | None) -> RecordRef:
    row = ledger.document(doc_id or "")
    if row is None or not row.get("raw_json"):
        raise FatalError(f"ledger lists no raw record for kept document {doc_id}: state is inconsistent")
    return RecordRef(**json.loads(row["raw_json"]))


def _ref_json(r: RecordRef | None) -> str | None:
    """json.dumps of the RecordRef as a dict, the same text, without building the dict or walking
    the encoder: 2 us instead of 6.5, three a document in the single writer. The strings go
    through the encoder's own escaping (ASCII, as json.dumps writes by default)."""
    if r is None:
        return None
    digest = "null" if r.payload_digest is None else _json_str(r.payload_digest)
    return (f'{{"record_id": {_json_str(r.record_id)}, "filename": {_json_str(r.filename)}, '
            f'"offset": {int(r.offset)}, "length": {int(r.length)}, "date": {_json_str(r.date)}, '
            f'"target_uri": {_json_str(r.target_uri)}, "payload_digest": {digest}}}')


def _document_row(
    doc: Document, run_id: str, refs: Any, shard: str | None, packed: Packed | None = None
) -> dict[str, Any]:
    if packed is not None:
        chars, edits_json = packed.chars, packed.edits_json
    else:
        chars, edits_json = len(doc.text), json.dumps(rule_counts(doc), ensure_ascii=False)
    return {
        "doc_id": doc.id, "input_path": doc.source.path, "input_sha256": doc.source.sha256,
        "member": doc.source.member, "run_id": run_id, "outcome": doc.outcome.value,
        "problem": doc.problem, "duplicate_of": doc.duplicate_of, "method": doc.dedup_method,
        "similarity": doc.similarity, "url": doc.url or doc.source.url, "title": doc.title,
        "lang": doc.language, "site": site_of(doc), "chars": chars,
        "raw_json": _ref_json(refs.raw) if refs else None, "text_json": _ref_json(refs.text) if refs else None,
        "meta_json": _ref_json(refs.metadata) if refs else None, "shard": shard,
        "edits_json": edits_json, "dedup_note": doc.dedup_note,
    }


def commit_inputs(ledger: Ledger, finished: list[PendingInput], summary: RunSummary) -> None:
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
