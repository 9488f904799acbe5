"""CPU seconds per pipeline stage of one in-process `cleaner run`, without a profiler.

    python benchmarks/stage_clock.py --input RAW --clean C --archive A --state S [--json OUT]

Runs `cleaner run --workers 1` (the work in this process) with a clock around each function of
`STAGES`: the thread's CPU time spent in the call, summed, and the number of calls. cProfile
charges every Python call, so it inflates Python-heavy stages (strip read 1.19 ms/doc under
it, 0.51 here); these numbers add up to the run's own CPU. Nested stages count in both
(`write_step` holds the dedup check). `throughput.py --stages` runs this on its corpus.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import json
import resource
import sys
import time
from collections.abc import Callable
from typing import Any

# (module, function or Class.method, label): what a reader of the table wants to compare
STAGES = (
    ("cleaner.sources", "hashed", "read + hash inputs (parent)"),
    ("cleaner.stages.decode", "decode", "decode"),
    ("cleaner.stages.extract", "extract", "extract"),
    ("cleaner.stages.repair", "repair", "repair"),
    ("cleaner.pipeline", "template_keys", "template line keys"),
    ("cleaner.runner", "_count_templates", "template counting (parent)"),
    ("cleaner.stages.strip", "strip", "strip"),
    ("cleaner.pipeline", "predict_text_languages", "language ID"),
    ("cleaner.stages.convert", "convert", "convert"),
    ("cleaner.stages.dedup", "fingerprint", "fingerprint"),
    ("cleaner.sinks.packed", "pack", "records built (worker side)"),
    ("cleaner.runner", "write_step", "write step (parent, all below)"),
    ("cleaner.state.dedup_index", "DedupIndex.check", "  dedup index check"),
    ("cleaner.state.dedup_index", "DedupIndex.add", "  dedup index add"),
    ("cleaner.state.dedup_index", "DedupIndex.flush", "  dedup index flush"),
    ("cleaner.sinks.warc", "ArchiveWriter.write_packed", "  warc append (clean)"),
    ("cleaner.sinks.warc", "ArchiveWriter.write_duplicate", "  warc write (duplicate)"),
    ("cleaner.state.ledger", "Ledger.record_documents", "  ledger rows"),
    ("cleaner.state.ledger", "Ledger.commit", "  ledger commit"),
    ("cleaner.runner", "warm_up", "warm-up (once)"),
)


def _clocked(fn: Callable[..., Any], label: str, totals: dict[str, list[float]]) -> Callable[..., Any]:
    entry = totals.setdefault(label, [0.0, 0])

    def clocked(*args: Any, **kwargs: Any) -> Any:
        start = time.thread_time()
        try:
            return fn(*args, **kwargs)
        finally:
            entry[0] += time.thread_time() - start
            entry[1] += 1

    return clocked


def stage_functions() -> list[tuple[Any, str, Callable[..., Any], str]]:
    """(owner, attribute, function, label) of each STAGES entry, where its callers look it up."""
    found = []
    for module_name, name, label in STAGES:
        owner: Any = importlib.import_module(module_name)
        *classes, attr = name.split(".")
        for cls in classes:
            owner = getattr(owner, cls)
        found.append((owner, attr, getattr(owner, attr), label))
    return found


def install(totals: dict[str, list[float]]) -> list[tuple[Any, str, Any]]:
    """Replace each STAGES function by a clocked one; returns what `uninstall` needs to put
    them back."""
    undo = []
    for owner, name, fn, label in stage_functions():
        if inspect.isgeneratorfunction(fn):
            raise ValueError(f"{owner}.{name} is a generator: its clock would stop at the first yield")
        undo.append((owner, name, fn))
        setattr(owner, name, _clocked(fn, label, totals))
    return undo


def uninstall(undo: list[tuple[Any, str, Any]]) -> None:
    for owner, name, fn in reversed(undo):
        setattr(owner, name, fn)


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--json", help="also write {label: [seconds, calls]} here")
    args, rest = ap.parse_known_args(argv)
    totals: dict[str, list[float]] = {}
    undo = install(totals)
    from cleaner.cli import main as cleaner_main

    try:
        code = cleaner_main(["run", "--workers", "1", "--no-progress", "-q", *rest])
    finally:
        uninstall(undo)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    totals["TOTAL process CPU"] = [usage.ru_utime + usage.ru_stime, 1]
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(totals, fh)
    for label, (seconds, calls) in totals.items():
        print(f"{label:32s} {seconds:8.2f} s {calls:8d} calls")
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
