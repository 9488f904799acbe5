"""HTML for `cleaner report`: inline CSS and SVG, no scripts, every data string escaped.

Inputs are hostile (file names, titles, reasons come from scraped pages), so text only ever
reaches the page through `esc`; `_Raw` marks the few cells this module built itself.
"""

from __future__ import annotations

import html
import time
from collections.abc import Sequence
from typing import Any

from cleaner import __version__
from cleaner.document import REMOVING_STAGES
from cleaner.report import MAX_BARS, OUTCOME_COLOURS, ReportData

def esc(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def bar_chart(title: str, items: Sequence[tuple[str, int]], colours: dict[str, str] | None = None,
              default: str = "#6c7a89") -> str:
    """Horizontal bars as inline SVG: labels left, counts right, a tooltip per bar."""
    items = list(items)[:MAX_BARS]
    if not items:
        return f'<p class="empty">{esc(title)}: nothing to show.</p>'
    row, label_w, bar_w = 22, 300, 440
    top = max(n for _, n in items) or 1
    height = row * len(items) + 8
    parts = [f'<svg class="chart" viewBox="0 0 {label_w + bar_w + 70} {height}" role="img" '
             f'aria-label="{esc(title)}" xmlns="http://www.w3.org/2000/svg"><title>{esc(title)}</title>']
    for i, (label, n) in enumerate(items):
        y = 4 + i * row
        w = max(1.0, bar_w * n / top)
        short = label if len(label) <= 42 else label[:41] + "…"
        colour = (colours or {}).get(label, default)
        parts.append(
            f'<g><title>{esc(label)}: {n}</title>'
            f'<text x="{label_w - 8}" y="{y + 14}" text-anchor="end">{esc(short)}</text>'
            f'<rect x="{label_w}" y="{y + 2}" width="{w:.1f}" height="{row - 6}" rx="2" fill="{colour}"/>'
            f'<text x="{label_w + w + 6:.1f}" y="{y + 14}" class="n">{n:,}</text></g>')
    parts.append("</svg>")
    return "".join(parts)


def _table(head: Sequence[str], rows: Sequence[Sequence[Any]], numeric: Sequence[int] = (),
           nowrap: Sequence[int] = ()) -> str:
    def cls(i: int) -> str:
        return " class=num" if i in numeric else " class=nw" if i in nowrap else ""

    th = "".join(f"<th{cls(i)}>{esc(h)}</th>" for i, h in enumerate(head))
    body = []
    for r in rows:
        cells = "".join(f"<td{cls(i)}>"
                        f'{c if isinstance(c, _Raw) else esc(f"{c:,}" if isinstance(c, int) else c)}</td>'
                        for i, c in enumerate(r))
        body.append(f"<tr>{cells}</tr>")
    return f'<table><thead><tr>{th}</tr></thead><tbody>{"".join(body)}</tbody></table>'


class _Raw(str):
    """Already-escaped HTML for a table cell."""


def _when(ts: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(ts)) if ts else "—"


def _site(site: str) -> str:
    return site or "(top folder, no URL)"


def _doc_label(d: dict[str, Any] | None, fallback: str) -> _Raw:
    if d is None:
        return _Raw(f"<code>{esc(fallback)}</code> (not in the ledger)")
    where = d["input_path"] + (f" {d['member']}" if d.get("member") else "")
    title = f"<br><small>{esc(d['title'])}</small>" if d.get("title") else ""
    url = f"<br><small class=url>{esc(d['url'])}</small>" if d.get("url") else ""
    return _Raw(f"{esc(where)}{title}{url}")


CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans","Noto Sans CJK SC",sans-serif;
 color:#1d232a;background:#f6f7f9;margin:0}
main{max-width:1100px;margin:0 auto;padding:24px 28px 60px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:32px 0 8px;border-bottom:1px solid #d6dae0;padding-bottom:4px}
.meta{color:#5a6570;margin:0 0 16px}
.cards{display:flex;flex-wrap:wrap;gap:10px}
.card{background:#fff;border:1px solid #d6dae0;border-radius:6px;padding:10px 14px;min-width:120px}
.card b{display:block;font-size:22px}.card span{color:#5a6570;font-size:12px}
.card.clean b{color:#3b8b4a}.card.duplicate b{color:#3f6fb5}.card.quarantined b{color:#c0392b}
table{border-collapse:collapse;width:100%;background:#fff;border:1px solid #d6dae0;margin:6px 0}
th,td{padding:5px 8px;text-align:left;vertical-align:top;border-bottom:1px solid #eceef1;overflow-wrap:anywhere}
th{background:#eef0f3;font-weight:600;font-size:12px}td.num,th.num{text-align:right;white-space:nowrap}.nw{white-space:nowrap}
tbody tr:nth-child(even){background:#fafbfc}
.chart{width:100%;max-width:820px;background:#fff;border:1px solid #d6dae0;border-radius:6px;font-size:12px}
.chart text{fill:#1d232a}.chart .n{fill:#5a6570}
small{color:#5a6570}.url{font-family:ui-monospace,monospace}.note,.empty{color:#5a6570}
code{font-family:ui-monospace,monospace;font-size:12px}
details{margin:8px 0}summary{cursor:pointer;font-weight:600}
"""


def render_html(data: ReportData) -> str:
    run = data.run
    s = run["summary"] if run else {}
    parts = [f"<!DOCTYPE html><html lang=en><head><meta charset=utf-8><meta name=viewport "
             f'content="width=device-width,initial-scale=1"><title>cleaner report: {esc(data.scope)}</title>'
             f"<style>{CSS}</style></head><body><main>"]
    parts.append(f"<h1>cleaner report: {esc(data.scope)}</h1>")
    if run:
        secs = s.get("seconds")
        parts.append(f'<p class=meta>status <b>{esc(run["status"])}</b> · started {_when(run["started"])} · '
                     f'finished {_when(run["finished"])}{f" · {secs:.1f} s" if secs else ""} · config '
                     f'<code>{esc(run["config_sha256"][:12])}</code></p>')
    parts.append(f'<p class=meta>made {_when(time.time())} by cleaner {esc(__version__)} from the ledger</p>')
    cards = [("inputs new", s.get("inputs_new", sum(data.input_outcomes.values())), ""),
             ("documents", sum(data.outcomes.values()), "")]
    cards += [(k, data.outcomes.get(k, 0), k) for k in ("clean", "duplicate", "quarantined")]
    parts.append('<div class=cards>' + "".join(
        f'<div class="card {cls}"><b>{n:,}</b><span>{esc(label)}</span></div>' for label, n, cls in cards) + "</div>")

    parts.append("<h2>Documents per outcome</h2>")
    parts.append(bar_chart("documents per outcome", [(k, data.outcomes.get(k, 0)) for k in OUTCOME_COLOURS],
                           OUTCOME_COLOURS))
    if data.input_outcomes:
        parts.append('<p class=note>inputs (files) per outcome: ' + ", ".join(
            f"{esc(k)} {n:,}" for k, n in sorted(data.input_outcomes.items())) +
            ' (an input holding several documents with different outcomes is "mixed")</p>')

    parts.append("<h2>Lines and blocks removed per rule</h2>")
    parts.append(bar_chart("lines and blocks removed per rule", data.removed))
    if len(data.removed) > MAX_BARS:
        parts.append(_details(f"all {len(data.removed)} rules", _table(("rule", "removed"), data.removed, (1,))))
    if data.fixes:
        parts.append("<h2>Repairs and conversions per rule</h2><p class=note>edits that change text in place "
                     "(mojibake, invisibles, script conversion); nothing is removed by these.</p>")
        parts.append(bar_chart("repairs and conversions per rule", data.fixes, default="#8e6fb5"))

    parts.append(f"<h2>Sites ({data.site_total:,})</h2><p class=note>site = URL host, or the input sub-folder "
                 "when a scrape has no URL. Edits counted per stage; strip and extract edits remove lines.</p>")
    rows = []
    for r in data.sites:
        top = ", ".join(f"{k} {n}" for k, n in r.rules.most_common(4) if k.split(":", 1)[0] in REMOVING_STAGES)
        rows.append((_site(r.site), r.docs, r.outcomes["clean"], r.outcomes["duplicate"], r.outcomes["quarantined"],
                     r.by_stage["extract"] + r.by_stage["strip"], r.rules["strip:template"],
                     r.by_stage["repair"] + r.by_stage["convert"], top))
    parts.append(_table(("site", "docs", "clean", "dup", "quar.", "strip+extract edits", "template lines",
                         "repairs", "top strip/extract rules"),
                        rows, (1, 2, 3, 4, 5, 6, 7), nowrap=(0,)))
    if data.site_total > len(data.sites):
        parts.append(f'<p class=note>the {len(data.sites)} sites with most documents of {data.site_total:,}</p>')

    parts.append(_templates_html(data))
    parts.append(_clusters_html(data))
    parts.append(_quarantine_html(data))

    parts.append("<h2>Recent runs</h2>")
    hist = [(r["run_id"], r["status"], _when(r["started"]), r["summary"].get("inputs_new", 0),
             r["summary"].get("clean", 0), r["summary"].get("duplicates", 0), r["summary"].get("quarantined", 0),
             f'{r["summary"].get("seconds", 0.0):.1f}') for r in data.history]
    parts.append(_table(("run", "status", "started", "new inputs", "clean", "dup", "quar.", "seconds"), hist,
                        (3, 4, 5, 6, 7), nowrap=(0, 2)))
    parts.append("</main></body></html>\n")
    return "".join(parts)


def _details(label: str, body: str) -> str:
    return f"<details><summary>{esc(label)}</summary>{body}</details>"


def _templates_html(data: ReportData) -> str:
    out = [f"<h2>Site templates</h2><p class=note>lines that recur on at least {data.template_min_pages} pages of "
           "one site are template candidates; the strip stage removes them at the edges of a page (or anywhere when "
           "on half the pages). Counts cover every run so far. The ledger keeps line fingerprints, not their text.</p>"]
    if not data.templates:
        out.append(f'<p class=empty>no site has {data.template_min_pages} or more pages yet.</p>')
        return "".join(out)
    bars = [(_site(t.site), t.recurring) for t in data.templates if t.recurring]
    if bars:
        out.append(bar_chart("recurring lines per site", bars))
    else:
        out.append('<p class=empty>no line recurs on enough pages of any site yet.</p>')
    out.append(_table(("site", "pages seen", "recurring lines", "on ≥ half the pages"),
                      [(_site(t.site), t.pages, t.recurring, t.majority) for t in data.templates], (1, 2, 3)))
    return "".join(out)


def _clusters_html(data: ReportData) -> str:
    out = [f"<h2>Duplicate clusters ({data.cluster_total:,})</h2>"]
    if not data.clusters:
        out.append('<p class=empty>no duplicates.</p>')
        return "".join(out)
    out.append('<p class=note>each cluster: the kept document, then the documents recorded as its duplicates '
               '(exact = same words in the same order, near = shared content estimated from shingle samples), '
               'with the evidence the dedup index weighed.</p>')
    rows: list[tuple[Any, ...]] = []
    for c in data.clusters:
        for i, m in enumerate(c.members):
            sim = "" if m["similarity"] is None else f'{m["similarity"]:.2f}'
            rows.append((_doc_label(c.original, c.original_id) if i == 0 else _Raw(""),
                         c.size if i == 0 else "", _doc_label(m, m["doc_id"]), m["method"] or "", sim,
                         m.get("dedup_note") or ""))
        if c.size > len(c.members):
            rows.append((_Raw(""), "", f"… and {c.size - len(c.members)} more", "", "", ""))
    out.append(_table(("kept", "dups", "duplicate", "method", "similarity", "evidence"), rows, (1, 4)))
    if data.cluster_total > len(data.clusters):
        out.append(f'<p class=note>the {len(data.clusters)} largest of {data.cluster_total:,} clusters</p>')
    return "".join(out)


def _quarantine_html(data: ReportData) -> str:
    out = [f"<h2>Quarantined ({data.quarantined_total:,})</h2>"]
    if not data.quarantined_total:
        out.append('<p class=empty>nothing was quarantined.</p>')
        return "".join(out)
    out.append('<p class=note>the raw bytes of every quarantined input are in the archive; '
               '<code>cleaner explain PATH</code> shows what happened.</p>')
    out.append(bar_chart("quarantine reasons", data.reasons, default="#c0392b"))
    rows = [(q["path"], q["member"] or "", q["problem"] or "?", q["run_id"]) for q in data.quarantined]
    table = _table(("input", "member", "reason", "run"), rows, nowrap=(1, 3))
    out.append(table if len(rows) <= 30 else _details(f"all {len(rows):,} quarantined documents", table))
    if data.quarantined_total > len(rows):
        out.append(f'<p class=note>first {len(rows)} of {data.quarantined_total:,}; '
                   'all are listed by <code>cleaner status --json</code> and in state/quarantine.jsonl</p>')
    return "".join(out)
