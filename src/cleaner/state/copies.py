"""Byte-identical inputs: found before cleaning, decided like the first copy, never cleaned again.

Scrapers fetch the same page again under a new file name, and crawls hold the same bytes at
several paths. Cleaning such a copy would give the first copy's text (the same bytes through
the same stages), so its outcome is known once the first copy's is: a duplicate of the first
copy when that was kept (an exact payload duplicate: the archive stores a revisit of its raw
record), of the same kept document when the first copy was itself a duplicate, quarantined
when the first copy was quarantined in this run (one quarantined in an earlier run, perhaps
under other settings, is not followed: the copy is cleaned, a retry). The copy skips every
stage (5k generated articles with 6.7% such copies: 2-5% less CPU; its lines were in the line
memos already) and does not count as one more page of its site in the template statistics,
which would make a syndicated article look like a site template.

Only whole plain inputs (a .txt or .html file: one document, no member) take part: a member
of a WARC or JSONL file is found again by the dedup index as usual. The first copy is looked
up in this run (inputs read since the last commit, in arrival order) and then in the ledger
(committed inputs; with `--dedup-scope run`, this run's only). Deterministic: arrival order and
commit points do not depend on timing or the number of workers.
"""

from __future__ import annotations

from typing import Any

from cleaner.document import Document, Outcome, document_id
from cleaner.state.ledger import Ledger

Row = dict[str, Any]  # a document's ledger row (`checkpoint._document_row`, `Ledger.document`)
_QUARANTINED = Outcome.QUARANTINED.value


class Copies:
    """First copies by input sha256, for one run; the parent's, like the ledger it reads."""

    def __init__(self, ledger: Ledger, run_id: str | None) -> None:
        self.ledger = ledger
        self.run_id = run_id  # only this run's inputs are first copies (`--dedup-scope run`), else None
        # sha256 -> doc id of the first copy: read since the last commit, or quarantined in this run
        self._first: dict[str, str] = {}
        self._rows: dict[str, Row] = {}  # ledger rows of first copies: written ones, and committed ones asked for
        self._chars: dict[str, int | None] = {}  # resolved copies, until their own row is written

    def mark(self, doc: Document) -> None:
        """Called for every document as its input is read: a whole plain input (a document
        without a member: its id is its input's) whose bytes were seen before becomes a pending
        copy (`doc.copy_of`), else it may be a first copy."""
        src = doc.source
        if doc.outcome is not Outcome.CLEAN or src.member is not None:
            return
        first = self._first.get(src.sha256) or self._committed(src.sha256)
        if first is None:
            self._first[src.sha256] = doc.id
        elif first != doc.id:
            doc.copy_of = first
            doc.outcome = Outcome.DUPLICATE  # until `resolve`: the workers pass it through untouched

    def _committed(self, sha256: str) -> str | None:
        """The whole-input document of a committed input with these bytes (its row kept for `resolve`)."""
        path = self.ledger.input_by_hash(sha256, self.run_id)
        if path is None:
            return None
        doc_id = document_id(sha256, None, path)
        row = self.ledger.document(doc_id)
        if row is None:  # its one document was a member (a WARC or JSONL file of one record)
            return None
        self._rows[doc_id] = row
        return doc_id

    def resolve(self, doc: Document) -> None:
        """Decide a pending copy (its first copy was decided before it: arrival order)."""
        first = doc.copy_of or ""
        row = self._rows.get(first) or self.ledger.document(first)
        if row is None:  # not written and not committed: cannot happen, but never guess
            doc.quarantine("dedup", f"same bytes as document {first}, whose outcome is unknown")
            return
        doc.title, doc.language, doc.url = row["title"], row["lang"], doc.url or row["url"]
        self._chars[doc.id] = row["chars"]
        if row["outcome"] == _QUARANTINED:
            doc.quarantine("dedup", f"same bytes as {row['input_path']}, quarantined: {row['problem']}")
        elif row["outcome"] == Outcome.DUPLICATE.value:
            doc.outcome = Outcome.DUPLICATE
            doc.duplicate_of, doc.dedup_method, doc.similarity = row["duplicate_of"], row["method"], row["similarity"]
            doc.dedup_note = row.get("dedup_note")
        else:
            doc.outcome = Outcome.DUPLICATE
            doc.duplicate_of, doc.dedup_method, doc.similarity = first, "exact", 1.0
            doc.dedup_note = "the same input bytes"

    def written(self, doc: Document, row: Row) -> None:
        """A document's ledger row is built: a copy's gets the length of its first copy's text (it
        has none of its own); a first copy's is kept while later copies may still ask for it."""
        if doc.id in self._chars:
            row["chars"] = self._chars.pop(doc.id)
        elif self._first.get(doc.source.sha256) == doc.id:
            self._rows[doc.id] = row

    def committed(self) -> None:
        """The ledger now holds every written first copy: forget them (bounded memory), but for
        the quarantined ones, which the ledger lookup skips (a later run retries them) while this
        run's later copies follow them all the same. First copies not written yet stay."""
        written = set(self._rows)  # (with committed rows asked for: no first copy of this run)
        self._rows = {k: r for k, r in self._rows.items() if r["outcome"] == _QUARANTINED}
        self._first = {sha: first for sha, first in self._first.items()
                       if first not in written or first in self._rows}
