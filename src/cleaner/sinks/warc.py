"""archive/: the WARC/1.1 sink. Two series, rotation, `.open` files, CDXJ and page indexes.

Raw originals go to `{prefix}-{ts14}-{serial5}-{host}.warc.gz`, derived records (conversion
+ metadata) to `{prefix}-TEXT-...`, so corpus readers never see raw HTML next to clean text.
Every file of a run stays `NAME.open` until `close()`: a crashed run leaves only `.open` files
(removed by `cleanup_stale`) and never a published file the ledger does not know about.
Indexes are written from the offsets the writer knows and merged into the archive's sorted
`index.cdxj` / `text.cdxj` atomically; `pages.jsonl` and `SHA256SUMS` grow the same way.
"""

from __future__ import annotations

import hashlib
import os
import re
import socket
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import BinaryIO, NamedTuple

from cleaner.config import ArchiveConfig
from cleaner.document import Document, Outcome
from cleaner.sinks import warc_records as wr
from cleaner.sinks.cdxj import (
    append_file, append_lines, cdxj_finish, cdxj_head, fold_segments, fsync_dir, page_line, pages_header,
    write_segment,
)
from cleaner.sinks.corpus import json_text

INDEX_NAME = "index.cdxj"
TEXT_INDEX_NAME = "text.cdxj"
PAGES_NAME = "pages.jsonl"
SUMS_NAME = "SHA256SUMS"
_REPLAY_TYPES = ("resource", "response", "revisit")
WRITE_BUFFER = 1 << 20


class RecordRef(NamedTuple):
    """What the ledger stores to find a record again. A NamedTuple: immutable like the frozen
    dataclass it was, at a sixth of the cost to create (the writer makes three a document)."""

    record_id: str  # "<urn:uuid:...>"
    filename: str  # final file name (not .open)
    offset: int  # gzip member offset
    length: int  # gzip member length
    date: str  # WARC-Date written
    target_uri: str
    payload_digest: str | None  # "sha1:BASE32"


class ArticleRefs(NamedTuple):
    raw: RecordRef | None
    text: RecordRef | None
    metadata: RecordRef


# A record ready for the writer: all of it but its file's lead (version line and warcinfo id,
# `wr.RecordLead`), deflated. Laid out as
#     (record id, WARC-Date, target URI, payload digest, cdx, *wr.Deflated)
# where cdx is its CDXJ line without length/offset/filename (None: not indexed) and the
# `wr.Deflated` fields (header fields after the lead, block and closing CRLFs) come last, so
# `rec[5:]` is its body. Plain tuples, not NamedTuples: these cross from the workers to the
# parent, and a NamedTuple costs a Python call to unpickle (~1 us) and ~2.5 us to pickle.
PackedRecord = tuple[str, str, str, str | None, str | None, bytes, int, int, int, int]
# A clean document's archive records and its pages.jsonl line (newline included), built in a
# worker: (raw, text, metadata, page).
PackedArticle = tuple[PackedRecord, PackedRecord, PackedRecord, bytes]
_EMPTY_TEXT = '"text": ""}'


def _new_record_id() -> str:
    """`f"<urn:uuid:{uuid.uuid4()}>"` (random, version 4, RFC 4122 variant) at a third of the
    cost: uuid.UUID's constructor is Python code, and a document takes three ids."""
    h = os.urandom(16).hex()
    return f"<urn:uuid:{h[:8]}-{h[8:12]}-4{h[13:16]}-{_VARIANT[int(h[16], 16) & 3]}{h[17:20]}-{h[20:]}>"


_VARIANT = "89ab"  # the first hex digit of the 4th group: bits 10xx


class RecordBuilder:
    """Builds one run's records from documents: in the workers for clean articles (`article`),
    in the parent for duplicates and quarantined inputs, so the single writer mostly appends
    bytes. Record ids and dates are made here: they do not depend on the file a record lands in."""

    def __init__(
        self, cfg: ArchiveConfig, run_id: str, config_sha256: str, *, level: int | None = None,
        clock: Callable[[], datetime] | None = None, new_id: Callable[[], str] | None = None,
    ) -> None:
        self.cfg = cfg
        self.level = cfg.gzip_level if level is None else level
        if not 0 <= self.level <= 9:
            raise ValueError(f"archive.gzip_level must be 0-9, got {self.level}")
        self.clock = clock or (lambda: datetime.now(UTC))
        self.new_id = new_id or _new_record_id
        self.run_fields = [
            ("software", f"cleaner/{wr.cleaner_version()}"),
            ("cleaner-run-id", run_id),
            ("cleaner-config-sha256", config_sha256),
        ]

    def now(self) -> str:
        return wr.w3c_date(self.clock())

    def capture_date(self, doc: Document) -> str:
        """Capture date of the input (the input record's own date for WARC inputs), else now."""
        if doc.origin is not None:
            date = wr.capture_date(doc.origin.header("WARC-Date"))
            if date:
                return date
        return wr.capture_date(doc.source.fetched) or self.now()

    def raw_record(self, doc: Document) -> tuple[wr.Rec, str, list[tuple[str, str]]]:
        uri = wr.doc_uri(doc)
        if doc.origin is not None:
            rec, notes = wr.copy_record(doc.origin, self.new_id(), uri, self.capture_date(doc), doc.encoding)
            return rec, uri, notes
        return wr.resource_record(doc, self.new_id(), uri, self.capture_date(doc)), uri, []

    def metadata(self, doc: Document, uri: str, refers_to: str | None,
                 notes: list[tuple[str, str]], outcome: list[tuple[str, str]], tail: bytes = b"") -> wr.Rec:
        cleaned_at = self.now()
        pairs = wr.provenance(doc, self.run_fields, cleaned_at) + notes + outcome
        return wr.metadata_record(self.new_id(), uri, cleaned_at, refers_to, pairs, tail)

    def pack(self, rec: wr.Rec, raw_series: bool) -> PackedRecord:
        """Deflated record (all but its lead) and index line head of a record for the raw or the text series."""
        assert rec.uri is not None
        wanted = rec.rtype in _REPLAY_TYPES if raw_series else rec.rtype == "conversion"
        cdx = None
        if wanted and not (rec.rtype == "resource" and rec.content_type == wr.WARC_FIELDS):
            cdx = cdxj_head(rec.uri, rec.date, mime=rec.mime, status=rec.status, digest=rec.payload_digest)
        return (rec.rid, rec.date, rec.uri, rec.payload_digest, cdx,
                *wr.deflate_record(wr.header_fields(rec), rec.block, self.level))

    def article(self, doc: Document, text_utf8: bytes | None = None, text_json: bytes | None = None) -> PackedArticle:
        """A clean document: raw original, its cleaned text (conversion) and provenance.
        `text_utf8`, `text_json`: the text in UTF-8 and as a JSON string (`corpus.json_text`),
        when the caller has them (a worker needs them for the clean/ line too)."""
        if text_utf8 is None:
            text_utf8 = doc.text.encode("utf-8")
        if text_json is None:
            text_json = json_text(doc.text, text_utf8)
        raw, uri, notes = self.raw_record(doc)
        conv = wr.conversion_record(doc, self.new_id(), uri, raw.date, raw.rid, text_utf8)
        meta = self.metadata(doc, uri, conv.rid, notes, [
            ("outcome", Outcome.CLEAN.value),
            ("chars-out", str(len(doc.text))),
            ("edits-count", str(len(doc.edits))),
        ], wr.edit_fields(doc.edits))
        # the pages.jsonl entry with the text's JSON spliced in where `page_line` puts it (last)
        page = page_line(doc.id, uri, raw.date, doc.title, "")
        if page.endswith(_EMPTY_TEXT):
            line = b"".join((page[:-3].encode("utf-8"), text_json, b"}\n"))
        else:  # laid out otherwise: encode it whole
            line = page_line(doc.id, uri, raw.date, doc.title, doc.text).encode("utf-8") + b"\n"
        return self.pack(raw, True), self.pack(conv, False), self.pack(meta, False), line


def short_hostname() -> str:
    """Host part of file names: the short name, limited to IIPC-safe characters."""
    host = socket.gethostname().split(".")[0] or "localhost"
    return re.sub(r"[^A-Za-z0-9._~-]", "-", host)


def _series_re(stem: str) -> re.Pattern[str]:
    return re.compile(rf"^{re.escape(stem)}-(\d{{14}})-(\d{{5,}})-[^/]*\.warc\.gz(\.open)?$")


def next_serial(archive_dir: Path, stem: str) -> int:
    """Serials continue across runs: one past the highest of this series already present."""
    rx = _series_re(stem)
    serials = [int(m.group(2)) for p in archive_dir.iterdir() if (m := rx.match(p.name))]
    return max(serials) + 1 if serials else 0


def fold_indexes(archive_dir: Path) -> int:
    """Fold the checkpoints' index segments into index.cdxj and text.cdxj (`cdxj.fold_segments`)."""
    return fold_segments(archive_dir / INDEX_NAME) + fold_segments(archive_dir / TEXT_INDEX_NAME)


def cleanup_stale(archive_dir: Path) -> list[Path]:
    """Remove what a crashed run left: `*.warc.gz.open` files and unfinished index temps."""
    removed: list[Path] = []
    if not archive_dir.is_dir():
        return removed
    for p in sorted(archive_dir.iterdir()):
        name = p.name
        if p.is_file() and (name.endswith(".warc.gz.open") or name.endswith(".pages.jsonl.open")
                            or name.endswith(".cdxj.tmp")  # the index or a segment, cut short
                            or name in (f"{PAGES_NAME}.tmp", f"{SUMS_NAME}.tmp")):
            p.unlink()
            removed.append(p)
    if removed:
        fsync_dir(archive_dir)
    return removed


class _Series:
    """One file series of this run: the open file, its warcinfo, rotation and checksums."""

    def __init__(self, writer: ArchiveWriter, stem: str, description: str) -> None:
        self.w = writer
        self.stem = stem
        self.description = description
        self.serial = next_serial(writer.dir, stem)
        self.fh: BinaryIO | None = None
        self.name = ""
        self.size = 0
        self.articles = 0
        self.warcinfo_id: str | None = None
        self.lead: wr.RecordLead | None = None
        self.sha = hashlib.sha256()
        self.finished: list[tuple[Path, str, str]] = []  # (.open path, final name, sha256)

    def _open(self) -> None:
        w = self.w
        while True:
            name = f"{self.stem}-{w.ts14}-{self.serial:05d}-{w.host}.warc.gz"
            self.serial += 1
            if not (w.dir / name).exists() and not (w.dir / f"{name}.open").exists():
                break
        # a large buffer: members are ~1-3 KB, so the default 8 KB one meant a write call every few records
        self.fh = open(w.dir / f"{name}.open", "xb", buffering=WRITE_BUFFER)  # noqa: SIM115 (closed in _finish)
        self.name, self.size, self.articles, self.sha = name, 0, 0, hashlib.sha256()
        self.warcinfo_id = w.new_id()
        self.lead = wr.RecordLead(self.warcinfo_id, w.level)
        if len(self.lead.text) != wr.LEAD_LEN:  # records are deflated after a lead of this length
            raise ValueError(f"warcinfo record id {self.warcinfo_id!r} is not a <urn:uuid:...>")
        pairs = [
            ("software", wr.software_versions()),
            ("format", "WARC File Format 1.1"),
            ("conformsTo", "https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/"),
            ("isPartOf", w.cfg.collection),
            ("description", self.description),
            ("hostname", w.host),
        ]
        if w.cfg.operator:
            pairs.append(("operator", w.cfg.operator))
        pairs += [
            ("cleaner-run-id", w.run_id),
            ("cleaner-config-sha256", w.config_sha256),
            ("cleaner-config", w.config_json),
        ]
        info = wr.warcinfo_record(self.warcinfo_id, w.now(), name, pairs)
        self._write(wr.serialize(info, None, w.level))

    def _write(self, blob: bytes) -> int:
        assert self.fh is not None
        offset = self.size
        self.fh.write(blob)
        self.sha.update(blob)
        self.size += len(blob)
        return offset

    def _finish(self) -> None:
        if self.fh is None:
            return
        self.fh.flush()
        os.fsync(self.fh.fileno())
        self.fh.close()
        self.fh = None
        self.finished.append((self.w.dir / f"{self.name}.open", self.name, self.sha.hexdigest()))

    def _member(self, rec: PackedRecord) -> bytes:
        assert self.lead is not None
        return self.lead.member(rec[5:])

    def write_group(self, recs: list[PackedRecord]) -> list[tuple[PackedRecord, int, int]]:
        """Write one article's records into one file; rotate first if they would not fit."""
        if self.fh is None:
            self._open()
        blobs = [self._member(r) for r in recs]
        if self.articles and self.size + sum(map(len, blobs)) > self.w.cfg.rotate_bytes:
            self._finish()
            self._open()
            blobs = [self._member(r) for r in recs]
        self.articles += 1
        return [(r, self._write(b), len(b)) for r, b in zip(recs, blobs, strict=True)]

    def abort(self) -> None:
        if self.fh is not None:
            self.fh.close()
            self.fh = None
            self.finished.append((self.w.dir / f"{self.name}.open", self.name, ""))
        for path, _, _ in self.finished:
            path.unlink(missing_ok=True)
        self.finished = []


class ArchiveWriter:
    """Single writer of archive/ for one run (the parent process owns it)."""

    def __init__(
        self,
        archive_dir: Path,
        cfg: ArchiveConfig,
        run_id: str,
        config_sha256: str,
        config_json: str,
        *,
        clock: Callable[[], datetime] | None = None,
        new_id: Callable[[], str] | None = None,
        hostname: str | None = None,
        gzip_level: int | None = None,
    ) -> None:
        self.dir = Path(archive_dir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.cfg = cfg
        self.run_id = run_id
        self.config_sha256 = config_sha256
        self.config_json = wr.field_value(config_json)
        self.builder = RecordBuilder(cfg, run_id, config_sha256, level=gzip_level, clock=clock, new_id=new_id)
        self.new_id = self.builder.new_id
        self.host = re.sub(r"[^A-Za-z0-9._~-]", "-", hostname) if hostname else short_hostname()
        self.level = self.builder.level
        start = self.builder.clock()
        self.ts14 = (start if start.tzinfo else start.replace(tzinfo=UTC)).astimezone(UTC).strftime("%Y%m%d%H%M%S")
        self.raw = _Series(self, cfg.prefix, "raw originals of cleaned articles")
        self.text = _Series(self, f"{cfg.prefix}-TEXT", "cleaned text and cleaning provenance")
        self._index: list[str] = []
        self._text_index: list[str] = []
        self._pages_path = self.dir / f".{cfg.prefix}-{self.ts14}-{os.getpid()}.pages.jsonl.open"
        self._pages: BinaryIO | None = None
        self._closed = False

    # ------------------------------------------------------------------ public API

    def write_article(self, doc: Document) -> ArticleRefs:
        """A clean document: raw original, its cleaned text (conversion) and provenance."""
        return self.write_packed(self.builder.article(doc))

    def write_packed(self, article: PackedArticle) -> ArticleRefs:
        """A clean document whose records were built ahead (`RecordBuilder.article`, in a worker)."""
        raw_rec, text_rec, meta_rec, page = article
        raw = self._put(self.raw, [raw_rec])[0]
        text, meta = self._put(self.text, [text_rec, meta_rec])
        self._page(page)
        return ArticleRefs(raw, text, meta)

    def write_duplicate(self, doc: Document, original: RecordRef, built: PackedRecord | None = None) -> ArticleRefs:
        """Exact payload duplicate -> revisit; near duplicate -> raw record. Metadata either way.

        `built`: the raw record a worker already built for this document (expecting it clean);
        a near duplicate of a plain input stores that same record, not deflated again here."""
        b = self.builder
        uri = wr.doc_uri(doc)
        mine = wr.payload_digest_of(doc)
        notes: list[tuple[str, str]] = []
        revisit = bool(original.payload_digest and mine == original.payload_digest and (
            doc.origin is None or doc.origin.record_type != "revisit"
        ))
        if revisit:
            rec = wr.revisit_record(doc, b.new_id(), uri, b.capture_date(doc), original)
            if doc.origin is not None:
                notes = wr.origin_notes(doc.origin)
            packed = b.pack(rec, True)
        elif built is not None and doc.origin is None:  # raw_record's resource record, no notes
            packed = built
        else:
            rec, uri, notes = b.raw_record(doc)
            packed = b.pack(rec, True)
        raw = self._put(self.raw, [packed])[0]
        pairs = [("outcome", Outcome.DUPLICATE.value)]
        if doc.duplicate_of:
            pairs.append(("duplicate-of", doc.duplicate_of))
        pairs.append(("duplicate-of-record", original.record_id))
        if doc.similarity is not None:
            pairs.append(("similarity", f"{doc.similarity:.4f}"))
        pairs.append(("method", doc.dedup_method or ("exact" if revisit else "near")))
        if doc.dedup_note:
            pairs.append(("evidence", doc.dedup_note))
        meta = b.metadata(doc, uri, raw.record_id, notes, pairs)
        return ArticleRefs(raw, None, self._put(self.text, [b.pack(meta, False)])[0])

    def write_quarantined(self, doc: Document) -> ArticleRefs:
        """Keep the input (when there are bytes) and say why it was not cleaned."""
        b = self.builder
        raw: RecordRef | None = None
        notes: list[tuple[str, str]] = []
        uri = wr.doc_uri(doc)
        if doc.origin is not None or doc.raw:
            rec, uri, notes = b.raw_record(doc)
            raw = self._put(self.raw, [b.pack(rec, True)])[0]
        pairs = [("outcome", Outcome.QUARANTINED.value), ("problem", doc.problem or "unknown")]
        meta = b.metadata(doc, uri, raw.record_id if raw else None, notes, pairs)
        return ArticleRefs(raw, None, self._put(self.text, [b.pack(meta, False)])[0])

    def close(self) -> list[Path]:
        """Publish this run: fsync, rename `.open` files, merge indexes. Returns the WARC files."""
        if self._closed:
            return []
        self._closed = True
        published: list[Path] = []
        sums: list[str] = []
        for series in (self.raw, self.text):
            series._finish()
            for open_path, name, digest in series.finished:
                final = self.dir / name
                os.rename(open_path, final)
                published.append(final)
                sums.append(f"{digest}  {name}")
            series.finished = []
        fsync_dir(self.dir)
        # this checkpoint's index lines: a segment of each index, folded at the end of the run
        write_segment(self.dir / INDEX_NAME, self.ts14, self._index)
        write_segment(self.dir / TEXT_INDEX_NAME, self.ts14, self._text_index)
        if self._pages is not None:
            self._pages.flush()
            self._pages.close()
            self._pages = None
            append_file(self.dir / PAGES_NAME, self._pages_path, header=pages_header(self.cfg.collection))
            self._pages_path.unlink()
        append_lines(self.dir / SUMS_NAME, sums)
        return published

    def abort(self) -> None:
        """Crash/exception path: remove this run's `.open` files; published files are untouched."""
        if self._closed:
            return
        self._closed = True
        self.raw.abort()
        self.text.abort()
        if self._pages is not None:
            self._pages.close()
            self._pages = None
        self._pages_path.unlink(missing_ok=True)
        fsync_dir(self.dir)

    def __enter__(self) -> ArchiveWriter:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()

    # ------------------------------------------------------------------ internals

    def now(self) -> str:
        return self.builder.now()

    def _put(self, series: _Series, recs: list[PackedRecord]) -> list[RecordRef]:
        if self._closed:
            raise RuntimeError("archive writer is closed")
        refs = []
        index = self._index if series is self.raw else self._text_index
        for rec, offset, length in series.write_group(recs):
            rid, date, uri, digest, cdx = rec[:5]
            refs.append(RecordRef(rid, series.name, offset, length, date, uri, digest))
            if cdx is not None:
                index.append(cdxj_finish(cdx, length=length, offset=offset, filename=series.name))
        return refs

    def _page(self, line: bytes) -> None:
        if self._pages is None:
            self._pages = open(self._pages_path, "wb", buffering=WRITE_BUFFER)  # noqa: SIM115 (closed in close/abort)
        self._pages.write(line)
