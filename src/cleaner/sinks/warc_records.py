"""WARC/1.1 records for the archive: building them from documents and serialising them.

Serialised here rather than through warcio's writer: warcio compresses every member at gzip
level 9, adds a payload digest to metadata records and re-reads blocks through streams; we
need one member per record at a chosen level, digests computed once over bytes we already
hold, and a copied input block that is never re-parsed. The output is checked by warcio,
FastWARC and the shared validator in the tests.
"""

from __future__ import annotations

import hashlib
import json
import re
import struct
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from importlib import metadata
from typing import Any, NamedTuple

from isal import isal_zlib

from cleaner.document import Document, Edit, WarcOrigin
from cleaner.sinks.cdxj import file_uri, to_uri

GZIP_LEVEL = 6  # ISA-L's highest (3) below; level 9 in zlib cost ~2x the CPU for ~2% smaller members
REVISIT_PROFILE = "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest"
WARC_FIELDS = "application/warc-fields"
TEXT_UTF8 = "text/plain; charset=utf-8"
RECORD_START = b"WARC/1.1\r\n"
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$")
_LINE_BREAKS = str.maketrans({"\r": " ", "\n": " ", "\x85": " ", "\u2028": " ", "\u2029": " "})
_LINE_BREAK_RE = re.compile("[\r\n\x85\u2028\u2029]")
# json.dumps with options builds a new encoder per call; the edit lines are the hot path
_EDIT_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
# the encoder's own string encoder for ensure_ascii=False (the C one when available)
_encode_str = json.encoder.encode_basestring
# Header fields of an input record that are rewritten or must not travel with a copy: ids and
# references point into files we do not ship; length and digests are recomputed here.
_COPY_DROP = {
    "warc-type", "warc-record-id", "warc-date", "warc-target-uri", "warc-warcinfo-id",
    "warc-concurrent-to", "warc-refers-to", "warc-filename", "content-length", "content-type",
    "warc-block-digest", "warc-payload-digest", "warc-segment-number", "warc-segment-origin-id",
    "warc-segment-total-length",
}
_REVISIT_KEEP = {"warc-profile", "warc-refers-to-target-uri", "warc-refers-to-date"}

# ISO 639-1 -> ISO 639-3 (the T codes), for WARC-Identified-Content-Language (CC's WET field).
_ISO639 = dict(
    pair.split(":")
    for pair in """aa:aar ab:abk ae:ave af:afr ak:aka am:amh an:arg ar:ara as:asm av:ava ay:aym
    az:aze ba:bak be:bel bg:bul bi:bis bm:bam bn:ben bo:bod br:bre bs:bos ca:cat ce:che ch:cha
    co:cos cr:cre cs:ces cu:chu cv:chv cy:cym da:dan de:deu dv:div dz:dzo ee:ewe el:ell en:eng
    eo:epo es:spa et:est eu:eus fa:fas ff:ful fi:fin fj:fij fo:fao fr:fra fy:fry ga:gle gd:gla
    gl:glg gn:grn gu:guj gv:glv ha:hau he:heb hi:hin ho:hmo hr:hrv ht:hat hu:hun hy:hye hz:her
    ia:ina id:ind ie:ile ig:ibo ii:iii ik:ipk io:ido is:isl it:ita iu:iku ja:jpn jv:jav ka:kat
    kg:kon ki:kik kj:kua kk:kaz kl:kal km:khm kn:kan ko:kor kr:kau ks:kas ku:kur kv:kom kw:cor
    ky:kir la:lat lb:ltz lg:lug li:lim ln:lin lo:lao lt:lit lu:lub lv:lav mg:mlg mh:mah mi:mri
    mk:mkd ml:mal mn:mon mr:mar ms:msa mt:mlt my:mya na:nau nb:nob nd:nde ne:nep ng:ndo nl:nld
    nn:nno no:nor nr:nbl nv:nav ny:nya oc:oci oj:oji om:orm or:ori os:oss pa:pan pi:pli pl:pol
    ps:pus pt:por qu:que rm:roh rn:run ro:ron ru:rus rw:kin sa:san sc:srd sd:snd se:sme sg:sag
    si:sin sk:slk sl:slv sm:smo sn:sna so:som sq:sqi sr:srp ss:ssw st:sot su:sun sv:swe sw:swa
    ta:tam te:tel tg:tgk th:tha ti:tir tk:tuk tl:tgl tn:tsn to:ton tr:tur ts:tso tt:tat tw:twi
    ty:tah ug:uig uk:ukr ur:urd uz:uzb ve:ven vi:vie vo:vol wa:wln wo:wol xh:xho yi:yid yo:yor
    za:zha zh:zho zu:zul iw:heb in:ind ji:yid""".split()
)


@dataclass(slots=True)
class Rec:
    """A record ready to serialise; `extra` fields go between Target-URI and the digests."""

    rtype: str
    rid: str
    date: str
    uri: str | None
    block: bytes
    content_type: str | None = None
    payload_digest: str | None = None
    extra: list[tuple[str, str]] = field(default_factory=list)
    block_digest: str = ""
    mime: str | None = None  # for the CDXJ line (what cdxj-indexer reports)
    status: str | None = None

    def __post_init__(self) -> None:
        if not self.block_digest:
            self.block_digest = sha1_b32(self.block)


# base32 of a 20-byte digest as 16 lookups of 10-bit pairs: base64.b32encode is Python code
# that takes ~3.6 us a call (three digests a document)
_B32_PAIRS = [a + b for a in "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567" for b in "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"]
_B32_SHIFTS = tuple(range(150, -1, -10))


def sha1_b32(data: bytes) -> str:
    """"sha1:" + base32 of the SHA-1 of `data` (160 bits: 32 characters, no padding)."""
    n = int.from_bytes(hashlib.sha1(data).digest(), "big")
    t = _B32_PAIRS
    return "sha1:" + "".join([t[(n >> s) & 1023] for s in _B32_SHIFTS])


def header_fields(rec: Rec) -> bytes:
    """A record's header after the version line and the `WARC-Warcinfo-ID` line, blank line
    included, UTF-8. That id belongs to the file the record lands in, which only the writer
    knows: it goes first (field order carries no meaning), so the writer's part of every
    member is the same for a whole file (see `RecordLead`) and the rest is built beforehand."""
    lines = [f"WARC-Type: {rec.rtype}\r\nWARC-Record-ID: {rec.rid}\r\nWARC-Date: {rec.date}\r\n"]
    if rec.uri is not None:
        lines.append(f"WARC-Target-URI: {rec.uri}\r\n")
    lines.extend(f"{k}: {v}\r\n" for k, v in rec.extra)
    if rec.content_type is not None:
        lines.append(f"Content-Type: {rec.content_type}\r\n")
    lines.append(f"WARC-Block-Digest: {rec.block_digest}\r\n")
    if rec.payload_digest is not None:
        lines.append(f"WARC-Payload-Digest: {rec.payload_digest}\r\n")
    lines.append(f"Content-Length: {len(rec.block)}\r\n\r\n")
    return "".join(lines).encode("utf-8")


def warcinfo_line(warcinfo_id: str | None) -> bytes:
    return f"WARC-Warcinfo-ID: {warcinfo_id}\r\n".encode() if warcinfo_id is not None else b""


def record_lead(warcinfo_id: str | None) -> bytes:
    """How every record of a file starts: the version line, then the file's warcinfo id."""
    return RECORD_START + warcinfo_line(warcinfo_id)


def record_bytes(rec: Rec, warcinfo_id: str | None) -> bytes:
    """A record uncompressed, as a gzip member of the archive holds it."""
    return record_lead(warcinfo_id) + header_fields(rec) + rec.block + b"\r\n\r\n"


def compressor(level: int, wbits: int, zdict: bytes | None = None) -> Any:
    """A deflate compressor for gzip `level` 0-9. Levels 1-9 use ISA-L (python-isal), whose
    levels stop at 3: 3-9 are its 3. It deflates the records ~7x faster than zlib at level 6
    for ~2.5% more disk (benchmarks/README.md, "Compression"); any inflater reads the result.
    Level 0 stores, as in zlib (ISA-L's 0 still compresses)."""
    if level == 0:
        if zdict is None:
            return zlib.compressobj(0, zlib.DEFLATED, wbits)
        return zlib.compressobj(0, zlib.DEFLATED, wbits, 8, zlib.Z_DEFAULT_STRATEGY, zdict)
    if zdict is None:
        return isal_zlib.compressobj(min(level, 3), isal_zlib.DEFLATED, wbits)
    return isal_zlib.compressobj(min(level, 3), isal_zlib.DEFLATED, wbits, 8, isal_zlib.Z_DEFAULT_STRATEGY, zdict)


def serialize(rec: Rec, warcinfo_id: str | None, level: int = GZIP_LEVEL) -> bytes:
    """One gzip member holding exactly one record (WARC 1.1 annex D)."""
    comp = compressor(level, 31)
    return comp.compress(record_bytes(rec, warcinfo_id)) + comp.flush()


class Deflated(NamedTuple):
    """A record after its lead (header fields, block, closing CRLFs) as the end of a gzip member:
    a raw deflate stream with its final block, and what the writer needs to finish the member
    around it without the uncompressed bytes. Built in the workers, so the single writer only
    appends bytes (`RecordLead.member`)."""

    data: bytes
    crc: int  # crc32 of the uncompressed bytes
    shift: int  # x^(8 * size) mod the CRC polynomial: moves a CRC past `size` bytes (see `RecordLead`)
    size: int  # uncompressed length
    lead: int  # length of the lead the stream was deflated after (its dictionary); 0: any lead


_M32 = 0xFFFFFFFF
_CRC_POLY = 0xEDB88320  # CRC-32 polynomial, bit-reversed as zlib holds it
_ZEROS = bytes(1 << 16)
# The lead of a file whose warcinfo id is a urn:uuid, with the 36 characters of the uuid masked.
# A record is deflated with it as preset dictionary, so its header refers back to "WARC-",
# "<urn:uuid:" and CRLF in the lead as one stream over the whole record would (without it the
# WARC files grew 0.8% on a 2000-document corpus; with it, they are 0.15% smaller than with
# the header deflated apart, as the writer did). Only bytes equal to the real lead may be
# referred to: a record holding the mask byte is deflated without the dictionary, so no match
# can reach into the masked uuid.
_MASK = b"\x00"
_LEAD_TEMPLATE = RECORD_START + b"WARC-Warcinfo-ID: <urn:uuid:" + _MASK * 36 + b">\r\n"
LEAD_LEN = len(_LEAD_TEMPLATE)


# ISA-L's crc32: zlib.crc32's values (the same CRC-32), ~8x faster (carry-less multiply). Two
# passes a record (its bytes and `crc_shift`'s zeros): ~11 us a document less than zlib's
_crc32 = isal_zlib.crc32


def _crc_zeros(n: int, crc: int) -> int:
    """crc32 of n zero bytes, continued from `crc`."""
    view = memoryview(_ZEROS)
    while n > len(_ZEROS):
        crc = _crc32(view, crc)
        n -= len(_ZEROS)
    return _crc32(view[:n], crc)


def crc_shift(n: int) -> int:
    """x^(8n) mod the CRC polynomial. zlib.crc32 over zeros applies the register map
    r -> r * x^(8n) around its pre/post inversion: from 0x7FFFFFFF the register is 0x80000000,
    the polynomial 1, so the result is the multiplier itself (inverted once more)."""
    return _crc_zeros(n, 0x7FFFFFFF) ^ _M32


def crc_multiply(a: int, b: int) -> int:
    """a * b modulo the CRC polynomial (zlib's multmodp, bit-reversed representation)."""
    p = 0
    m = 1 << 31
    while m:
        if a & m:
            p ^= b
        b = (b >> 1) ^ _CRC_POLY if b & 1 else b >> 1
        m >>= 1
    return p


def deflate_record(fields: bytes, block: bytes, level: int = GZIP_LEVEL) -> Deflated:
    """Header fields (`header_fields`), block and closing CRLFs as one raw deflate stream, to
    follow a file's `RecordLead`. One stream for header and block: a deflate block's Huffman
    trees cost ~8 us to build and ~20 bytes to store, once a record instead of twice."""
    rest = fields + block + b"\r\n\r\n"
    size = len(rest)
    if _MASK in rest:
        lead, comp = 0, compressor(level, -15)
    else:
        lead, comp = LEAD_LEN, compressor(level, -15, _LEAD_TEMPLATE)
    data = comp.compress(rest) + comp.flush()
    return Deflated(data, _crc32(rest), crc_shift(size), size, lead)


@cache
def _gzip_header(level: int) -> bytes:
    """The 10-byte member header zlib writes at this level (its XFL byte depends on it)."""
    return zlib.compressobj(level, zlib.DEFLATED, 31).flush()[:10]


class RecordLead:
    """The start every gzip member of one file shares: gzip header, then the record lead
    (`record_lead`: version line and the file's warcinfo id) deflated once, sync-flushed, so
    each member goes on byte-aligned with a record's own stream (`Deflated`); the two decode as
    one, the second referring back at most into the lead (its dictionary). The writer thus
    deflates nothing per record. The member's CRC comes from the parts' CRCs:
    crc32(lead + rest) = crc32(rest) ^ crc32(lead) * x^(8 len(rest)), the multiplication by
    this file's crc32(lead) (a linear map) tabulated per byte: four lookups a record."""

    __slots__ = ("text", "head", "_tables")

    def __init__(self, warcinfo_id: str | None, level: int = GZIP_LEVEL) -> None:
        self.text = record_lead(warcinfo_id)
        comp = compressor(level, -15)
        self.head = _gzip_header(level) + comp.compress(self.text) + comp.flush(zlib.Z_SYNC_FLUSH)
        crc = zlib.crc32(self.text)
        basis = [crc_multiply(1 << i, crc) for i in range(32)]
        tables = []
        for k in range(4):
            table = [0] * 256
            for v in range(1, 256):
                low = v & -v
                table[v] = table[v ^ low] ^ basis[8 * k + low.bit_length() - 1]
            tables.append(table)
        self._tables = tuple(tables)

    def member(self, body: tuple[bytes, int, int, int, int]) -> bytes:
        """One gzip member holding exactly one record (WARC 1.1 annex D). `body`: a `Deflated`
        or a plain tuple of its fields (what crosses from the workers)."""
        data, crc, shift, size, lead = body
        if lead and lead != len(self.text):
            raise ValueError(f"record deflated after a {lead}-byte lead, this file's is {len(self.text)}")
        t0, t1, t2, t3 = self._tables
        crc ^= t0[shift & 0xFF] ^ t1[(shift >> 8) & 0xFF] ^ t2[(shift >> 16) & 0xFF] ^ t3[shift >> 24]
        return b"".join((self.head, data, struct.pack("<II", crc, (len(self.text) + size) & _M32)))


# ----------------------------------------------------------------------------- small rules


def w3c_date(moment: datetime, micros: bool = True) -> str:
    """UTC W3C-DTF; microseconds only where the time is real (not a date known to the second).

    isoformat (C) rather than strftime (a third of the cost); strftime for years before 1000,
    which it writes unpadded ("999-...")."""
    if moment.tzinfo is not UTC:
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        moment = moment.astimezone(UTC)
    if moment.year < 1000:
        base = moment.strftime("%Y-%m-%dT%H:%M:%S")
        return f"{base}.{moment.microsecond:06d}Z" if micros and moment.microsecond else base + "Z"
    text = moment.isoformat()  # YYYY-MM-DDTHH:MM:SS[.ffffff]+00:00
    return (text[:-6] if micros and moment.microsecond else text[:19]) + "Z"


def capture_date(value: str | None) -> str | None:
    """A capture date from the input, as a WARC-Date; None when absent or unreadable."""
    if not value:
        return None
    if _DATE_RE.match(value):
        return value
    try:
        moment = datetime.fromisoformat(value.strip().replace("z", "Z"))
    except ValueError:
        return None
    return w3c_date(moment)


def iso639_3(tag: str | None) -> str | None:
    """BCP-47 ('zh-Hans', 'de-CH') -> ISO 639-3 ('zho', 'deu'); None for unknown/undetermined."""
    if not tag:
        return None
    primary = tag.replace("_", "-").split("-", 1)[0].lower()
    if len(primary) == 3 and primary.isalpha() and primary not in ("und", "mul", "zxx"):
        return primary
    return _ISO639.get(primary)


def field_value(value: object) -> str:
    """A warc-fields / header value on one line (CR, LF and Unicode line breaks folded).

    The regex pre-check runs in C; translate with a dict table costs a lookup per character,
    which took 0.4 ms a document under cProfile on edit lines that almost never hold a line break.
    """
    text = str(value)
    return text.translate(_LINE_BREAKS) if _LINE_BREAK_RE.search(text) else text


def edit_json(e: Edit) -> str:
    """One `edit:` line, byte for byte what `_EDIT_ENCODER.encode` of the Edit's fields gives.

    Hot path (~30 edits a document): the strings go through json's C string encoder directly
    and the object is laid out by an f-string, a third of the cost of the encoder's dict walk.
    Anything not of the expected types (a str subclass, a bool offset) takes the encoder.
    """
    if not (type(e.start) is int and type(e.end) is int and type(e.stage) is str and type(e.rule) is str
            and type(e.action) is str and type(e.before) is str and type(e.after) is str
            and type(e.note) is str):
        text = _EDIT_ENCODER.encode({"stage": e.stage, "rule": e.rule, "action": e.action, "start": e.start,
                                     "end": e.end, "before": e.before, "after": e.after, "note": e.note})
    else:
        q = _encode_str
        text = (f'{{"stage":{q(e.stage)},"rule":{q(e.rule)},"action":{q(e.action)},"start":{e.start},'
                f'"end":{e.end},"before":{q(e.before)},"after":{q(e.after)},"note":{q(e.note)}}}')
    if "\u2028" in text or "\u2029" in text or "\x85" in text:
        text = text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029").replace("\x85", "\\u0085")
    return text


def warc_fields(pairs: list[tuple[str, str]]) -> bytes:
    return "".join(f"{k}: {field_value(v)}\r\n" for k, v in pairs).encode("utf-8")


# (stage, rule, action, note) -> the JSON around start..after of its edit lines: ~40 such
# combinations make most of a run's edits, so their strings are escaped once (bounded, see below)
_EDIT_PARTS: dict[tuple[str, str, str, str], tuple[str, str]] = {}
_EDIT_PARTS_MAX = 4096


def edit_fields(edits: list[Edit]) -> bytes:
    """The `edit:` lines of a metadata block, each `edit: ` + `edit_json(e)` + CRLF (JSON
    already escapes every line break, so the folding of `warc_fields` has nothing to do).

    Hot path (~30 edits a document): the JSON around the offsets and texts is cached per
    (stage, rule, action, note), and the U+2028/U+2029/NEL escapes are applied once to the
    joined lines (they are per character). An edit of unexpected types (a bool offset, a
    non-str text: the C string encoder raises TypeError) sends the whole list the exact way."""
    q = _encode_str
    parts = _EDIT_PARTS
    out = []
    try:
        for e in edits:
            start, end = e.start, e.end
            if type(start) is not int or type(end) is not int:
                raise TypeError("edit offsets must be int")
            key = (e.stage, e.rule, e.action, e.note)
            around = parts.get(key)
            if around is None:
                if len(parts) >= _EDIT_PARTS_MAX:
                    parts.clear()
                around = parts[key] = (
                    f'edit: {{"stage":{q(e.stage)},"rule":{q(e.rule)},"action":{q(e.action)},"start":',
                    f',"note":{q(e.note)}}}\r\n',
                )
            out.append(f'{around[0]}{start},"end":{end},"before":{q(e.before)},"after":{q(e.after)}{around[1]}')
    except TypeError:
        return "".join(f"edit: {edit_json(e)}\r\n" for e in edits).encode("utf-8")
    text = "".join(out)
    if "\u2028" in text or "\u2029" in text or "\x85" in text:
        text = text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029").replace("\x85", "\\u0085")
    return text.encode("utf-8")


@cache
def software_versions() -> str:
    """'cleaner/0.1.0 (warcio/1.8.1; ftfy/...)': what wrote the archive, read once per process."""
    parts = []
    for dist in ("warcio", "ftfy", "opencc", "beautifulsoup4", "lxml"):
        try:
            parts.append(f"{dist}/{metadata.version(dist)}")
        except metadata.PackageNotFoundError:
            continue
    return f"cleaner/{cleaner_version()} ({'; '.join(parts)})"


@cache
def cleaner_version() -> str:
    from cleaner import __version__

    return __version__


def doc_uri(doc: Document) -> str:
    """Target-URI of a document's raw record: its URL, else its place in the input folder."""
    if doc.origin is not None:
        uri = to_uri(doc.origin.header("WARC-Target-URI") or "")
        if uri:
            return uri
    for candidate in (doc.url, doc.source.url):
        if candidate:
            uri = to_uri(candidate)
            if uri:
                return uri
    return file_uri(doc.source.path, doc.source.member)


def payload_digest_of(doc: Document) -> str | None:
    """Digest of what the raw record would carry as payload (the dedup identity)."""
    if doc.origin is not None:
        if doc.origin.record_type == "revisit":
            return doc.origin.header("WARC-Payload-Digest")
        return sha1_b32(doc.origin.block[doc.origin.payload_offset :])
    return sha1_b32(doc.raw)


# ----------------------------------------------------------------------------- raw records


def sniff_media_type(raw: bytes, encoding: str | None, path: str) -> str:
    """Our own look at the bytes (WARC-Identified-Payload-Type must not just copy a header)."""
    enc = (encoding or "").lower()
    if enc.startswith(("utf-16", "utf-32")):
        head = raw[:2048].decode(enc, "replace").encode("utf-8", "replace")
    elif b"\x00" in raw:
        return "application/octet-stream"
    else:
        head = raw[:2048]
    head = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith((b"<!doctype html", b"<html", b"<head", b"<body", b"<meta")) or b"<html" in head:
        return "text/html"
    if head.startswith(b"<?xml") and b"<html" in head:
        return "application/xhtml+xml"
    if path.lower().endswith((".html", ".htm", ".xhtml")):
        return "text/html"
    return "text/plain"


def resource_record(doc: Document, rid: str, uri: str, date: str) -> Rec:
    """An HTML/text scrape archived byte for byte, typed with its original charset."""
    sniffed = sniff_media_type(doc.raw, doc.encoding, doc.source.path)
    declared = (doc.source.media_type or "").split(";")[0].strip().lower()
    undecoded = doc.encoding is None and not _is_utf8(doc.raw)  # quarantined before decode found a charset
    binary = sniffed == "application/octet-stream" or undecoded
    mtype = "application/octet-stream" if binary else (declared or sniffed)
    ctype = mtype
    if mtype.startswith("text/") or mtype.endswith(("+xml", "/xml")):
        charset = (doc.encoding or doc.source.charset or "").strip().lower()
        if charset in ("utf-8", "utf8", "utf-8-sig", "ascii", "us-ascii", ""):
            charset = "utf-8" if _is_utf8(doc.raw) else ""
        if charset:
            ctype = f"{mtype}; charset={charset}"
    extra = [] if sniffed == "application/octet-stream" else [("WARC-Identified-Payload-Type", sniffed)]
    digest = sha1_b32(doc.raw)
    return Rec("resource", rid, date, uri, doc.raw, ctype, digest, extra, block_digest=digest, mime=ctype)


def _is_utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def http_head(block: bytes, payload_offset: int) -> tuple[str | None, str | None]:
    """(status code, Content-Type) of an HTTP response head, as warcio's parser reports them."""
    head = block[:payload_offset].decode("iso-8859-1")
    lines = head.replace("\r\n", "\n").split("\n")
    parts = lines[0].split(" ", 2)
    status = parts[1] if len(parts) > 1 else None
    ctype = None
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if sep and name.strip().lower() == "content-type":
            ctype = value.strip()
            break
    return status, ctype


def bare_lf_head(block: bytes, payload_offset: int) -> bool:
    """True when an HTTP head's lines end in LF without CR (a violation some crawlers wrote)."""
    head = block[:payload_offset] if payload_offset else block[:65536]
    return head.startswith(b"HTTP/") and b"\n" in head and b"\r\n" not in head


def origin_notes(origin: WarcOrigin) -> list[tuple[str, str]]:
    """Where the input record was: its id, and its offset in the input file when it has one."""
    notes = [("source-record-id", origin.record_id)]
    if origin.offset is not None:
        notes.append(("source-offset", str(origin.offset)))
    return notes


def copy_record(
    origin: WarcOrigin, rid: str, uri: str, fallback_date: str, charset: str | None = None
) -> tuple[Rec, list[tuple[str, str]]]:
    """The input record as a new record: same block byte for byte, same date, fresh id.

    Returns the record and provenance fields for the metadata record (original id, and
    original digests or URI where ours differ).
    """
    rtype = origin.record_type
    date = origin.header("WARC-Date") or ""
    date = date if _DATE_RE.match(date) else (capture_date(date) or fallback_date)
    extra: list[tuple[str, str]] = []
    for name, value in origin.headers:
        low = name.lower()
        if low in _COPY_DROP or (low in _REVISIT_KEEP and rtype != "revisit"):
            continue
        if any(low == k.lower() for k, _ in extra):
            continue  # WARC fields shall not repeat
        extra.append((name, field_value(value).strip()))
    block = origin.block
    ctype = origin.header("Content-Type")
    notes = origin_notes(origin)
    if rtype == "response" and bare_lf_head(block, origin.payload_offset):
        # Not HTTP (its head ends lines with bare LF): readers disagree on where the payload
        # starts, so no payload digest can satisfy them all. Keep the bytes, not the violation.
        rtype, ctype = "resource", "application/octet-stream"
        notes.append(("repackaged", "response with a bare-LF HTTP head stored as a resource, block byte for byte"))
    if ctype and ctype.lower().startswith("text/") and "charset" not in ctype.lower() and charset:
        # readers of text records need the charset; the decode stage found it (the block is untouched)
        notes.append(("source-content-type", ctype))
        ctype = f"{ctype}; charset={charset}"
    is_http = rtype in ("response", "revisit") and uri.startswith(("http:", "https:")) and bool(block)
    if ctype is None and is_http and block.startswith(b"HTTP/"):
        ctype = "application/http; msgtype=response"
    block_digest = sha1_b32(block)
    if rtype == "revisit":
        payload = origin.header("WARC-Payload-Digest")
    elif rtype in ("warcinfo", "metadata"):
        payload = None
    else:
        payload = sha1_b32(block[origin.payload_offset if rtype == "response" else 0 :])
    for name, ours in (("WARC-Block-Digest", block_digest), ("WARC-Payload-Digest", payload)):
        theirs = origin.header(name)
        if theirs and ours and theirs != ours and not (rtype == "revisit" and name.endswith("Payload-Digest")):
            notes.append((f"source-{name[5:].lower()}", theirs))
    if (origin.header("WARC-Target-URI") or "") != uri:
        notes.append(("source-target-uri", origin.header("WARC-Target-URI") or ""))
    status, mime = None, ctype
    if is_http:
        status, mime = http_head(block, origin.payload_offset or len(block))
    if rtype == "revisit":
        mime = "warc/revisit"
    rec = Rec(rtype, rid, date, uri, block, ctype, payload, extra, block_digest, mime, status)
    return rec, notes


def revisit_record(doc: Document, rid: str, uri: str, date: str, original: object) -> Rec:
    """Identical-payload-digest revisit; keeps an input response's HTTP head so nothing is lost."""
    head = b""
    ctype = None
    status = None
    if doc.origin is not None and doc.origin.record_type == "response" and doc.origin.payload_offset:
        head = doc.origin.block[: doc.origin.payload_offset]
        ctype = doc.origin.header("Content-Type") or "application/http; msgtype=response"
        if uri.startswith(("http:", "https:")):
            status = http_head(head, len(head))[0]
    extra = [
        ("WARC-Profile", REVISIT_PROFILE),
        ("WARC-Refers-To", original.record_id),  # type: ignore[attr-defined]
        ("WARC-Refers-To-Target-URI", original.target_uri),  # type: ignore[attr-defined]
        ("WARC-Refers-To-Date", original.date),  # type: ignore[attr-defined]
    ]
    digest = original.payload_digest  # type: ignore[attr-defined]
    return Rec("revisit", rid, date, uri, head, ctype, digest, extra, mime="warc/revisit", status=status)


def conversion_record(doc: Document, rid: str, uri: str, date: str, refers_to: str | None,
                      text_utf8: bytes | None = None) -> Rec:
    """The cleaned text (UTF-8, ending with one LF) as CC's WET files carry it; `text_utf8`:
    the text already encoded (the worker needs those bytes for the JSON lines too)."""
    block = doc.text.encode("utf-8") if text_utf8 is None else text_utf8
    if block and not block.endswith(b"\n"):
        block += b"\n"
    extra: list[tuple[str, str]] = []
    if refers_to:
        extra.append(("WARC-Refers-To", refers_to))
    extra.append(("WARC-Identified-Payload-Type", "text/plain"))
    lang = iso639_3(doc.language)
    if lang:
        extra.append(("WARC-Identified-Content-Language", lang))
    digest = sha1_b32(block)
    return Rec("conversion", rid, date, uri, block, TEXT_UTF8, digest, extra, block_digest=digest, mime=TEXT_UTF8)


def metadata_record(rid: str, uri: str, date: str, refers_to: str | None, pairs: list[tuple[str, str]],
                    tail: bytes = b"") -> Rec:
    """`tail`: fields already serialised (see `edit_fields`), after `pairs`."""
    extra = [("WARC-Refers-To", refers_to)] if refers_to else []
    return Rec("metadata", rid, date, uri, warc_fields(pairs) + tail, WARC_FIELDS, None, extra)


def warcinfo_record(rid: str, date: str, filename: str, pairs: list[tuple[str, str]]) -> Rec:
    return Rec("warcinfo", rid, date, None, warc_fields(pairs), WARC_FIELDS, None, [("WARC-Filename", filename)])


def provenance(doc: Document, run_fields: list[tuple[str, str]], cleaned_at: str) -> list[tuple[str, str]]:
    """The metadata block's fields common to every outcome (who, when, from what)."""
    src = doc.source
    pairs = [*run_fields, ("cleaned-at", cleaned_at), ("document-id", doc.id), ("source-path", src.path)]
    if src.member is not None:
        pairs.append(("source-member", src.member))
    pairs.append(("source-sha256", src.sha256))
    if src.offset is not None and doc.origin is None:
        pairs.append(("source-offset", str(src.offset)))
    if src.url:
        pairs.append(("source-url", src.url))
    if doc.url and doc.url != src.url:
        pairs.append(("url", doc.url))
    if doc.encoding:
        pairs.append(("detected-charset", doc.encoding))
    if doc.encoding_evidence:
        pairs.append(("charset-evidence", doc.encoding_evidence))
    if doc.language:
        pairs.append(("language", iso639_3(doc.language) or doc.language))
        pairs.append(("language-tag", doc.language))
    if doc.title:
        pairs.append(("title", doc.title))
    if doc.published:
        pairs.append(("published", doc.published))
    return pairs
