"""The record that flows through the pipeline, and the edit log that makes every change explainable.

A stage never changes `Document.text` without appending an `Edit` per change. Edits are
replayable: applying a stage's edits in order to that stage's input gives its output
(`replay`). Each edit's span refers to the text as it stands when that edit applies, i.e.
after the edits before it, which is what lets a stage made of several passes stay replayable.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Literal, NamedTuple

Action = Literal["remove", "replace", "insert", "mark"]


@dataclass(frozen=True, slots=True)
class Source:
    """Where the bytes came from: enough to find them again in raw/ or in an input archive."""

    path: str  # relative to the input folder, POSIX separators
    sha256: str  # of the input file's bytes (ledger key)
    member: str | None = None  # WARC record id / JSONL line of a multi-document input
    offset: int | None = None  # byte offset of the member in the input file
    url: str | None = None  # target URI when the input names one
    fetched: str | None = None  # capture date, ISO 8601 UTC, when the input says so
    media_type: str | None = None  # "text/html", "text/plain" as read from the input
    charset: str | None = None  # declared charset (HTTP header, JSONL is always utf-8)


@dataclass(frozen=True, slots=True)
class WarcOrigin:
    """A record of an input WARC, kept whole so the archive copies it byte for byte."""

    record_type: str  # response | resource | conversion (as read)
    headers: tuple[tuple[str, str], ...]  # WARC header fields as read, in order
    block: bytes  # the record block exactly as stored (for response: HTTP head + body as sent)
    payload_offset: int  # where the HTTP entity starts inside `block` (0 when there is no HTTP head)
    offset: int | None  # of the record (its gzip member for .gz) in the input file; None: not one byte of it (a compressed WACZ entry)
    record_id: str  # the input record's WARC-Record-ID

    def header(self, name: str) -> str | None:
        low = name.lower()
        return next((v for k, v in self.headers if k.lower() == low), None)


class Edit(NamedTuple):
    """One change a stage made, with the rule that made it: the 'what and why'.

    A NamedTuple (immutable like the frozen dataclass it was): documents carry dozens to
    hundreds of edits between processes, and a tuple is built 3x and pickled 4x faster."""

    stage: str
    rule: str
    action: Action
    start: int
    end: int
    before: str
    after: str = ""
    note: str = ""

    def to_json(self) -> dict[str, Any]:
        return self._asdict()


REMOVING_STAGES = ("extract", "strip")  # their edits take lines and blocks out; the others fix text in place


def removes_content(stage: str, action: str, rule: str) -> bool:
    """An edit that took content out of the text (a rule's removal), not one that closed the
    blank lines left behind (strip's `whitespace`) or fixed text in place."""
    return action == "remove" and stage in REMOVING_STAGES and rule != "whitespace"


class Outcome(str, Enum):
    CLEAN = "clean"
    DUPLICATE = "duplicate"
    QUARANTINED = "quarantined"


@dataclass(slots=True)
class Document:
    id: str
    source: Source
    raw: bytes
    text: str = ""
    html: str | None = None  # decoded markup, set by decode for HTML inputs; extract empties it
    title: str | None = None
    url: str | None = None
    published: str | None = None
    language: str | None = None
    encoding: str | None = None
    encoding_evidence: str | None = None
    edits: list[Edit] = field(default_factory=list)
    outcome: Outcome = Outcome.CLEAN
    duplicate_of: str | None = None
    similarity: float | None = None
    dedup_method: str | None = None
    dedup_note: str | None = None  # the dedup index's evidence (`Match.note`), shown by `cleaner explain`
    problem: str | None = None  # "decode: binary content (NUL bytes)"
    fingerprint: Any = None  # set by the dedup stage in the worker, consumed by the parent
    origin: WarcOrigin | None = None  # the input WARC record, when the document came from one
    template_keys: list[int] | None = None  # line fingerprints after repair, counted by the parent
    copy_of: str | None = None  # an earlier input with the same bytes: decided like it (state/copies.py)

    @property
    def from_html(self) -> bool:
        """The text was extracted from markup (strip is more careful with such text)."""
        return self.html is not None or (self.source.media_type or "").endswith("html")

    def quarantine(self, stage: str, reason: str) -> Document:
        self.outcome = Outcome.QUARANTINED
        self.problem = f"{stage}: {reason}"
        return self


def document_id(sha256: str, member: str | None = None, path: str | None = None) -> str:
    """Stable id of one occurrence: the input's bytes, the member inside it, and where it lies.

    The path is part of it because two files with the same bytes are two documents (the
    second is recorded as a duplicate of the first), not one document seen twice.
    """
    key = "\0".join(x for x in (sha256, member or "", path or "") )
    return hashlib.sha256(key.encode("utf-8", "surrogateescape")).hexdigest()[:32]


def replay(text: str, edits: Iterable[Edit]) -> str:
    """Apply edits in order; raises if an edit does not fit the text (the log is wrong)."""
    for e in edits:
        if text[e.start : e.end] != e.before:
            raise ValueError(f"edit {e.stage}/{e.rule} at {e.start} does not match the text")
        text = text[: e.start] + e.after + text[e.end :]
    return text


class Rewriter:
    """Collects non-overlapping replacements on one text (a pass) and emits replayable edits.

    Spans given to `replace` refer to the pass input; `apply` shifts them so the emitted
    edits replay sequentially.
    """

    def __init__(self, text: str, stage: str) -> None:
        self.text = text
        self.stage = stage
        self._changes: list[tuple[int, int, str, str, Action, str]] = []

    def replace(self, start: int, end: int, after: str, rule: str, note: str = "") -> None:
        before = self.text[start:end]
        if before == after:
            return
        action: Action = "remove" if not after else ("insert" if start == end else "replace")
        self._changes.append((start, end, after, rule, action, note))

    def remove(self, start: int, end: int, rule: str, note: str = "") -> None:
        self.replace(start, end, "", rule, note)

    def sub(
        self,
        pattern: re.Pattern[str],
        repl: str | Callable[[re.Match[str]], str],
        rule: str,
        note: str = "",
    ) -> None:
        for m in pattern.finditer(self.text):
            after = repl(m) if callable(repl) else m.expand(repl)
            self.replace(m.start(), m.end(), after, rule, note)

    @property
    def changed(self) -> bool:
        return bool(self._changes)

    def apply(self, edits: list[Edit]) -> str:
        """Append this pass's edits to `edits` and return the rewritten text."""
        if not self._changes:
            return self.text
        self._changes.sort(key=lambda c: (c[0], c[1]))
        out: list[str] = []
        pos = 0
        delta = 0
        for start, end, after, rule, action, note in self._changes:
            if start < pos:  # overlaps an earlier change: keep the first one
                continue
            out.append(self.text[pos:start])
            out.append(after)
            before = self.text[start:end]
            edits.append(
                Edit(self.stage, rule, action, start + delta, end + delta, before, after, note)
            )
            delta += len(after) - (end - start)
            pos = end
        out.append(self.text[pos:])
        return "".join(out)
