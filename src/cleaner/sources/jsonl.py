"""JSONL inputs: one article a line (`html` or `text`, optional `url`, `title`, dates).

Lines are already Unicode, so `read_jsonl` sets `doc.html`/`doc.text` itself and decode leaves
them alone; `raw` is the exact line bytes (the lossless original). A dump over the size limit is
read a line at a time (`stream_lines`): then the limit bounds a line, not the file. Lines are
split as `bytes.splitlines` splits them (\n, \r\n or \r), read whole or streamed alike.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

from cleaner.document import Document
from cleaner.sources.filebytes import FileBytes
from cleaner.sources.gzmembers import inflate, is_gzip
from cleaner.sources.warc import Context, utc_date

_CHUNK = 1 << 20  # bytes of a plain file read at a time when streaming


def stream_lines(view: FileBytes, limit: int, ctx: Context) -> Iterator[tuple[bytes, int]]:
    """The lines of a file (gzip members inflated on the way), line ends kept, each with the
    bytes it spans. A line longer than `limit` is cut to `limit` bytes (its JSON then fails and
    the line is quarantined); damaged gzip data ends the lines, with a warning naming where."""
    carry = b""
    cut: bytes | None = None  # the start of a line over the limit, until its end is found
    cut_size = 0
    for chunk in _chunks(view, ctx):
        lines = (carry + chunk).splitlines(keepends=True)
        carry = lines.pop() if lines and not lines[-1].endswith(b"\n") else b""  # may go on (or be \r\n)
        for line in lines:
            if cut is not None:  # the rest of the line over the limit
                yield cut, cut_size + len(line)
                cut = None
                continue
            yield line, len(line)
        if len(carry) > limit:
            if cut is None:
                cut, cut_size = carry[:limit], 0
            cut_size += len(carry)
            carry = b""
    if cut is not None:
        yield cut, cut_size + len(carry)
    elif carry:
        yield carry, len(carry)


def _chunks(view: FileBytes, ctx: Context) -> Iterator[bytes]:
    """The file's bytes a chunk at a time, gzip members inflated (`gzmembers.inflate`)."""
    if not is_gzip(view[:2]):
        for start in range(0, len(view), _CHUNK):
            yield view[start : start + _CHUNK]
        return
    for piece in inflate(view):
        if piece.problem:
            ctx.warnings.append(f"{piece.problem}: the lines from there on are not read")
            return
        yield piece.data


def _str(obj: dict[str, Any], *keys: str) -> str | None:
    for k in keys:
        v = obj.get(k)
        if isinstance(v, str) and v.strip():
            return v.strip()
    return None


def whole_lines(data: bytes) -> Iterator[tuple[bytes, int]]:
    """`stream_lines` of bytes in memory."""
    return ((line, len(line)) for line in data.splitlines(keepends=True))


def read_jsonl(lines: Iterable[tuple[bytes, int]], ctx: Context) -> Iterator[Document]:
    """A document per non-blank line (a line, the bytes it spans); lines that are not a JSON
    object with html or text are quarantined, naming the line."""
    offset = 0
    found = False
    for n, (line, size) in enumerate(lines, start=1):
        start, offset = offset, offset + size
        body = line.rstrip(b"\r\n")
        if not body.strip():
            continue
        found = True
        member = f"line:{n}"
        where = f"{ctx.rel}:{n}"
        try:
            obj = json.loads(body)
        except UnicodeDecodeError:
            yield ctx.quarantined(body, member, start, f"{where}: line is not valid UTF-8")
            continue
        except ValueError as err:
            yield ctx.quarantined(body, member, start, f"{where}: invalid JSON ({err})")
            continue
        if not isinstance(obj, dict):
            yield ctx.quarantined(body, member, start, f"{where}: not a JSON object")
            continue
        html, text = obj.get("html"), obj.get("text")
        content = html if isinstance(html, str) and html.strip() else text
        if not isinstance(content, str) or not content.strip():
            yield ctx.quarantined(body, member, start, f"{where}: no 'html' or 'text' string")
            continue
        url = _str(obj, "url")
        media = "text/html" if content is html else "text/plain"
        fetched = utc_date(_str(obj, "fetched", "date"))
        doc = ctx.doc(body, member, start, url=url, fetched=fetched, media_type=media, charset="utf-8")
        if content is html:
            doc.html = content
        else:
            doc.text = content
        doc.title = _str(obj, "title")
        doc.published = _str(obj, "date", "published")
        doc.encoding, doc.encoding_evidence = "utf-8", "jsonl"
        yield doc
    if not found:
        yield ctx.quarantined(b"", None, None, "no JSON lines (only blank lines)")
