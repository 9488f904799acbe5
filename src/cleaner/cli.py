"""Command line: `cleaner run | status | explain | verify | get | config`.

Exit codes (also in `cleaner --help`): 0 every input handled, 1 some inputs quarantined,
2 usage or configuration error, 3 fatal (outputs or state cannot be written or read;
stopped cleanly), 75 another run holds the lock, 130/143 interrupted by SIGINT/SIGTERM.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from cleaner import __version__
from cleaner import config as config_mod
from cleaner.errors import EXIT_OK, EXIT_QUARANTINED, EXIT_USAGE, CleanerError, UsageError
from cleaner.observe import LOG, setup_logging

EPILOG = """exit codes:
  0   every input handled (clean or recorded duplicate; also "nothing new")
  1   finished, but some inputs were quarantined (see the summary, cleaner status)
  2   usage or configuration error; nothing was done
  3   fatal: outputs or state cannot be written or read; stopped cleanly
  75  another cleaner run holds the state lock; nothing was done
  130/143  interrupted (SIGINT/SIGTERM); unfinished work is redone by the next run
"""


def _versions() -> str:
    from importlib.metadata import PackageNotFoundError, version

    parts = [f"cleaner {__version__}", f"python {sys.version.split()[0]}"]
    for pkg in ("ftfy", "opencc", "warcio", "beautifulsoup4", "lxml"):
        try:
            parts.append(f"{pkg} {version(pkg)}")
        except PackageNotFoundError:
            pass
    return ", ".join(parts)


def _add_paths(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("paths")
    g.add_argument("--config", metavar="FILE", help="TOML configuration (default: ./cleaner.toml if present)")
    g.add_argument("--input", metavar="DIR", help="input folder (default raw/)")
    g.add_argument("--clean", metavar="DIR", help="corpus output folder (default clean/)")
    g.add_argument("--archive", metavar="DIR", help="WARC archive folder (default archive/)")
    g.add_argument("--state", metavar="DIR", help="state folder: ledger, lock (default state/)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cleaner", description="Clean scraped web articles into a corpus and a lossless WARC archive.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("-V", "--version", action="version", version=_versions())
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("run", help="process new inputs into clean/ and archive/",
                       description="Process every new input in the input folder.", epilog=EPILOG,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    _add_paths(p)
    g = p.add_argument_group("processing")
    g.add_argument("--workers", type=int, metavar="N", help="worker processes (default: one per CPU core)")
    g.add_argument("--engine", choices=("local", "ray"), help="where per-document work runs (default local)")
    g.add_argument("--address", dest="ray_address", metavar="ADDR",
                   help="with --engine ray: the Ray cluster to use (default: start a local one)")
    g.add_argument("--skip", action="append", metavar="STAGE", choices=config_mod.STAGE_NAMES[1:],
                   help="skip a stage (repeatable): extract, repair, strip, convert, dedup")
    g.add_argument("--dedup-scope", choices=("run", "archive"),
                   help="compare with this run only, or with everything archived (default archive)")
    g.add_argument("--keep", choices=("first", "longest"), dest="dedup_keep",
                   help="of a run's copies of one text keep the first to arrive, or the longest "
                        "(written once the whole run is cleaned; default first)")
    g.add_argument("--dry-run", action="store_true", help="do everything in memory, write nothing")
    o = p.add_argument_group("output")
    o.add_argument("-q", "--quiet", action="store_true", help="errors only")
    o.add_argument("-v", "--verbose", action="count", default=0, help="more detail (-vv: debug)")
    o.add_argument("--log-format", choices=("text", "json"), help="stderr format (json: one object a line)")
    o.add_argument("--no-progress", action="store_true", help="no progress bar even on a terminal")

    p = sub.add_parser("status", help="last runs, quarantined inputs, counts per outcome")
    p.add_argument("--state", metavar="DIR", help="state folder (default state/)")
    p.add_argument("--config", metavar="FILE")
    p.add_argument("--json", action="store_true", help="machine-readable output on stdout")

    p = sub.add_parser("explain", help="show line by line what cleaning keeps and removes, and why")
    p.add_argument("path", help="an input file (a .txt, .html, .warc ...)")
    p.add_argument("--config", metavar="FILE")
    p.add_argument("--state", metavar="DIR", help="state folder, for template counts and dedup decisions")
    p.add_argument("--archive", metavar="DIR", help="archive folder, for a near duplicate's kept copy (default archive/)")

    p = sub.add_parser("verify", help="check an archive: digests, record links, index lines")
    p.add_argument("archive", nargs="?", help="archive folder (default archive/)")
    p.add_argument("--config", metavar="FILE")

    p = sub.add_parser("get", help="print the cleaned text (or --raw: the exact original bytes) of a record")
    p.add_argument("key", help="a URL, a WARC-Record-ID, or a document id (clean/'s \"id\", the ledger's)")
    p.add_argument("--raw", action="store_true", help="the original bytes, exactly as archived")
    p.add_argument("--archive", metavar="DIR", help="archive folder (default archive/)")
    p.add_argument("--state", metavar="DIR", help="state folder, to find a document id (default state/)")
    p.add_argument("--config", metavar="FILE")

    p = sub.add_parser("removed", help="what the rules removed across the archive: lines and documents per rule, "
                       "and the texts a rule removed most often",
                       description="Count what extract and strip removed from the archive's clean documents, "
                       "per rule; with RULE, list the distinct texts those rules removed, on most documents first. "
                       "Read from the archive's metadata records.")
    p.add_argument("rule", nargs="?", metavar="RULE",
                   help="a rule id or a shell pattern: 'strip:en:newsletter', 'en:*', 'newsletter' (any language), "
                        "'template'")
    p.add_argument("--archive", metavar="DIR", help="archive folder (default archive/)")
    p.add_argument("--site", metavar="HOST", help="only documents of this site (a URL host, or an input sub-folder)")
    p.add_argument("--run", metavar="RUN_ID", help="only documents this run cleaned (run ids: cleaner status)")
    p.add_argument("--top", metavar="N", type=int, default=20, help="texts to list (default 20; 0: all)")
    p.add_argument("--json", action="store_true", help="JSON lines: one text (with RULE) or one rule a line")
    p.add_argument("--config", metavar="FILE")

    p = sub.add_parser("report", help="write an HTML report of a run (outcomes, rules, sites, duplicates, quarantine)",
                       description="Write a self-contained HTML page about a run, read from the ledger.")
    p.add_argument("--run", metavar="RUN_ID", help='a run id from cleaner status, or "all" (default: the last run)')
    p.add_argument("--state", metavar="DIR", help="state folder (default state/)")
    p.add_argument("--config", metavar="FILE")
    p.add_argument("-o", "--output", metavar="FILE", help='where to write (default state/reports/RUN.html; "-": stdout)')

    p = sub.add_parser("config", help="print the effective configuration as TOML")
    p.add_argument("--config", metavar="FILE")
    p.add_argument("--json", action="store_true")
    return parser


def _flags(args: argparse.Namespace) -> dict[str, dict[str, Any]]:
    run: dict[str, Any] = {}
    for name in ("input", "clean", "archive", "state", "workers", "engine", "ray_address", "log_format"):
        value = getattr(args, name, None)
        if value is not None:
            run[name] = value
    if getattr(args, "skip", None):
        run["skip"] = list(args.skip)
    flags: dict[str, dict[str, Any]] = {"run": run}
    dedup = {k: v for k, v in (("scope", getattr(args, "dedup_scope", None)),
                               ("keep", getattr(args, "dedup_keep", None))) if v}
    if dedup:
        flags["dedup"] = dedup
    return flags


def main(argv: Sequence[str] | None = None) -> int:
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(encoding="utf-8", errors="backslashreplace")  # never depend on LANG under cron
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:
        return int(exit_.code or 0) if exit_.code in (0, None) else EXIT_USAGE
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    verbosity = -1 if getattr(args, "quiet", False) else getattr(args, "verbose", 0)
    setup_logging(verbosity, getattr(args, "log_format", None) or "text")
    try:
        cfg = config_mod.load(args.config, flags=_flags(args))
        setup_logging(verbosity, cfg.run.log_format)
        handler = {
            "run": _cmd_run, "status": _cmd_status, "explain": _cmd_explain,
            "verify": _cmd_verify, "get": _cmd_get, "config": _cmd_config, "report": _cmd_report,
            "removed": _cmd_removed,
        }[args.command]
        return handler(args, cfg)
    except CleanerError as err:
        LOG.error("%s", err, extra={"event": "error"})
        return err.exit_code
    except KeyboardInterrupt:
        LOG.error("interrupted", extra={"event": "interrupted"})
        return 130


def _cmd_run(args: argparse.Namespace, cfg: config_mod.Config) -> int:
    from cleaner.runner import Interrupted, run

    try:
        summary = run(cfg, dry_run=args.dry_run, progress=not (args.no_progress or args.quiet))
    except Interrupted as sig:
        LOG.error("interrupted by %s; the next run redoes the unfinished part", sig,
                  extra={"event": "interrupted"})
        return 128 + sig.signum
    text = summary.render()
    if cfg.run.log_format == "json":
        LOG.warning("run finished", extra={"event": "summary", "data": summary.to_dict()})
    elif not args.quiet:
        print(text, file=sys.stderr)
    if args.quiet and summary.problems:  # -q shows errors only: quarantined inputs are theirs, in one line
        LOG.error("%s", summary.quarantine_line(cfg.run.state), extra={"event": "quarantined-summary"})
    return EXIT_QUARANTINED if summary.quarantined else EXIT_OK


def _cmd_status(args: argparse.Namespace, cfg: config_mod.Config) -> int:
    from cleaner.state.ledger import Ledger

    state = Path(args.state or cfg.run.state)
    ledger = Ledger(state, readonly=True)
    try:
        data: dict[str, Any] = {"state": str(state), "counts": ledger.counts(), "runs": ledger.runs(10),
                "quarantined": ledger.quarantined(50)}
    finally:
        ledger.close()
    if args.json:
        print(json.dumps(data, ensure_ascii=False, indent=2))
        return EXIT_OK
    c = data["counts"]
    print(f"documents: {c['clean']} clean, {c['duplicate']} duplicates, {c['quarantined']} quarantined")
    for r in data["runs"]:
        s = r["summary"] or {}
        print(f"run {r['run_id']} {r['status']}: {s.get('inputs_new', 0)} new inputs, "
              f"{s.get('clean', 0)} clean, {s.get('duplicates', 0)} duplicates, {s.get('quarantined', 0)} quarantined")
    for q in data["quarantined"]:
        print(f"quarantined {q['path']}{' ' + q['member'] if q['member'] else ''}: {q['problem']}")
    return EXIT_OK


def _cmd_explain(args: argparse.Namespace, cfg: config_mod.Config) -> int:
    from cleaner.explain import explain

    state = Path(args.state or cfg.run.state)
    print(explain(Path(args.path), cfg, state))
    return EXIT_OK


def _cmd_verify(args: argparse.Namespace, cfg: config_mod.Config) -> int:
    from cleaner.sinks.archive_check import verify_archive

    folder = Path(args.archive or cfg.run.archive)
    if not folder.is_dir():
        raise UsageError(f"archive folder not found: {folder}")
    problems = verify_archive(folder)
    for p in problems:
        print(p)
    print(f"{'ok' if not problems else 'FAILED'}: {len(problems)} problems in {folder}", file=sys.stderr)
    return 1 if problems else EXIT_OK


def _cmd_get(args: argparse.Namespace, cfg: config_mod.Config) -> int:
    from cleaner.sinks.archive_check import get_raw, get_text

    folder = Path(args.archive or cfg.run.archive)
    state = Path(args.state or cfg.run.state)
    key = _record_of_document(args.key, state, raw=args.raw) or args.key
    try:
        if args.raw:
            data = get_raw(folder, key)
            sys.stdout.flush()
            sys.stdout.buffer.write(data)
            sys.stdout.buffer.flush()
        else:
            try:
                text = get_text(folder, key)
            except KeyError:
                kept = _kept_copy_of_url(args.key, state)
                if kept is None:
                    raise
                text = get_text(folder, kept)
            sys.stdout.write(text)
    except KeyError as err:
        raise UsageError(f"{args.key}: {err.args[0]} (folder {folder})") from None
    return EXIT_OK


def _kept_copy_of_url(url: str, state: Path) -> str | None:
    """For a URL whose document was a duplicate (the archive holds its raw record but no text of
    its own), its kept document's text record, as `get DOC_ID` gives it (`_record_of_document`)."""
    from cleaner.state.ledger import Ledger

    if "://" not in url or not (state / "ledger.sqlite").exists():
        return None
    ledger = Ledger(state, readonly=True)
    try:
        dups = [r for r in ledger.documents_of_url(url) if r["outcome"] == "duplicate" and r["duplicate_of"]]
    finally:
        ledger.close()
    return _record_of_document(dups[-1]["doc_id"], state, raw=False, asked=url) if dups else None


def _record_of_document(key: str, state: Path, *, raw: bool, asked: str | None = None) -> str | None:
    """The record id behind a document id (32 hex digits, as in clean/ and the ledger) or behind
    the WARC-Record-ID of an input record (the archive's copy has an id of its own): its raw
    record, or its cleaned text, which for a duplicate is the kept document's (said on stderr,
    naming what was `asked` for: the key itself unless another name led to it)."""
    from cleaner.state.ledger import Ledger

    doc_id = re.fullmatch(r"[0-9a-f]{32}", key) is not None
    input_record = key.startswith(("<urn:", "urn:"))
    if not (doc_id or input_record) or not (state / "ledger.sqlite").exists():
        return None
    ledger = Ledger(state, readonly=True)
    try:
        if input_record:
            rid = key if key.startswith("<") else f"<{key}>"
            found = ledger.documents_of_member(rid)
            if not found:
                return None  # not an input record: perhaps one of the archive's own
            if len(found) > 1:
                listed = ", ".join(f"{r['doc_id']} ({r['input_path']})" for r in found)
                raise UsageError(f"{key}: {len(found)} input records have this id; ask for a document id: {listed}")
            key = found[0]["doc_id"]
        row = ledger.document(key)
        if row is not None and not raw and row["outcome"] == "duplicate" and row["duplicate_of"]:
            print(f"{asked or key} is a duplicate of {row['duplicate_of']}: its text", file=sys.stderr)
            row = ledger.document(row["duplicate_of"])
    finally:
        ledger.close()
    if row is None:
        raise UsageError(f"{key}: no document with this id in the ledger ({state})")
    ref = row.get("raw_json" if raw else "text_json")
    if not ref:  # a quarantined document has no text; an unreadable input no raw record either
        raise UsageError(f"{key}: the document is {row['outcome']} and has no {'raw' if raw else 'text'} record")
    return str(json.loads(ref)["record_id"])


def _cmd_removed(args: argparse.Namespace, cfg: config_mod.Config) -> int:
    from cleaner.removals import as_json_lines, removals, render

    folder = Path(args.archive or cfg.run.archive)
    if not folder.is_dir():
        raise UsageError(f"archive folder not found: {folder}")
    found = removals(folder, args.rule, site=args.site, run=args.run)
    if args.json:
        print(as_json_lines(found, args.rule), end="")
    else:
        print(render(found, args.rule, args.top))
    return EXIT_OK


def _cmd_report(args: argparse.Namespace, cfg: config_mod.Config) -> int:
    from cleaner.report import write_report

    path = write_report(Path(args.state or cfg.run.state), args.output, args.run, cfg.strip.template_min_pages)
    if path is not None:
        print(f"cleaner: report written to {path}", file=sys.stderr)
    return EXIT_OK


def _cmd_config(args: argparse.Namespace, cfg: config_mod.Config) -> int:
    if args.json:
        print(json.dumps(cfg.to_dict(), ensure_ascii=False, indent=2))
    else:
        print(config_mod.to_toml(cfg), end="")
    return EXIT_OK


if __name__ == "__main__":
    raise SystemExit(main())
