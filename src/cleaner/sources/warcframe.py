"""Exact framing of WARC (and ARC) records from a file's bytes, tolerant of what crawlers write.

We frame records ourselves instead of using warcio's iterator because the archive copies
each input record byte for byte (so we need the block exactly as stored and the offset of
its gzip member), and because damaged files must be noticed, reported with an offset and
read as far as possible: warcio accepts truncated members silently, stops at whole-file gzip
and can loop on a bad Content-Length (warcio#122, #138).

Leniency (quirks that lose nothing, reported as warnings): bare-LF WARC heads, a
Content-Length that counts the CRLF CRLF terminator, a member holding several records
(whole-file gzip), records split across members. Damage (quarantined by the caller): a
record cut short, a Content-Length that does not fit, garbage between records, corrupt
or truncated gzip data. After damage the framer resynchronises on the next line that
starts a WARC record (or the next gzip member) and goes on.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass

from cleaner.sources.filebytes import FileBytes
from cleaner.sources.gzmembers import Member, is_gzip, members

HEADER_MAX = 1 << 16  # a WARC head longer than this is not a WARC head
_HEAD_END = re.compile(rb"\r?\n\r?\n")
_SKIP_NL = re.compile(rb"[\r\n]*")
_NEXT_WARC = re.compile(rb"\nWARC/[0-9]+\.[0-9]+\r?\n")
_ARC_LINE = re.compile(rb"([^\s]+) ([^\s]*) ([0-9]{8,14}) ([^\s]*)(?: [^\n]*)? ([0-9]+)\r?\n")
_NEXT_ARC = re.compile(rb"\n(?:https?|ftp|dns|filedesc):[^\s]* [^\s]* [0-9]{8,14} ")


@dataclass(frozen=True, slots=True)
class Record:
    offset: int  # in the file: its gzip member for .gz, the record's first byte otherwise
    headers: tuple[tuple[str, str], ...]  # WARC named fields in order (ARC: synthesised)
    block: bytes
    arc: bool = False

    def header(self, name: str) -> str | None:
        low = name.lower()
        return next((v for k, v in self.headers if k.lower() == low), None)


@dataclass(frozen=True, slots=True)
class Damage:
    offset: int
    what: str  # "record is truncated (Content-Length 5120, got 3001)"
    raw: bytes  # the unread bytes, bounded by the size limit


def _parse_fields(head: bytes) -> tuple[str, tuple[tuple[str, str], ...]]:
    lines = head.decode("utf-8", "replace").splitlines()
    fields: list[tuple[str, str]] = []
    for line in lines[1:]:
        if line[:1] in (" ", "\t") and fields:
            name, value = fields[-1]
            fields[-1] = (name, f"{value} {line.strip()}")
        elif ":" in line:
            name, _, value = line.partition(":")
            fields.append((name.strip(), value.strip()))
    return lines[0].strip() if lines else "", tuple(fields)


class _Stream:
    """The decompressed bytes not yet framed, with the file offsets of the segments in it."""

    def __init__(self, segments: Iterator[Member], gz: bool) -> None:
        self.segments = segments
        self.gz = gz
        self.buf = b""
        self.pos = 0
        self.starts: list[int] = []  # index in buf where each segment starts
        self.offsets: list[int] = []  # that segment's offset in the file
        self.more = True
        self.problem: Member | None = None  # the damaged last member, if any
        self.warnings: dict[str, str] = {}

    def pull(self) -> bool:
        """Append the next segment; False when there is none."""
        if not self.more:
            return False
        seg = next(self.segments, None)
        if seg is None:
            self.more = False
            return False
        keep = max(0, bisect_right(self.starts, self.pos) - 1)
        self.starts = [s - self.pos for s in self.starts[keep:]]
        self.offsets = self.offsets[keep:]
        self.buf = self.buf[self.pos :]
        self.pos = 0
        self.starts.append(len(self.buf))
        self.offsets.append(seg.offset)
        self.buf += seg.data
        if seg.problem:
            self.problem = seg
            self.more = False
        return True

    def segment(self, index: int) -> int:
        return max(0, bisect_right(self.starts, index) - 1)

    def file_offset(self, index: int) -> int:
        i = self.segment(index)
        if not self.offsets:
            return index
        return self.offsets[i] if self.gz else self.offsets[i] + index - self.starts[i]

    def warn(self, kind: str, text: str) -> None:
        self.warnings.setdefault(kind, text)


class _Damaged(Exception):
    def __init__(self, what: str, resync_from: int) -> None:
        super().__init__(what)
        self.what = what
        self.resync_from = resync_from


class _NeedMore(Exception):
    pass


def _frame_warc(s: _Stream, p: int, limit: int) -> tuple[Record, int]:
    buf = s.buf
    m = _HEAD_END.search(buf, p, p + HEADER_MAX)
    if not m:
        if s.more and len(buf) - p < HEADER_MAX:
            raise _NeedMore
        raise _Damaged("WARC head has no end (no empty line)", p + 1)
    version, fields = _parse_fields(buf[p : m.start()])
    if b"\r\n" not in buf[p : m.end()]:
        s.warn("lf", f"WARC head at offset {s.file_offset(p)} uses bare LF line endings")
    cl_text = next((v for k, v in fields if k.lower() == "content-length"), None)
    if cl_text is None or not cl_text.strip().isdigit():
        raise _Damaged(f"{version}: missing or bad Content-Length {cl_text!r}", m.end())
    cl = int(cl_text)
    start, end = m.end(), m.end() + cl
    if cl > limit:
        raise _Damaged(f"record of {cl} bytes is over the limit of {limit}", m.end())
    if end + 4 > len(buf) and s.more:
        raise _NeedMore
    if end > len(buf):
        raise _Damaged(f"record is truncated (Content-Length {cl}, got {len(buf) - start})", len(buf))
    block = buf[start:end]
    after = buf[end : end + 4]
    if after == b"\r\n\r\n":
        nxt = end + 4
    elif after[:2] == b"\n\n":
        nxt = end + 2
    else:
        rest = buf[end : end + 8].lstrip(b"\r\n")
        if not rest or rest.startswith(b"WARC/"):
            # Content-Length counted the terminator, or the writer left it out: nothing is lost
            s.warn("cl", f"record at offset {s.file_offset(p)}: block not followed by CRLF CRLF "
                   "(Content-Length counts the terminator or it is missing)")
            nxt = end
        else:
            raise _Damaged(
                f"Content-Length {cl} does not fit: the block is followed by {after!r}, not CRLF CRLF",
                start,
            )
    return Record(s.file_offset(p), fields, block), nxt


def _frame_arc(s: _Stream, p: int, limit: int) -> tuple[Record, int]:
    buf = s.buf
    m = _ARC_LINE.match(buf, p, p + 4096)
    if not m:
        if s.more and b"\n" not in buf[p : p + 4096]:
            raise _NeedMore
        raise _Damaged(f"not an ARC record header: {buf[p:p + 40]!r}", p + 1)
    url, ip, date, ctype, length = (g.decode("utf-8", "replace") for g in m.groups())
    n = int(length)
    if n > limit:
        raise _Damaged(f"record of {n} bytes is over the limit of {limit}", m.end())
    end = m.end() + n
    if end + 1 > len(buf) and s.more:
        raise _NeedMore
    if end > len(buf):
        raise _Damaged(f"record is truncated (length {n}, got {len(buf) - m.end()})", len(buf))
    block = buf[m.end() : end]
    headers = (
        ("WARC-Type", "warcinfo" if url.startswith("filedesc:") else "response"),
        ("WARC-Target-URI", url),
        ("WARC-Date", date),
        ("WARC-IP-Address", ip),
        ("Content-Type", "application/http; msgtype=response"
         if block.startswith(b"HTTP/") else ctype),
        ("Content-Length", str(n)),
        ("ARC-Content-Type", ctype),
    )
    return Record(s.file_offset(p), headers, block, arc=True), end + (buf[end : end + 1] == b"\n")


def _resync(s: _Stream, start: int, frm: int, arc: bool) -> int:
    """Where framing can start again after damage at `start`: the next record's first line."""
    pattern = _NEXT_ARC if arc else _NEXT_WARC
    m = pattern.search(s.buf, max(frm, start + 1))
    return m.start() + 1 if m else len(s.buf)


def frame(data: bytes | FileBytes, limit: int) -> tuple[Iterator[Record | Damage], dict[str, str]]:
    """Records and damage, in file order; the dict fills with quirk warnings while iterating."""
    gz = is_gzip(data)
    segs: Iterator[Member] = members(data, limit) if gz else _slices(data)
    s = _Stream(segs, gz)
    return _iterate(s, data, limit), s.warnings


_SLICE = 1 << 20  # bytes of an uncompressed file read at a time (FileBytes)


def _slices(data: bytes | FileBytes) -> Iterator[Member]:
    """An uncompressed file as segments: bytes in memory as one, a FileBytes a slice at a time
    (a record longer than a slice is framed once enough slices have been pulled)."""
    if isinstance(data, bytes):
        yield Member(0, len(data), data)
        return
    for start in range(0, len(data), _SLICE):
        chunk = data[start : start + _SLICE]
        yield Member(start, start + len(chunk), chunk)


def _iterate(s: _Stream, data: bytes | FileBytes, limit: int) -> Iterator[Record | Damage]:
    s.pull()
    reported = False
    arc = s.buf.lstrip(b"\r\n").startswith(b"filedesc:")
    while True:
        skipped = _SKIP_NL.match(s.buf, s.pos)
        p = skipped.end() if skipped is not None else s.pos
        s.pos = p
        if p >= len(s.buf) or (len(s.buf) - p < 5 and s.more):
            if s.pull():
                continue
            if p < len(s.buf):  # a few stray bytes at the very end
                what = f"stray bytes at the end: {s.buf[p:]!r}"
                if s.problem is not None:
                    what, reported = f"{what}; {s.problem.problem}", True
                yield Damage(s.file_offset(p), what, s.buf[p:])
            break
        try:
            if arc:
                rec, nxt = _frame_arc(s, p, limit)
            elif s.buf.startswith(b"WARC/", p):
                rec, nxt = _frame_warc(s, p, limit)
            else:
                raise _Damaged(f"not a WARC record: starts with {s.buf[p:p + 20]!r}", p + 1)
        except _NeedMore:
            s.pull()  # at the end this turns "need more" into "truncated" on the next try
            continue
        except _Damaged as err:
            offset = s.file_offset(p)
            what = err.what
            q = _resync(s, p, err.resync_from, arc)
            if s.problem is not None and q >= len(s.buf):  # the damage runs into the bad member
                what = f"{what}; {s.problem.problem}"
                reported = True
            yield Damage(offset, what, s.buf[p:q][:limit])
            s.pos = q
            continue
        if s.gz:
            a, b = s.segment(p), s.segment(max(p, nxt - 1))
            if a != b:
                s.warn("span", f"record at offset {rec.offset} spans {b - a + 1} gzip members "
                       "(members do not line up with records)")
            elif s.starts[a] != p and s.buf[s.starts[a] : p].strip(b"\r\n"):
                s.warn("many", f"gzip member at offset {rec.offset} holds several records "
                       "(whole-file gzip; `warcio recompress` fixes it)")
        s.pos = nxt
        yield rec
    if s.problem is not None and not reported:
        # the damage lies past the last complete record (or nothing decompressed at all):
        # the compressed remainder is what was not read
        m = s.problem
        yield Damage(m.offset, m.problem or "damaged gzip data", data[m.offset : m.offset + limit])
