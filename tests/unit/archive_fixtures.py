"""Hand-made documents and input WARC records for the archive tests (no shared data needed)."""

from __future__ import annotations

import hashlib
import io
import itertools
import subprocess
import sys
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import BufferWARCWriter

from cleaner.config import ArchiveConfig
from cleaner.document import Document, Edit, Outcome, Source, WarcOrigin, document_id
from cleaner.sinks.warc import ArchiveWriter

ROOT = Path(__file__).resolve().parents[2]
VALIDATOR = ROOT.parent / "shared" / "tools" / "validate_archive.py"

GERMAN = "Demonstranten kritisieren Metas Open-Source-Ansatz.\n\nLetzte Woche demonstrierte eine Gruppe.\n"
CHINESE = "北京时间今天上午，国家统计局发布了最新数据。\n\n经济运行总体平稳，稳中有进。\n"


def pinned(start: datetime = datetime(2025, 1, 2, 3, 4, 5, 123456, tzinfo=UTC)) -> tuple[
    Callable[[], datetime], Callable[[], str]
]:
    """A clock that ticks one second per call and ids from a counter: reproducible bytes."""
    ticks = itertools.count()
    ids = itertools.count(1)
    return (lambda: start + timedelta(seconds=next(ticks))), (lambda: f"<urn:uuid:{uuid.UUID(int=next(ids))}>")


def writer(archive: Path, rotate_bytes: int = 1_000_000_000, pinned_ids: bool = False, run_id: str = "run-1") -> ArchiveWriter:
    kw = {}
    if pinned_ids:
        clock, new_id = pinned()
        kw = {"clock": clock, "new_id": new_id}
    return ArchiveWriter(archive, ArchiveConfig(rotate_bytes=rotate_bytes, operator="tests"), run_id,
                         "0" * 64, '{"archive": {"prefix": "CLEANER"}}', hostname="testhost", **kw)


def text_doc(raw: bytes, text: str, *, path: str = "000_a.txt", url: str | None = None, language: str = "de",
             encoding: str = "utf-8", title: str | None = None, fetched: str | None = None,
             edits: list[Edit] | None = None) -> Document:
    sha = hashlib.sha256(raw).hexdigest()
    return Document(id=document_id(sha), source=Source(path, sha, url=url, fetched=fetched), raw=raw, text=text,
                    title=title, url=url, language=language, encoding=encoding, edits=edits or [])


def response_origin(url: str, body: bytes, *, date: str = "2024-03-01T10:20:30Z",
                    content_type: str = "text/html; charset=utf-8") -> WarcOrigin:
    """A real response record written and read back with warcio, as an input WARC holds it."""
    buf = BufferWARCWriter(gzip=False)
    http = StatusAndHeaders("200 OK", [("Content-Type", content_type), ("Content-Length", str(len(body)))],
                            protocol="HTTP/1.1")
    rec = buf.create_warc_record(url, "response", payload=io.BytesIO(body), http_headers=http,
                                 warc_headers_dict={"WARC-Date": date, "WARC-IP-Address": "93.184.216.34",
                                                    "WARC-Concurrent-To": "<urn:uuid:00000000-0000-0000-0000-00000000beef>"})
    buf.write_record(rec)
    for r in ArchiveIterator(io.BytesIO(buf.get_contents()), no_record_parse=True):
        block = r.raw_stream.read()
        rid = f"<urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, url + date)}>"  # pinned for golden bytes
        headers = tuple((k, rid if k == "WARC-Record-ID" else v) for k, v in r.rec_headers.headers)
        return WarcOrigin("response", headers, block, block.find(b"\r\n\r\n") + 4, 0, rid)
    raise AssertionError("warcio wrote no record")


def warc_doc(origin: WarcOrigin, text: str, language: str = "en") -> Document:
    sha = hashlib.sha256(origin.block).hexdigest()
    src = Source("crawl.warc.gz", sha, member=origin.record_id, offset=origin.offset,
                 url=origin.header("WARC-Target-URI"), fetched=origin.header("WARC-Date"), media_type="text/html")
    return Document(id=document_id(sha, origin.record_id), source=src, raw=origin.block[origin.payload_offset:],
                    text=text, url=src.url, language=language, encoding="utf-8", origin=origin)


def duplicate_of(doc: Document, original: Document, *, path: str, similarity: float = 1.0,
                 method: str = "exact") -> Document:
    doc.outcome = Outcome.DUPLICATE
    doc.duplicate_of = original.id
    doc.similarity = similarity
    doc.dedup_method = method
    return doc


def validate(archive: Path) -> tuple[int, str]:
    """Run the shared validator (profile cleaner); returns (exit status, last lines)."""
    proc = subprocess.run([sys.executable, str(VALIDATOR), str(archive), "-q"], capture_output=True, text=True)
    return proc.returncode, proc.stdout[-3000:] + proc.stderr[-2000:]
