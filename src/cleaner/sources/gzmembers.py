"""gzip members of a file, decompressed one at a time with bounded output.

Why not `gzip`/warcio: we need each member's offset in the file (WARC records are addressed
by member offset), we must notice a member the file ends inside of (warcio accepts those
silently, warcio#138), and a member may never expand past the size limit (gzip bombs).
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import NamedTuple

from cleaner.sources.filebytes import FileBytes

_FEED = 1 << 16  # compressed bytes fed per call: keeps `unused_data` copies small


@dataclass(frozen=True, slots=True)
class Member:
    offset: int  # of the member in the compressed file
    end: int  # offset just past the member (where the next one starts)
    data: bytes  # decompressed bytes (partial when `problem` is set)
    problem: str | None = None  # truncated / corrupt / too large: nothing follows it


def is_gzip(data: bytes | FileBytes) -> bool:
    return data[:2] == b"\x1f\x8b"


class Piece(NamedTuple):
    """Inflated bytes of one member, at most `_FEED` of them."""

    offset: int  # of the member in the compressed file
    data: bytes
    end: int | None = None  # on a member's last piece: offset just past it (where the next one starts)
    problem: str | None = None  # damage here (truncated / corrupt / not gzip): nothing follows


def inflate(data: bytes | FileBytes) -> Iterator[Piece]:
    """Every member inflated a piece at a time, so that no member has to fit in memory whole
    (a JSONL dump of one gzip member streams); the last piece carries `problem` when the file is
    damaged there."""
    pos = 0
    size = len(data)
    while pos < size:
        if not is_gzip(data[pos : pos + 2]):
            if not _zeros(data, pos, size):  # zero padding after the last member (tape/block writers) is harmless
                yield Piece(pos, b"", size, f"bytes at offset {pos} are not gzip data")
            return
        d = zlib.decompressobj(31)
        feed = pos
        buf = b""
        while not d.eof:
            if not buf:
                buf = data[feed : feed + _FEED]
                feed += len(buf)
                if not buf:
                    yield Piece(pos, b"", size, f"gzip member at offset {pos} is truncated (the file ends inside it)")
                    return
            try:
                piece = d.decompress(buf, _FEED)
            except zlib.error as err:
                yield Piece(pos, b"", size, f"gzip member at offset {pos} is corrupt ({err})")
                return
            buf = d.unconsumed_tail
            if d.eof:  # what is left of the input is past the member (an output-bounded call can
                end = feed - len(d.unused_data)  # leave it in unconsumed_tail too: not counted twice)
                yield Piece(pos, piece, end)
                pos = end
            elif piece:
                yield Piece(pos, piece)


def members(data: bytes | FileBytes, limit: int) -> Iterator[Member]:
    """Yield every member; the last one carries `problem` when the file is damaged there."""
    parts: list[bytes] = []
    total = 0
    for piece in inflate(data):
        parts.append(piece.data)
        total += len(piece.data)
        if total > limit:  # a gzip bomb: stop inflating it
            yield Member(piece.offset, len(data), b"".join(parts)[: limit + 1],
                         f"decompressed size exceeds {limit} bytes (gzip member at offset {piece.offset})")
            return
        if piece.end is not None or piece.problem:
            yield Member(piece.offset, piece.end if piece.end is not None else len(data), b"".join(parts), piece.problem)
            if piece.problem:
                return
            parts, total = [], 0


def _zeros(data: bytes | FileBytes, pos: int, size: int) -> bool:
    """Only zero bytes from `pos` to the end (read a slice at a time)."""
    while pos < size:
        chunk = data[pos : pos + _FEED]
        if not chunk or chunk.strip(b"\x00"):
            return not chunk
        pos += len(chunk)
    return True


def gunzip(data: bytes, limit: int) -> tuple[bytes, str | None]:
    """All members concatenated (a .html.gz, .jsonl.gz), bounded; (data, problem)."""
    out: list[bytes] = []
    total = 0
    for m in members(data, limit):  # each member bounded; the sum checked below
        out.append(m.data)
        total += len(m.data)
        if m.problem:
            return b"".join(out), m.problem
        if total > limit:
            return b"".join(out), f"decompressed size exceeds {limit} bytes"
    return b"".join(out), None
