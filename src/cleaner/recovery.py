"""Start-of-run recovery after a crash (kill -9, power loss, full disk).

Invariant: the ledger commits a chunk only after its files are published. So after a crash
there can be (a) `*.open` files: never published, delete; (b) published files that the ledger
does not list: their chunk never committed, so its inputs will be processed again; delete the
files and their index lines. Only files named like ours and stamped with a run the ledger
started are touched: a WARC a user copied into archive/ is never removed.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from cleaner.sinks.corpus import publish
from cleaner.sinks.warc import cleanup_stale
from cleaner.state.ledger import Ledger

_STAMP = re.compile(r"-(\d{14})-\d{5}")


def recover(ledger: Ledger, archive_dir: Path, clean_dir: Path) -> list[str]:
    notes: list[str] = []
    crashed = ledger.unfinished_runs()
    stamps = {r.split("-")[0] for r in crashed}
    removed = [p.name for p in cleanup_stale(archive_dir)] if archive_dir.exists() else []
    if clean_dir.exists():
        for p in sorted(clean_dir.rglob("*.open")):
            p.unlink()
            removed.append(p.name)
    orphans: list[Path] = []
    if stamps:
        committed_archive = ledger.committed_files("archive")
        committed_corpus = ledger.committed_files("corpus")
        for p in sorted(archive_dir.glob("*.warc.gz")) if archive_dir.exists() else []:
            m = _STAMP.search(p.name)
            if m and m.group(1) in stamps and p.name not in committed_archive:
                orphans.append(p)
        for p in sorted(clean_dir.glob("part-*.jsonl")) if clean_dir.exists() else []:
            m = re.match(r"part-(\d{14})-", p.name)
            if m and m.group(1) in stamps and p.name not in committed_corpus:
                orphans.append(p)
    if orphans:
        names = {p.name for p in orphans}
        _drop_index_lines(archive_dir, names, ledger)
        for p in orphans:
            p.unlink()
    if crashed:
        ledger.mark_runs(crashed, "crashed")
        notes.append(
            f"recovered from an unfinished run ({', '.join(crashed)}): removed {len(removed)} unpublished and "
            f"{len(orphans)} uncommitted files; their inputs will be processed again"
        )
    elif removed:
        notes.append(f"removed {len(removed)} leftover temporary files")
    return notes


def _drop_index_lines(archive_dir: Path, filenames: set[str], ledger: Ledger) -> None:
    """Remove index, checksum and page lines of files being deleted (each file rewritten atomically)."""
    for name in ("index.cdxj", "text.cdxj"):
        path = archive_dir / name
        if not path.exists():
            continue
        lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
        kept = [ln for ln in lines if _cdxj_filename(ln) not in filenames]
        if len(kept) != len(lines):
            _rewrite(path, "".join(kept))
    sums = archive_dir / "SHA256SUMS"
    if sums.exists():
        lines = sums.read_text(encoding="utf-8").splitlines(keepends=True)
        kept = [ln for ln in lines if ln.rstrip("\n").split("  ", 1)[-1] not in filenames]
        if len(kept) != len(lines):
            _rewrite(sums, "".join(kept))
    pages = archive_dir / "pages.jsonl"
    if pages.exists():
        lines = pages.read_text(encoding="utf-8").splitlines(keepends=True)
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
        if len(kept) != len(lines):
            _rewrite(pages, "".join(kept))


def _cdxj_filename(line: str) -> str | None:
    try:
        return json.loads(line.split(" ", 2)[2]).get("filename")
    except (IndexError, ValueError):
        return None


def _rewrite(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".open")
    tmp.write_text(text, encoding="utf-8")
    publish(tmp, path)
