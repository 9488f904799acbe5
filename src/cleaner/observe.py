"""What the operator sees: logs on stderr (text or JSON lines), progress, and the run summary.

Data goes to stdout only for commands that produce data; everything diagnostic goes to stderr.
A progress bar is drawn only on a TTY; under cron a progress line is logged every few seconds.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

LOG = logging.getLogger("cleaner")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(record.created)),
            "level": record.levelname.lower(),
            "event": getattr(record, "event", "log"),
            "msg": record.getMessage(),
        }
        for key in ("run", "path", "member", "stage", "rule", "reason", "data"):
            value = getattr(record, key, None)
            if value is not None:
                out[key] = value
        return json.dumps(out, ensure_ascii=False)


def setup_logging(verbosity: int, log_format: str) -> None:
    """verbosity: -1 quiet (errors), 0 default (warnings + summary), 1 info, 2 debug."""
    level = {-1: logging.ERROR, 0: logging.WARNING, 1: logging.INFO}.get(verbosity, logging.DEBUG)
    handler = logging.StreamHandler(sys.stderr)
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("cleaner: %(message)s"))
    LOG.handlers[:] = [handler]
    LOG.setLevel(level)
    LOG.propagate = False


@dataclass
class RunSummary:
    run_id: str = ""
    inputs_seen: int = 0
    inputs_new: int = 0
    inputs_skipped: int = 0  # unchanged since an earlier run
    documents: int = 0
    records_skipped: int = 0  # WARC records that are not articles (requests, images, redirects...)
    clean: int = 0
    duplicates: int = 0
    quarantined: int = 0
    copies: int = 0  # documents with an earlier input's bytes: decided like it, not cleaned (state/copies.py)
    bytes_in: int = 0
    seconds: float = 0.0
    rules: Counter[str] = field(default_factory=Counter)  # lines/blocks removed per rule
    problems: list[dict[str, str]] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    dry_run: bool = False

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["rules"] = dict(self.rules.most_common())
        return d

    def render(self) -> str:
        if self.inputs_new == 0 and not self.problems:
            if self.inputs_seen == 0:
                return "nothing new: the input folder holds no inputs; no files written"
            return (
                f"nothing new: {self.inputs_seen} inputs, all handled by earlier runs; "
                "no files written"
            )
        rate = self.documents / self.seconds if self.seconds > 0 else 0.0
        head = "dry run, nothing written: " if self.dry_run else ""
        lines = [
            f"{head}run {self.run_id}: {self.inputs_new} new inputs ({self.inputs_skipped} unchanged), "
            f"{self.documents} documents: {self.clean} clean, {self.duplicates} duplicates, "
            f"{self.quarantined} quarantined in {self.seconds:.1f}s ({rate:.0f} docs/s)"
            + (f"; {self.records_skipped} non-article records skipped" if self.records_skipped else "")
            + (f"; {self.copies} with an earlier input's bytes, not cleaned again" if self.copies else "")
        ]
        if self.rules:
            # ties by name, not by which document came first (keep="longest" writes in another order)
            ranked = sorted(self.rules.items(), key=lambda kv: (-kv[1], kv[0]))[:12]
            top = ", ".join(f"{rule} {n}" for rule, n in ranked)
            lines.append(f"removed per rule: {top}")
        for p in self.problems[:20]:
            lines.append(f"quarantined {p['path']}: {p['problem']}")
        if len(self.problems) > 20:
            lines.append(f"... and {len(self.problems) - 20} more (cleaner status, state/quarantine.jsonl)")
        return "\n".join(lines)

    def quarantine_line(self, state: str = "state") -> str:
        """One line for a quiet run's log (cron mails it): how many documents were quarantined,
        at which stage, and where the list is. Empty when none were."""
        if not self.problems:
            return ""
        stages = Counter(p["problem"].split(":", 1)[0] for p in self.problems)
        by_stage = ", ".join(f"{stage} {n}" for stage, n in sorted(stages.items(), key=lambda kv: (-kv[1], kv[0])))
        first = self.problems[0]
        return (f"{len(self.problems)} of {self.documents} documents quarantined in run {self.run_id} ({by_stage}), "
                f"e.g. {first['path']}: {first['problem']}; the list: cleaner status, {state}/quarantine.jsonl")


class Progress:
    """A rich bar on a TTY; otherwise a log line every `every_s` seconds."""

    def __init__(self, total: int, enabled: bool, every_s: float) -> None:
        self.total = total
        self.done = 0  # inputs
        self.docs = 0  # documents written
        self.held_docs = 0  # documents cleaned and not written yet (keep="longest" holds them all)
        self.every_s = every_s
        self.started = time.monotonic()
        self._last = self.started
        self._bar: Any = None
        self._task: Any = None
        if enabled and sys.stderr.isatty():
            from rich.progress import BarColumn, MofNCompleteColumn, Progress as Bar, TimeRemainingColumn

            self._bar = Bar(
                "[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(),
                TimeRemainingColumn(), transient=True,
            )
            self._bar.start()
            self._task = self._bar.add_task("cleaning", total=total)

    def advance(self, n: int = 1) -> None:
        """`n` more inputs committed."""
        self.done += n
        if self._bar is not None:
            self._bar.update(self._task, advance=n)
            return
        self._log()

    def wrote(self, n: int) -> None:
        """`n` more documents written: a crawl's WARC is one input for a long while, so the
        documents show that the run moves."""
        self.docs += n
        if self._bar is not None:
            self._bar.update(self._task, description=f"cleaning ({self.docs:,} documents)")
            return
        self._log()

    def held(self, n: int) -> None:
        """`n` more documents cleaned and held until the run's last one is (keep="longest")."""
        self.held_docs += n
        if self._bar is not None:
            self._bar.update(self._task, description=f"cleaning ({self.held_docs:,} documents, written once all are)")
            return
        self._log()

    def _log(self) -> None:
        now = time.monotonic()
        if now - self._last >= self.every_s:
            self._last = now
            if self.held_docs and not self.docs:
                LOG.info(
                    "progress: %d documents cleaned, written once all are (keep = longest)", self.held_docs,
                    extra={"event": "progress", "data": {"held": self.held_docs, "total": self.total}},
                )
                return
            rate = self.docs / max(now - self.started, 1e-9)
            LOG.info(
                "progress: %d/%d inputs, %d documents, %.0f documents/s", self.done, self.total, self.docs, rate,
                extra={"event": "progress", "data": {"done": self.done, "total": self.total, "documents": self.docs}},
            )

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None
