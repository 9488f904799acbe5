"""`cleaner report`: one self-contained HTML page about a run, for an operator's browser.

This module gathers the numbers; `report_html` draws them.

Everything comes from the ledger (read-only), so a report can be made at any time, also while
another run holds the lock. The page has no scripts, no external resources and inline SVG
charts: it can be mailed, archived or opened on a machine without network. Every string from
the data is escaped, because inputs (file names, titles, reasons) are hostile.
"""

from __future__ import annotations

import os
import re
import sqlite3
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cleaner.document import REMOVING_STAGES
from cleaner.errors import FatalError, UsageError
from cleaner.state.ledger import Ledger
from cleaner.state.levels import table_columns, table_exists
from cleaner.state.templates import line_counts_sql

MAX_SITES = 40
MAX_CLUSTERS = 40
MAX_MEMBERS = 12
MAX_QUARANTINED = 500
MAX_BARS = 20
OUTCOME_COLOURS = {"clean": "#3b8b4a", "duplicate": "#3f6fb5", "quarantined": "#c0392b"}


@dataclass
class SiteRow:
    site: str
    docs: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    by_stage: Counter[str] = field(default_factory=Counter)  # edits per stage
    rules: Counter[str] = field(default_factory=Counter)  # edits per stage:rule


@dataclass
class TemplateRow:
    site: str
    pages: int  # pages of the site seen by all runs so far
    recurring: int  # distinct lines on >= min_pages of them
    majority: int  # distinct lines on at least half of them


@dataclass
class Cluster:
    original: dict[str, Any] | None  # None: the kept document is not in the ledger
    original_id: str
    size: int
    members: list[dict[str, Any]]


@dataclass
class ReportData:
    scope: str  # a run id or "all runs"
    run: dict[str, Any] | None
    history: list[dict[str, Any]]
    outcomes: Counter[str]
    input_outcomes: Counter[str]
    removed: list[tuple[str, int]]
    fixes: list[tuple[str, int]]
    sites: list[SiteRow]
    site_total: int
    templates: list[TemplateRow]
    template_min_pages: int
    clusters: list[Cluster]
    cluster_total: int
    quarantined: list[dict[str, Any]]
    quarantined_total: int
    reasons: list[tuple[str, int]]


def reason_group(problem: str) -> str:
    """Group quarantine reasons: drop file:line prefixes, parenthesised detail and numbers."""
    text = re.sub(r"\S*:\d+:\s", "", problem)
    text = re.sub(r"\s*\(.*", "", text)
    text = re.sub(r"\d+", "N", text).strip()
    return text[:80] or "?"


def collect(ledger: Ledger, run_id: str | None, template_min_pages: int = 3) -> ReportData:
    """Gather what the page shows; `run_id` None is the latest run, "all" is every run."""
    try:
        return _collect(ledger.conn, run_id, template_min_pages)
    except sqlite3.DatabaseError as err:
        raise FatalError(f"state is unreadable: {ledger.path}: {err}") from None


def _collect(conn: sqlite3.Connection, run_id: str | None, min_pages: int) -> ReportData:
    history = _runs(conn, "ORDER BY started DESC LIMIT 20", ())
    args: tuple[Any, ...] = ()
    if run_id == "all":
        run, where = None, ""
    else:
        found = _runs(conn, "WHERE run_id=?", (run_id,)) if run_id else history[:1]
        if not found:
            raise UsageError(f"no run {run_id!r} in the ledger (see cleaner status)" if run_id
                             else "the ledger records no run yet: run `cleaner run` first")
        run, where, args = found[0], "WHERE run_id=?", (found[0]["run_id"],)
    scope = run["run_id"] if run else "all runs"
    outcomes = Counter(dict(conn.execute(f"SELECT outcome, COUNT(*) FROM documents {where} GROUP BY outcome", args)))
    inputs = Counter(dict(conn.execute(f"SELECT outcome, COUNT(*) FROM inputs {where} GROUP BY outcome", args)))
    sites, rule_totals = _sites(conn, where, args)
    removed = _removed(run, history, rule_totals) if run is not None or run_id == "all" else []
    fixes = [(r, n) for r, n in rule_totals.most_common() if r.split(":", 1)[0] not in REMOVING_STAGES]
    clusters, cluster_total = _clusters(conn, where, args)
    q_where = (where + " AND" if where else "WHERE") + " outcome='quarantined'"
    quarantined = [dict(zip(("path", "member", "problem", "run_id"), r, strict=True)) for r in conn.execute(
        f"SELECT input_path, member, problem, run_id FROM documents {q_where} ORDER BY input_path, rowid LIMIT ?",
        (*args, MAX_QUARANTINED))]
    reasons: Counter[str] = Counter()
    for (problem,) in conn.execute(f"SELECT problem FROM documents {q_where}", args):
        reasons[reason_group(problem or "?")] += 1
    return ReportData(
        scope=scope, run=run, history=history, outcomes=outcomes, input_outcomes=inputs,
        removed=removed, fixes=fixes, sites=sorted(sites, key=lambda s: (-s.docs, s.site))[:MAX_SITES],
        site_total=len(sites), templates=_templates(conn, min_pages), template_min_pages=min_pages,
        clusters=clusters, cluster_total=cluster_total, quarantined=quarantined,
        quarantined_total=sum(reasons.values()), reasons=reasons.most_common(),
    )


def _runs(conn: sqlite3.Connection, tail: str, args: tuple[Any, ...]) -> list[dict[str, Any]]:
    import json

    keys = ("run_id", "started", "finished", "status", "config_sha256", "summary")
    rows = conn.execute(f"SELECT {', '.join(keys[:-1])}, summary_json FROM runs {tail}", args).fetchall()
    out = []
    for row in rows:
        d = dict(zip(keys, row, strict=True))
        d["summary"] = json.loads(d["summary"]) if d["summary"] else {}
        out.append(d)
    return out


def _sites(conn: sqlite3.Connection, where: str, args: tuple[Any, ...]) -> tuple[list[SiteRow], Counter[str]]:
    sites: dict[str, SiteRow] = {}
    for site, outcome, n in conn.execute(
            f"SELECT COALESCE(site, ''), outcome, COUNT(*) FROM documents {where} GROUP BY 1, 2", args):
        row = sites.setdefault(site, SiteRow(site))
        row.docs += n
        row.outcomes[outcome] += n
    totals: Counter[str] = Counter()
    for site, rule, n in conn.execute(
            "SELECT COALESCE(d.site, ''), j.key, SUM(j.value) FROM documents d, "
            f"json_each(COALESCE(d.edits_json, '{{}}')) j {where} GROUP BY 1, 2", args):
        row = sites.setdefault(site, SiteRow(site))
        row.rules[rule] += n
        row.by_stage[rule.split(":", 1)[0]] += n
        totals[rule] += n
    return list(sites.values()), totals


def _removed(run: dict[str, Any] | None, history: list[dict[str, Any]], edits: Counter[str]) -> list[tuple[str, int]]:
    """Removals as the run summaries counted them (remove actions only); edits as a fallback."""
    runs = [run] if run is not None else history
    total: Counter[str] = Counter()
    for r in runs:
        total.update(r["summary"].get("rules") or {})
    if not total:
        total = Counter({k: n for k, n in edits.items() if k.split(":", 1)[0] in REMOVING_STAGES})
    return total.most_common()


def _templates(conn: sqlite3.Connection, min_pages: int) -> list[TemplateRow]:
    if not table_exists(conn, "template_sites"):
        return []
    rows = conn.execute(
        f"WITH l AS MATERIALIZED ({line_counts_sql(conn)}) "
        "SELECT s.site, s.pages, "
        "COUNT(CASE WHEN l.pages>=? THEN 1 END), "
        "COUNT(CASE WHEN l.pages*2>=s.pages AND l.pages>=? THEN 1 END) "
        "FROM template_sites s LEFT JOIN l ON l.site=s.site WHERE s.pages>=? "
        "GROUP BY s.site, s.pages ORDER BY 3 DESC, 2 DESC LIMIT ?",
        (min_pages, min_pages, min_pages, MAX_SITES)).fetchall()
    return [TemplateRow(*r) for r in rows]


def _clusters(conn: sqlite3.Connection, where: str, args: tuple[Any, ...]) -> tuple[list[Cluster], int]:
    d_where = (where + " AND" if where else "WHERE") + " outcome='duplicate' AND duplicate_of IS NOT NULL"
    groups = conn.execute(f"SELECT duplicate_of, COUNT(*) FROM documents {d_where} GROUP BY 1 "
                          "ORDER BY 2 DESC, 1 LIMIT ?", (*args, MAX_CLUSTERS)).fetchall()
    total = conn.execute(f"SELECT COUNT(DISTINCT duplicate_of) FROM documents {d_where}", args).fetchone()[0]
    note = "dedup_note" if "dedup_note" in table_columns(conn, "documents") else "NULL AS dedup_note"  # an earlier ledger
    cols = f"doc_id, input_path, member, url, title, method, similarity, {note}, run_id, chars"
    out = []
    for original_id, size in groups:
        cur = conn.execute(f"SELECT {cols} FROM documents WHERE doc_id=?", (original_id,))
        names = [c[0] for c in cur.description]
        orig = cur.fetchone()
        members = conn.execute(f"SELECT {cols} FROM documents {d_where} AND duplicate_of=? ORDER BY rowid LIMIT ?",
                               (*args, original_id, MAX_MEMBERS)).fetchall()
        out.append(Cluster(dict(zip(names, orig, strict=True)) if orig else None, original_id, size,
                           [dict(zip(names, m, strict=True)) for m in members]))
    return out, int(total)


def write_report(state: Path, out: str | None, run_id: str | None = None, template_min_pages: int = 3) -> Path | None:
    """Write the page to `out` (default state/reports/<run>.html; "-" = stdout, returns None)."""
    import sys

    ledger = Ledger(state, readonly=True)
    try:
        data = collect(ledger, run_id, template_min_pages)
    finally:
        ledger.close()
    from cleaner.report_html import render_html

    page = render_html(data)
    if out == "-":
        sys.stdout.write(page)
        return None
    name = re.sub(r"[^\w.-]", "_", data.scope) + ".html"
    path = Path(out) if out else state / "reports" / name
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".open")
        tmp.write_text(page, encoding="utf-8")
        os.replace(tmp, path)
    except OSError as err:
        raise FatalError(f"cannot write the report {path}: {err.strerror or err}") from None
    return path
