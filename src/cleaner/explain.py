"""`cleaner explain PATH`: the decisions of every stage for one input, in reading order.

It runs the same functions as `cleaner run` (so the two never disagree) without writing
anything, and adds what the ledger knows: template counts of the site, and, when the input was
already processed, its outcome and what it duplicates.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from cleaner import sources
from cleaner.config import Config
from cleaner.document import Document, Outcome
from cleaner.pipeline import PREPARE, _run_stages, site_of
from cleaner.sinks.archive_check import read_record
from cleaner.stages import convert, dedup
from cleaner.stages.dedup import set_overlap, shingle_set
from cleaner.stages.strip import explain_lines
from cleaner.state.ledger import Ledger
from cleaner.state.templates import TemplateSnapshot, TemplateStats


def explain(path: Path, cfg: Config, state: Path) -> str:
    if not path.is_file():
        from cleaner.errors import UsageError

        raise UsageError(f"not a file: {path}")
    st = path.stat()
    sha = sources.sha256_file(path)
    ledger = Ledger(state, readonly=True) if (state / "ledger.sqlite").exists() else None
    rel = _ledger_name(path, _relative(path, Path(cfg.run.input)), sha, ledger)
    f = sources.InputFile(path=str(path.resolve()), rel=rel, size=st.st_size, mtime_ns=st.st_mtime_ns)
    out: list[str] = []
    try:
        for doc in sources.read(f, sha, cfg.run.max_input_bytes):
            out.extend(_explain_doc(doc, cfg, ledger))
            out.append("")
    finally:
        if ledger is not None:
            ledger.close()
    return "\n".join(out).rstrip() + "\n"


def _relative(path: Path, root: Path) -> str:
    """The input's path as `cleaner run` names it (relative to the input folder, "/"-separated):
    document ids and the site of a page without a URL (its sub-folder) depend on it. An input
    outside the input folder is named by its file name."""
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.name


def _ledger_name(path: Path, rel: str, sha: str, ledger: Ledger | None) -> str:
    """`rel`, or the name the ledger knows these bytes by where the path ends with it: a run
    given another input folder (`--input c/raw`) named its inputs relative to that one, and
    document ids depend on the name."""
    if ledger is None or ledger.known_by_hash(rel, sha):
        return rel
    posix = path.resolve().as_posix()
    return next((known for known in ledger.paths_by_hash(sha) if posix.endswith("/" + known)), rel)


def _explain_doc(doc: Document, cfg: Config, ledger: Ledger | None) -> list[str]:
    head = f"== {doc.source.path}" + (f" {doc.source.member}" if doc.source.member else "")
    out = [head]
    doc = _run_stages(doc, cfg, PREPARE)
    if doc.outcome is Outcome.QUARANTINED:
        return [*out, f"QUARANTINED {doc.problem}"]
    out.append(f"encoding: {doc.encoding} ({doc.encoding_evidence})")
    for e in doc.edits:
        if e.stage == "extract":
            out.append(f"  extract dropped [{e.rule}] {e.note}: {_short(e.before)}")
        else:
            out.append(f"  {e.stage} [{e.rule}] {e.action} {_short(e.before)!r} -> {_short(e.after)!r}"
                       + (f" ({e.note})" if e.note else ""))
    site = site_of(doc)
    templates = _templates(ledger, site, doc)
    out.append(f"site: {site or '(input root)'}")
    for d in explain_lines(doc.text, cfg.strip, templates, site, is_html=doc.from_html):
        mark = "  keep  " if d.kept else "- DROP  "
        why = "" if d.kept else f"  [{d.rule}{': ' + d.note if d.note else ''}]"
        out.append(f"{mark}{_short(d.text, 100)}{why}")
    from cleaner.stages.strip import strip

    doc = strip(doc, cfg.strip, templates, site)
    doc = convert.convert(doc, cfg.convert)
    out.append(f"language: {doc.language}")
    converted = [e for e in doc.edits if e.stage == "convert"]
    if converted:
        out.append(f"convert: {len(converted)} spans converted to simplified script")
    doc = dedup.fingerprint(doc, cfg.dedup)
    if ledger is not None:
        row = ledger.document(doc.id)
        if row is not None:
            out.append(f"ledger: {row['outcome']} in run {row['run_id']}")
            if row["outcome"] == "duplicate":
                orig = ledger.document(row["duplicate_of"] or "")
                where = orig["input_path"] if orig else "?"
                if orig and orig["input_sha256"] == row["input_sha256"] and not row["member"]:
                    # a byte-identical copy of a whole input (state/copies.py); the records of
                    # one WARC file share its sha256 and are cleaned each
                    where += ", the same bytes: not cleaned again"
                out.append(
                    f"  duplicate ({row['method']}, similarity {row['similarity']:.3f}) of {row['duplicate_of']} ({where})"
                )
                if row.get("dedup_note"):
                    out.append(f"  evidence: {row['dedup_note']}")
                if orig and row["method"] == "near":
                    out.extend(_compared(doc.text, orig, cfg))
            elif row["outcome"] == "quarantined":
                out.append(f"  problem: {row['problem']}")
            dups = ledger.duplicates_of(doc.id)
            for dup in dups[:10]:
                why = f": {dup['dedup_note']}" if dup.get("dedup_note") else ""
                out.append(f"  kept copy of {dup['input_path']} ({dup['method']}, similarity {dup['similarity']:.3f}){why}")
        else:
            out.append("ledger: not processed yet")
    return out


def _compared(text: str, kept: dict[str, Any], cfg: Config) -> list[str]:
    """This text beside the kept copy's, read back from the archive: their exact overlap (what
    the index estimated from samples) and the lines each has that the other lacks."""
    try:
        ref = json.loads(kept["text_json"] or "null")
        if ref is None:
            return []
        block = read_record(Path(cfg.run.archive), ref["filename"], ref["offset"], ref.get("length")).block
        other = (block or b"").decode("utf-8")
    except (OSError, ValueError, KeyError) as err:
        return [f"  (the kept copy's text could not be read from the archive: {err})"]
    mine, theirs = shingle_set(text, cfg.dedup), shingle_set(other, cfg.dedup)
    contained, jaccard = set_overlap(mine, theirs)
    out = [f"  exact overlap of the two cleaned texts: containment {contained:.2f}, jaccard {jaccard:.2f}"]
    lines, missing, changed = _line_diff(text, other, set(theirs.tolist()), cfg)
    their_lines, lacking, _ = _line_diff(other, text, set(mine.tolist()), cfg)
    for label, found, of in (("only here", missing, lines), ("changed here", changed, lines),
                             ("only in the kept copy", lacking, their_lines)):
        if found:
            shown = " | ".join(repr(_short(m, 70)) for m in found[:_SHOWN_LINES])
            more = f" and {len(found) - _SHOWN_LINES} more" if len(found) > _SHOWN_LINES else ""
            out.append(f"  {label} ({len(found)} of {of} lines): {shown}{more}")
    return out


_SHOWN_LINES = 5
_LINE_FOUND = 0.5  # share of a line's shingles in the other text for it to count as there (changed)


def _line_diff(text: str, other: str, pool: set[int], cfg: Config) -> tuple[int, list[str], list[str]]:
    """(non-blank lines of `text`, those not in `other`, those changed there; `pool`: the
    other's `shingle_set`). A line is there when the other has it as a line (whitespace and
    case aside); changed when not, but half of its shingles are in the pool (a line of one
    shingle: when a line there contains it)."""
    theirs = {_norm(line) for line in other.splitlines()}
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    missing: list[str] = []
    changed: list[str] = []
    for line in lines:
        norm = _norm(line)
        if norm in theirs:
            continue
        own = shingle_set(line, cfg.dedup).tolist()
        if len(own) >= 2 and sum(h in pool for h in own) >= _LINE_FOUND * len(own):
            changed.append(line)
        elif len(own) < 2 and any(norm in t for t in theirs):
            changed.append(line)  # a short line that a longer one there contains
        else:
            missing.append(line)
    return len(lines), missing, changed


def _norm(line: str) -> str:
    return " ".join(line.split()).casefold()


def _templates(ledger: Ledger | None, site: str, doc: Document) -> TemplateSnapshot | None:
    if ledger is None:
        return None
    return TemplateStats(ledger.conn).snapshot([site])


def _short(text: str, n: int = 80) -> str:
    text = text.replace("\n", "⏎")
    return text if len(text) <= n else text[: n - 1] + "…"

