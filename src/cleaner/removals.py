"""`cleaner removed`: what the rules took out, across everything archived.

`explain` answers for one input. The question behind a suspect rule is wider: what else did
it remove, and from how many pages? Every clean article's metadata record lists its edits
with the text each removed, so the archive already holds the answer; this reads the text
series' metadata records back (nothing else is needed: no ledger, no input) and counts the
removed lines per rule and per distinct text.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path
from urllib.parse import urlsplit

from cleaner.document import removes_content
from cleaner.sinks.archive_check import scan
from cleaner.state.templates import site_of


@dataclass
class RuleTotal:
    """One `stage:rule`: the lines (or blocks) it removed and from how many documents."""

    rule: str
    lines: int = 0
    docs: int = 0


@dataclass
class RemovedText:
    """One distinct removed text (whitespace runs as one space) under one rule."""

    rule: str
    text: str
    lines: int = 0
    docs: int = 0
    example: str = ""  # the URI of the first document it was removed from


@dataclass
class Removals:
    documents: int = 0  # clean documents read (after the site and run filters)
    rules: list[RuleTotal] = field(default_factory=list)  # most lines first
    texts: list[RemovedText] = field(default_factory=list)  # with a pattern only: most documents first


def matches(rule: str, pattern: str) -> bool:
    """`pattern` (shell-style wildcards) names `stage:rule` whole, the rule without its stage,
    or the rule's last part: 'newsletter' is en:newsletter and de:newsletter alike."""
    _, _, bare = rule.partition(":")
    return any(fnmatchcase(name, pattern) for name in (rule, bare, bare.rpartition(":")[2]))


def removals(archive_dir: Path, pattern: str | None = None, *, site: str | None = None,
             run: str | None = None) -> Removals:
    """Count what the removing stages (extract, strip) took out of the archive's clean documents.

    `site`: only documents of this host (or input sub-folder); `run`: only those a run cleaned.
    With `pattern`, the removed texts of the rules it matches are listed too."""
    want_site = _bare_host(site) if site else None
    totals: dict[str, RuleTotal] = {}
    texts: dict[tuple[str, str], RemovedText] = {}
    listed: dict[str, bool] = {}  # stage:rule -> does `pattern` name it (asked once a rule)
    out = Removals()
    for rec in scan(Path(archive_dir), text_series=True):
        if rec.record_type != "metadata" or rec.block is None:
            continue
        fields, edit_lines = _split_metadata(rec.block)
        if fields.get("outcome") != "clean" or (run is not None and fields.get("cleaner-run-id") != run):
            continue
        uri = rec.ref.target_uri
        if want_site is not None and _site(uri, fields.get("source-path", "")) != want_site:
            continue
        out.documents += 1
        seen_rules: set[str] = set()
        seen_texts: set[tuple[str, str]] = set()
        for e in _decoded(edit_lines):
            if not removes_content(e.get("stage", ""), e.get("action", ""), e.get("rule", "")):
                continue
            key = f"{e['stage']}:{e['rule']}"
            total = totals.get(key) or totals.setdefault(key, RuleTotal(key))
            total.lines += 1
            if key not in seen_rules:
                seen_rules.add(key)
                total.docs += 1
            if pattern is None:
                continue
            wanted = listed.get(key)
            if wanted is None:
                wanted = listed[key] = matches(key, pattern)
            if not wanted:
                continue
            tkey = (key, " ".join(str(e.get("before", "")).split()))
            item = texts.get(tkey) or texts.setdefault(tkey, RemovedText(key, tkey[1], example=uri))
            item.lines += 1
            if tkey not in seen_texts:
                seen_texts.add(tkey)
                item.docs += 1
    rules = [t for t in totals.values() if pattern is None or listed.get(t.rule, False)]
    out.rules = sorted(rules, key=lambda t: (-t.lines, t.rule))
    out.texts = sorted(texts.values(), key=lambda t: (-t.docs, -t.lines, t.rule, t.text))
    return out


def parse_metadata(block: bytes) -> tuple[dict[str, str], list[dict[str, object]]]:
    """A metadata record's warc-fields block: (its fields, its `edit:` lines as dicts).
    Values are on one line each (`warc_records.field_value` folds line breaks); an edit line
    that is not a JSON object is skipped."""
    fields, edit_lines = _split_metadata(block)
    return fields, list(_decoded(edit_lines))


def _split_metadata(block: bytes) -> tuple[dict[str, str], list[str]]:
    """(fields, the `edit:` values still as JSON): the filters read the fields, and only the
    documents they keep have their edits decoded."""
    fields: dict[str, str] = {}
    edit_lines: list[str] = []
    for line in block.decode("utf-8", "replace").split("\r\n"):
        name, sep, value = line.partition(": ")
        if not sep:
            continue
        if name == "edit":
            edit_lines.append(value)
        else:
            fields.setdefault(name, value)
    return fields, edit_lines


def _decoded(edit_lines: list[str]) -> Iterator[dict[str, object]]:
    for value in edit_lines:
        try:
            edit = json.loads(value)
        except ValueError:
            continue
        if isinstance(edit, dict):
            yield edit


def _site(uri: str, source_path: str) -> str:
    """The site as template counting names it: the URL's host, or a file's input sub-folder."""
    scheme = urlsplit(uri).scheme.lower() if uri else ""
    return site_of(uri if scheme in ("http", "https") else None, source_path)


def _bare_host(site: str) -> str:
    site = site.strip().lower()
    return site[4:] if site.startswith("www.") else site


def render(found: Removals, pattern: str | None, top: int) -> str:
    """The terminal view: rules with their counts, then (with a pattern) the texts most often removed."""
    lines = [f"{found.documents} clean documents read"]
    if not found.rules:
        lines.append(f"nothing removed{f' by rules matching {pattern!r}' if pattern else ''}")
        return "\n".join(lines)
    width = max(len("rule"), *(len(t.rule) for t in found.rules))
    lines.append(f"{'rule':<{width}}  {'lines':>7}  {'docs':>6}")
    lines += [f"{t.rule:<{width}}  {t.lines:>7}  {t.docs:>6}" for t in found.rules]
    if pattern is None:
        return "\n".join(lines)
    shown = found.texts if top <= 0 else found.texts[:top]
    lines.append("")
    lines.append(f"{len(found.texts)} distinct texts removed by rules matching {pattern!r}"
                 + (f"; the {len(shown)} on most documents:" if len(shown) < len(found.texts) else ":"))
    lines.append(f"{'docs':>6}  {'lines':>6}  rule / text / first seen in")
    for t in shown:
        text = t.text if len(t.text) <= 100 else t.text[:99] + "…"
        lines.append(f"{t.docs:>6}  {t.lines:>6}  {t.rule}  {text!r}  {t.example}")
    return "\n".join(lines)


def as_json_lines(found: Removals, pattern: str | None) -> str:
    """One JSON object a line: the texts with a pattern, else the rules."""
    if pattern is None:
        rows = [{"rule": t.rule, "lines": t.lines, "docs": t.docs} for t in found.rules]
    else:
        rows = [{"rule": t.rule, "text": t.text, "lines": t.lines, "docs": t.docs, "example": t.example}
                for t in found.texts]
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
