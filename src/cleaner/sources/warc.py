"""Turn the records of an input WARC/ARC file into Documents (one per article-like payload).

Which records are articles: `response` records with an HTML or plain-text entity and a 2xx
status, `resource` records with a text payload (not crawler logs under metadata: URIs) and
`conversion` records (WET text). `warcinfo`, `request`, `metadata`, `dns` and non-text payloads
(images, scripts, css) are not articles: they are skipped and listed with the reason.
`revisit` records carry no payload: they are skipped too, naming the original when it is in
the same file; cross-file resolution would need the whole input set, and a re-capture of a
payload adds nothing to a text corpus.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from cleaner.document import Document, Source, WarcOrigin, document_id
from cleaner.sources.filebytes import FileBytes
from cleaner.sources.httpbody import BodyError, dechunk, decode_body, parse_head, split_content_type
from cleaner.sources.warcframe import Damage, Record, frame

HTML_TYPES = frozenset({"text/html", "application/xhtml+xml", "application/xhtml", "application/html"})
TEXT_TYPES = frozenset({"text/plain"})
_UNTYPED = frozenset({None, "", "application/octet-stream", "unk", "unknown", "no-type", "binary/octet-stream"})
_NOT_ARTICLES = frozenset({"warcinfo", "request", "metadata", "continuation"})
_CRAWLER_SCHEMES = ("metadata:", "dns:", "filedesc:", "urn:")


@dataclass
class Context:
    """Per input file: identity for Sources, the size limit, and what was skipped and why.

    `where` names the WARC data in messages and `base` is where it starts in the input file:
    the file itself and 0, except for a WARC inside a WACZ (`entry`; base None when the entry
    is compressed: offsets in it then name no byte of the file)."""

    rel: str
    sha256: str
    limit: int
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (where, reason)
    warnings: list[str] = field(default_factory=list)
    _ids: dict[str, int] = field(default_factory=dict)
    _digests: dict[str, str] = field(default_factory=dict)  # payload digest -> record id
    where: str = ""
    base: int | None = 0

    def __post_init__(self) -> None:
        self.where = self.where or self.rel

    def entry(self, where: str, base: int | None) -> Context:
        """The context of one WARC inside this input (a WACZ entry): the same input, record ids
        unique across its entries, skipped records and warnings collected here."""
        return replace(self, where=where, base=base)  # the same lists and dicts, shared

    def at(self, offset: int | None) -> int | None:
        """An offset in the WARC data as an offset in the input file (None: not one)."""
        return None if offset is None or self.base is None else self.base + offset

    def doc(self, raw: bytes, member: str | None, offset: int | None, **src: str | None) -> Document:
        source = Source(self.rel, self.sha256, member, self.at(offset), **src)
        return Document(id=document_id(self.sha256, member, self.rel), source=source, raw=raw, url=src.get("url"))

    def quarantined(self, raw: bytes, member: str | None, offset: int | None, reason: str) -> Document:
        return self.doc(raw[: self.limit], member, offset).quarantine("read", reason)

    def skip(self, offset: int, rtype: str, reason: str) -> None:
        self.skipped.append((f"{self.where}@{offset} {rtype}", reason))

    def member(self, record_id: str) -> str:
        """The record id, made unique in the file (wget 1.14 repeats ids)."""
        n = self._ids.get(record_id, 0)
        self._ids[record_id] = n + 1
        return record_id if n == 0 else f"{record_id}#{n}"


def utc_date(value: str | None) -> str | None:
    """'YYYY-MM-DDTHH:MM:SSZ' in UTC from a W3C-DTF or 14-digit date; None when it does not parse."""
    if not value:
        return None
    v = value.strip()
    try:
        if v.isdigit() and len(v) in (8, 12, 14):
            dt = datetime.strptime(v.ljust(14, "0"), "%Y%m%d%H%M%S").replace(tzinfo=UTC)
        else:
            dt = datetime.fromisoformat(v)
            if dt.tzinfo is None:
                dt = dt.replace(tzinfo=UTC)
    except ValueError:
        return None
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def sniff_html(head: bytes) -> bool:
    h = head[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return h.startswith((b"<!doctype html", b"<html")) or (h.startswith(b"<") and b"<html" in h[:512])


def _media(declared: str | None, body: bytes) -> str | None:
    """The bare media type to read the payload as, or None when it is not text."""
    if declared in HTML_TYPES:
        return "text/html"
    if declared in TEXT_TYPES:
        return "text/html" if sniff_html(body) else "text/plain"
    if declared in _UNTYPED or declared == "text/x-html":
        return "text/html" if sniff_html(body) else None
    return None


def read_warc(data: bytes | FileBytes, ctx: Context) -> Iterator[Document]:
    records, warnings = frame(data, ctx.limit)
    for item in records:
        if isinstance(item, Damage):
            reason = f"{ctx.where}: record at offset {item.offset}: {item.what}"
            yield ctx.quarantined(item.raw, ctx.member(f"offset:{item.offset}"), item.offset, reason)
            continue
        doc = _record_doc(item, ctx)
        if doc is not None:
            yield doc
    ctx.warnings.extend(f"{ctx.where}: {w}" for w in warnings.values())


def _record_doc(rec: Record, ctx: Context) -> Document | None:
    rtype = (rec.header("WARC-Type") or "").strip().lower()
    rid = (rec.header("WARC-Record-ID") or "").strip() or f"offset:{rec.offset}"
    if rec.arc:
        rid = f"offset:{rec.offset}"  # ARC has no record ids
    url = (rec.header("WARC-Target-URI") or "").strip().strip("<>") or None
    digest = (rec.header("WARC-Payload-Digest") or "").strip()
    if rtype in _NOT_ARTICLES:
        ctx.skip(rec.offset, rtype, f"{rtype} record")
        return None
    if rtype == "revisit":
        original = (rec.header("WARC-Refers-To") or "").strip() or ctx._digests.get(digest)
        where = f"original {original} is in this file" if original in ctx._ids else "original not in this file"
        ctx.skip(rec.offset, rtype, f"revisit without payload ({where})")
        return None
    if rtype not in ("response", "resource", "conversion"):
        ctx.skip(rec.offset, rtype or "?", f"record type {rtype or 'missing'!r} is not an article")
        return None
    if digest:
        ctx._digests.setdefault(digest, rid)
    member = ctx.member(rid)
    if url and url.lower().startswith(_CRAWLER_SCHEMES):
        ctx.skip(rec.offset, rtype, f"crawler metadata resource ({url})")
        return None
    wct_media, wct_charset = split_content_type(rec.header("Content-Type"))
    head = parse_head(rec.block) if rtype == "response" else None
    payload_offset = 0
    body = rec.block
    declared, charset = wct_media, wct_charset
    if rtype == "conversion" and declared is None:
        declared = "text/plain"
    if head is not None:
        payload_offset = head.payload_offset
        if head.status is not None and not 200 <= head.status < 300:
            ctx.skip(rec.offset, rtype, f"HTTP status {head.status}")
            return None
        declared, charset = split_content_type(head.get("Content-Type"))
        body = rec.block[payload_offset:]
        if "chunked" in (head.get("Transfer-Encoding") or "").lower():
            body = dechunk(body) or body  # crawlers often de-chunk but keep the header
        try:
            body = decode_body(body, head.get("Content-Encoding"), ctx.limit)
        except BodyError as err:
            reason = f"{ctx.where}: record at offset {rec.offset}: payload: {err}"
            return ctx.quarantined(rec.block, member, rec.offset, reason)
    elif rtype == "response" and (declared or "").startswith("application/http"):
        ctx.skip(rec.offset, rtype, "response block has no HTTP head")
        return None
    if not body.strip():
        ctx.skip(rec.offset, rtype, "empty payload")
        return None
    media = _media(declared, body[:1024])
    if media is None:
        ctx.skip(rec.offset, rtype, f"not a text payload ({declared or 'no media type'})")
        return None
    origin = WarcOrigin(rtype, rec.headers, rec.block, payload_offset, ctx.at(rec.offset), rid)
    date = utc_date(rec.header("WARC-Date"))
    doc = ctx.doc(body, member, rec.offset, url=url, fetched=date, media_type=media, charset=charset)
    doc.origin = origin
    return doc
