"""Start-of-run recovery after a crash (kill -9, power loss, full disk).

Invariant: the ledger commits a chunk only after its files are published. So after a crash
there can be (a) `*.open` files: never published, delete; (b) published files that the ledger
does not list: their chunk never committed, so its inputs will be processed again; delete the
files and their index lines. Only files named like ours, stamped no earlier than the start of
an unfinished or failed run and not listed by the ledger are touched: a WARC a user copied into
archive/ earlier is never removed.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from cleaner.sinks.cdxj import index_files
from cleaner.sinks.corpus import publish
from cleaner.sinks.warc import INDEX_NAME, TEXT_INDEX_NAME, cleanup_stale, fold_indexes
from cleaner.state.keyfilter import stale_files
from cleaner.state.ledger import Ledger

_STAMP = re.compile(r"-(\d{14})-\d{5}")


def recover(ledger: Ledger, archive_dir: Path, clean_dir: Path) -> list[str]:
    notes: list[str] = []
    crashed = ledger.unfinished_runs()
    # failed and interrupted runs normally roll back themselves; if that was cut short (the disk
    # still full, a second signal), their uncommitted files are still here: check them too
    rows = ledger.conn.execute("SELECT run_id FROM runs WHERE status IN ('failed', 'interrupted')").fetchall()
    removed, orphans = rollback_files(ledger, archive_dir, clean_dir, [*crashed, *(r[0] for r in rows)])
    if crashed:
        ledger.mark_runs(crashed, "crashed")
        notes.append(
            f"recovered from an unfinished run ({', '.join(crashed)}): removed {removed} unpublished and "
            f"{orphans} uncommitted files; their inputs will be processed again"
        )
    elif orphans:
        notes.append(f"removed {orphans} uncommitted files of failed runs; their inputs will be processed again")
    elif removed:
        notes.append(f"removed {removed} leftover temporary files")
    fold_indexes(archive_dir)  # segments of a run that ended before folding them
    return notes


def rollback_files(ledger: Ledger, archive_dir: Path, clean_dir: Path, run_ids: list[str]) -> tuple[int, int]:
    """Remove temporary files, and the published files of `run_ids` the ledger never committed
    (with their index lines). Only call it holding the state lock. Returns (temporary, orphans)."""
    # A run's files carry the time their checkpoint started (not the run's), so take every file
    # of ours from the earliest of these runs on: runs are serialised by the lock, and the ledger
    # lists every file of a run that finished, so what it does not list belongs to these runs.
    since = min((r.split("-")[0] for r in run_ids), default=None)
    removed = [p.name for p in cleanup_stale(archive_dir)] if archive_dir.exists() else []
    for p in stale_files(ledger.path.parent):  # a dedup key filter's unfinished cache file
        p.unlink()
        removed.append(p.name)
    if clean_dir.exists():
        for p in sorted(clean_dir.rglob("*.open")):
            p.unlink()
            removed.append(p.name)
    orphans: list[Path] = []
    if since is not None:
        committed_archive = ledger.committed_files("archive")
        committed_corpus = ledger.committed_files("corpus")
        for p in sorted(archive_dir.glob("*.warc.gz")) if archive_dir.exists() else []:
            m = _STAMP.search(p.name)
            if m and m.group(1) >= since and p.name not in committed_archive:
                orphans.append(p)
        for p in sorted(clean_dir.glob("part-*.jsonl")) if clean_dir.exists() else []:
            m = re.match(r"part-(\d{14})-", p.name)
            if m and m.group(1) >= since and p.name not in committed_corpus:
                orphans.append(p)
    if orphans:
        names = {p.name for p in orphans}
        _drop_index_lines(archive_dir, names, ledger)
        for p in orphans:
            p.unlink()
    return len(removed), len(orphans)


def _drop_index_lines(archive_dir: Path, filenames: set[str], ledger: Ledger) -> None:
    """Remove index, checksum and page lines of files being deleted, and a checksum or page line
    an append cut short (each file rewritten atomically)."""
    for path in [p for name in (INDEX_NAME, TEXT_INDEX_NAME) for p in index_files(archive_dir / name)]:
        lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
        kept = [ln for ln in lines if _cdxj_filename(ln) not in filenames]
        if not kept and path.name not in (INDEX_NAME, TEXT_INDEX_NAME):
            path.unlink()  # the segment of a checkpoint that never committed
        elif len(kept) != len(lines):
            _rewrite(path, "".join(kept))
    sums = archive_dir / "SHA256SUMS"
    if sums.exists():
        lines, whole = _complete_lines(sums)
        kept = [ln for ln in lines if ln.rstrip("\n").split("  ", 1)[-1] not in filenames]
        if len(kept) != len(lines) or not whole:
            _rewrite(sums, "".join(kept))
    pages = archive_dir / "pages.jsonl"
    if pages.exists():
        lines, whole = _complete_lines(pages)
        kept = []
        for ln in lines:
            try:
                obj = json.loads(ln)
            except ValueError:
                kept.append(ln)
                continue
            if "id" in obj and "url" in obj and ledger.document(obj["id"]) is None:
                continue  # the page of a document whose chunk never committed
            kept.append(ln)
        if len(kept) != len(lines) or not whole:
            _rewrite(pages, "".join(kept))


def _complete_lines(path: Path) -> tuple[list[str], bool]:
    """The file's complete lines, and whether that is all of it: an append cut short by a
    crash leaves an unterminated tail."""
    text = path.read_text(encoding="utf-8", errors="surrogateescape")
    end = text.rfind("\n") + 1
    return text[:end].splitlines(keepends=True), end == len(text)


def _cdxj_filename(line: str) -> str | None:
    try:
        return json.loads(line.split(" ", 2)[2]).get("filename")
    except (IndexError, ValueError):
        return None


def _rewrite(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".open")
    tmp.write_text(text, encoding="utf-8")
    publish(tmp, path)
