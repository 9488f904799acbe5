"""The WARC files inside a WACZ (Web Archive Collection Zipped: what Browsertrix and
ArchiveWeb.page write): a ZIP whose `archive/` folder holds the crawl's WARC files, beside
indexes, a page list and a manifest that carry no article text.

Each WARC entry is read by `read_warc` as if it were its own input file, under the one input
(the .wacz: one ledger row, one SHA-256). Record ids stay the documents' members (unique across
the entries). A document's offset is its record's byte offset in the .wacz itself when the entry
is stored uncompressed (as the WACZ spec recommends, and the usual case): the raw bytes can be
found there without unpacking. In a compressed entry there is no such offset (None).
Messages name the entry: `crawl.wacz:archive/data.warc.gz: record at offset 1197: ...`.
An entry over the size limit is read from the file a record at a time when it is stored (a
crawl's WARC), and quarantined when compressed in the ZIP (nothing could read it but whole).
"""

from __future__ import annotations

import io
import struct
import zipfile
from collections.abc import Iterator
from typing import BinaryIO

from cleaner.document import Document
from cleaner.sources.filebytes import FileBytes
from cleaner.sources.warc import Context, read_warc

ZIP_MAGIC = b"PK\x03\x04"
_WARC_NAMES = (".warc", ".warc.gz", ".arc", ".arc.gz")
_LOCAL_HEADER = struct.Struct("<4s22xHH")  # signature ... file name length, extra field length


def read_wacz(data: bytes | FileBytes, ctx: Context) -> Iterator[Document]:
    """The documents of every WARC entry under `archive/`, in the ZIP's order."""
    fh: BinaryIO = io.BytesIO(data) if isinstance(data, bytes) else data.open()
    with fh:  # ZipFile does not close a file it was given
        try:
            archive = zipfile.ZipFile(fh)
            entries = archive.infolist()
        except (zipfile.BadZipFile, OSError, ValueError) as err:
            yield ctx.quarantined(data[: ctx.limit], None, None, f"{ctx.rel}: not a readable WACZ (ZIP): {err}")
            return
        with archive:
            yield from _entries(archive, entries, data, ctx)


def _entries(archive: zipfile.ZipFile, entries: list[zipfile.ZipInfo], data: bytes | FileBytes,
             ctx: Context) -> Iterator[Document]:
    found = False
    for info in entries:
        name = info.filename
        if info.is_dir():
            continue
        if not (name.startswith("archive/") and name.lower().endswith(_WARC_NAMES)):
            ctx.skipped.append((f"{ctx.rel}:{name}", "WACZ entry that is not a WARC (index, page list or manifest)"))
            continue
        found = True
        where = f"{ctx.rel}:{name}"
        base = _data_offset(data, info)
        if info.file_size > ctx.limit:
            if base is None or isinstance(data, bytes):  # compressed: no way to it but inflating it whole
                yield ctx.quarantined(b"", name, None, f"{where}: entry is {info.file_size} bytes, over the limit"
                                      f" of {ctx.limit} (and compressed in the ZIP)")
                continue
            with data.window(base, info.file_size) as stored:  # a crawl's WARC: read a record at a time
                yield from read_warc(stored, ctx.entry(where, base))
            continue
        try:
            with archive.open(info) as fh:
                block = fh.read(ctx.limit + 1)
        except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError, RuntimeError) as err:
            yield ctx.quarantined(b"", name, None, f"{where}: entry cannot be read: {err}")
            continue
        if len(block) > ctx.limit:  # its stated size was a lie (a ZIP bomb)
            yield ctx.quarantined(b"", name, None, f"{where}: entry is over the limit of {ctx.limit} bytes")
            continue
        yield from read_warc(block, ctx.entry(where, base))
    if not found:
        yield ctx.quarantined(data[: ctx.limit], None, None, f"{ctx.rel}: WACZ without WARC files under archive/")


def _data_offset(data: bytes | FileBytes, info: zipfile.ZipInfo) -> int | None:
    """Where a stored (uncompressed) entry's bytes start in the ZIP file; None when compressed
    (or the local header does not parse): offsets inside it then name no byte of the file."""
    if info.compress_type != zipfile.ZIP_STORED:
        return None
    at = info.header_offset
    head = data[at : at + _LOCAL_HEADER.size]
    if len(head) < _LOCAL_HEADER.size:
        return None
    signature, name_len, extra_len = _LOCAL_HEADER.unpack(head)
    if signature != ZIP_MAGIC:
        return None
    return at + _LOCAL_HEADER.size + name_len + extra_len
