"""What a worker hands the single writer for a clean document: its outputs, already serialised.

The parent writes every record, line and row of the run, one after another, so whatever it
builds is serial time that more workers cannot share. The worker that cleaned a document
therefore also builds its archive records (deflated, headers included; digests; index lines),
its pages.jsonl and clean/ lines, and the counts the ledger row needs; the parent appends bytes
and fills in what only it knows (file name, offset, the file's warcinfo id).

It is built for the outcome "clean". When the parent's dedup decision makes the document a
duplicate, the parent writes it as before from the Document (no edits or text needed there),
and the packed records are dropped: ids are random, so nothing refers to them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from cleaner.config import ArchiveConfig
from cleaner.document import Document, Outcome, removes_content
from cleaner.sinks.corpus import LINE_ENCODER, added_now, article_line_bytes, json_text
from cleaner.sinks.warc import PackedArticle, RecordBuilder


@dataclass(frozen=True)
class PackSpec:
    """What a worker needs to build this run's records (picklable, sent with every task)."""

    archive: ArchiveConfig
    run_id: str
    config_sha256: str
    write_txt: bool  # clean/txt/ files are written: the parent needs the text


class Packed(NamedTuple):
    """A clean document's outputs; the Document that travels with it has no text and no edits."""

    article: PackedArticle
    corpus_line: bytes  # clean/ JSONL line in UTF-8, newline included (the writer appends bytes)
    text: str | None  # the article text, only when clean/txt/ files are written
    chars: int  # len(text)
    edits_json: str  # {stage:rule: edits} for the ledger row
    removed: tuple[tuple[str, int], ...]  # (stage:rule, lines removed) for the run summary


def removed_counts(doc: Document) -> dict[str, int]:
    """Lines and blocks removed per rule (the run summary's "removed per rule")."""
    out: dict[str, int] = {}
    for e in doc.edits:
        if removes_content(e.stage, e.action, e.rule):
            key = f"{e.stage}:{e.rule}"
            out[key] = out.get(key, 0) + 1
    return out


def edit_counts(doc: Document) -> tuple[dict[str, int], dict[str, int]]:
    """(`corpus.rule_counts`, `removed_counts`) in one pass over the edits."""
    rules: dict[str, int] = {}
    removed: dict[str, int] = {}
    for e in doc.edits:
        key = f"{e.stage}:{e.rule}"
        rules[key] = rules.get(key, 0) + 1
        if removes_content(e.stage, e.action, e.rule):
            removed[key] = removed.get(key, 0) + 1
    return rules, removed


def pack(doc: Document, builder: RecordBuilder, spec: PackSpec) -> Packed | None:
    """Build a clean document's outputs and drop what the parent no longer needs from `doc`
    (its edits and text: most of what pickling it back would cost). None for other outcomes."""
    if doc.outcome is not Outcome.CLEAN:
        return None
    utf8 = doc.text.encode("utf-8")
    text_json = json_text(doc.text, utf8)
    article = builder.article(doc, utf8, text_json)
    rules, removed = edit_counts(doc)
    text_rid = article[1][0]
    line = article_line_bytes(doc, added_now(), {"warc_record_id": text_rid}, rules, text_json)
    packed = Packed(article, line, doc.text if spec.write_txt else None, len(doc.text),
                    LINE_ENCODER.encode(rules), tuple(removed.items()))
    doc.edits = []
    doc.text = ""
    return packed


def pack_all(docs: list[Document], spec: PackSpec) -> list[tuple[Document, Packed | None]]:
    builder = RecordBuilder(spec.archive, spec.run_id, spec.config_sha256)
    return [(d, pack(d, builder, spec)) for d in docs]
