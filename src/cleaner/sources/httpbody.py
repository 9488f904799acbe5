"""HTTP entities as stored in WARC response records: head parsing, de-chunking, content decoding.

Kept apart from the WARC framer because the rules differ: WARC framing must be exact (we
copy records byte for byte), while HTTP bodies in the wild lie about themselves (a
`Transfer-Encoding: chunked` header on a body the crawler already de-chunked, `Content-Encoding:
gzip` on a body it already decompressed), so here we are lenient and take what decodes.
All decompression is bounded, so a compressed body can never expand past the size limit.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass

_HEAD_END = re.compile(rb"\r?\n\r?\n")
_CHUNK_SIZE = re.compile(rb"[ \t]*([0-9A-Fa-f]+)[ \t]*(?:;[^\r\n]*)?\r?\n")


class BodyError(Exception):
    """The entity cannot be decoded (corrupt compression, unknown coding, too large)."""


@dataclass(frozen=True, slots=True)
class HttpHead:
    status: int | None  # None when the status line does not parse
    headers: tuple[tuple[str, str], ...]
    payload_offset: int  # where the entity starts in the block

    def get(self, name: str) -> str | None:
        low = name.lower()
        return next((v for k, v in self.headers if k.lower() == low), None)


def parse_head(block: bytes) -> HttpHead | None:
    """The HTTP head at the start of `block`, or None when the block does not start with one."""
    if not block.startswith(b"HTTP/"):
        return None
    m = _HEAD_END.search(block, 0, 65536)
    end = m.end() if m else len(block)
    lines = block[: m.start() if m else end].decode("latin-1").splitlines()
    status: int | None = None
    parts = lines[0].split(None, 2) if lines else []
    if len(parts) >= 2 and parts[1].isdigit():
        status = int(parts[1])
    headers: list[tuple[str, str]] = []
    for line in lines[1:]:
        if line[:1] in (" ", "\t") and headers:  # obsolete line folding
            name, value = headers[-1]
            headers[-1] = (name, f"{value} {line.strip()}")
        elif ":" in line:
            name, _, value = line.partition(":")
            headers.append((name.strip(), value.strip()))
    return HttpHead(status, tuple(headers), end)


def split_content_type(value: str | None) -> tuple[str | None, str | None]:
    """('text/html', 'utf-8') from 'text/html; charset="UTF-8"'; (None, None) when absent."""
    if not value:
        return None, None
    head, *params = value.split(";")
    media = head.strip().lower() or None
    charset = None
    for p in params:
        key, _, val = p.partition("=")
        if key.strip().lower() == "charset":
            charset = val.strip().strip("\"'").strip().lower() or None
    return media, charset


def dechunk(body: bytes) -> bytes | None:
    """Undo chunked transfer coding; None when `body` is not validly chunked (then use it as is)."""
    out: list[bytes] = []
    pos = 0
    n = len(body)
    while True:
        m = _CHUNK_SIZE.match(body, pos)
        if not m:
            # a missing last-chunk after real chunks is a truncated capture: keep what we have
            return b"".join(out) if out and pos >= n else None
        size = int(m.group(1), 16)
        start = m.end()
        if size == 0:
            return b"".join(out)
        if start + size > n:
            return None
        out.append(body[start : start + size])
        pos = start + size
        if body.startswith(b"\r\n", pos):
            pos += 2
        elif body.startswith(b"\n", pos):
            pos += 1
        if pos >= n:
            return b"".join(out)


def _inflate(data: bytes, wbits: int, limit: int) -> bytes:
    """Bounded zlib decoding of all members; raises BodyError past `limit` or on corrupt data."""
    parts: list[bytes] = []
    total = 0
    while data:
        d = zlib.decompressobj(wbits)
        try:
            piece = d.decompress(data, limit + 1 - total)
        except zlib.error as err:
            if parts:  # trailing garbage after a complete member: keep the member
                break
            raise BodyError(f"corrupt compressed data ({err})") from None
        total += len(piece)
        parts.append(piece)
        if total > limit:
            raise BodyError(f"decompressed size exceeds {limit} bytes")
        if not d.eof:
            break  # truncated stream: what decoded is all there is
        data = d.unused_data
        if wbits != 31 or not data.startswith(b"\x1f\x8b"):
            break
    return b"".join(parts)


def _unbrotli(data: bytes, limit: int) -> bytes:
    try:
        import brotli  # optional: only needed for `Content-Encoding: br`
    except ImportError:
        raise BodyError("content-encoding br needs the 'brotli' package") from None
    d = brotli.Decompressor()
    try:
        out = d.process(data, output_buffer_limit=limit + 1)
    except brotli.error as err:
        raise BodyError(f"corrupt brotli data ({err})") from None
    if len(out) > limit:
        raise BodyError(f"decompressed size exceeds {limit} bytes")
    return bytes(out)


def decode_body(body: bytes, content_encoding: str | None, limit: int) -> bytes:
    """The entity after undoing its content coding(s), bounded by `limit` bytes.

    Crawlers often store the decoded body but keep the header, so a body that does not
    start like its declared coding is taken as already decoded.
    """
    codings = [c.strip().lower() for c in (content_encoding or "").split(",") if c.strip()]
    for coding in reversed(codings):
        if coding in ("identity", "none"):
            continue
        if coding in ("gzip", "x-gzip"):
            if body.startswith(b"\x1f\x8b"):
                body = _inflate(body, 31, limit)
        elif coding == "deflate":
            if body[:1] == b"<" or not body:
                continue  # markup: already inflated
            try:
                body = _inflate(body, 15, limit)
            except BodyError:
                body = _inflate(body, -15, limit)  # raw deflate, as some servers send
        elif coding == "br":
            if body[:1] != b"<" and body:
                body = _unbrotli(body, limit)
        else:
            raise BodyError(f"unsupported content-encoding {coding!r}")
    if len(body) > limit:
        raise BodyError(f"payload is {len(body)} bytes, over the limit of {limit}")
    return body
