"""Reading archive/ back: `verify_archive` (is every byte still what was written?) and `get`.

The verifier re-reads every file with its own gzip-member framer, so it catches what warcio
lets pass (truncated members, a Content-Length one byte off): each member must hold exactly
one record, block and payload digests must match, record ids must be unique, every
WARC-Refers-To / WARC-Warcinfo-ID must resolve, and every CDXJ line must point at a record
start with the right length, URL, date and digest.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from cleaner.sinks.cdxj import cdx_timestamp, index_files, surt, to_uri
from cleaner.sinks.warc import INDEX_NAME, SUMS_NAME, TEXT_INDEX_NAME, RecordRef

_READ = 1 << 20
_ID_RE = re.compile(r"^<[A-Za-z][A-Za-z0-9+.\-]*:[^\s<>]+>$")


@dataclass(frozen=True)
class StoredRecord:
    """A record as read back: where it is, its header fields and (when loaded) its block."""

    ref: RecordRef
    record_type: str
    headers: tuple[tuple[str, str], ...]
    block: bytes | None = None

    def header(self, name: str) -> str | None:
        low = name.lower()
        return next((v for k, v in self.headers if k.lower() == low), None)


@dataclass(frozen=True)
class _Member:
    offset: int
    length: int
    data: bytes
    error: str | None


def _members(path: Path) -> Iterator[_Member]:
    """Gzip members of a file with their offsets; stops at the first damaged one."""
    with open(path, "rb") as fh:
        offset, pending = 0, fh.read(_READ)
        while pending:
            d = zlib.decompressobj(31)
            out: list[bytes] = []
            consumed = 0
            error = None
            while True:
                try:
                    out.append(d.decompress(pending))
                except zlib.error as exc:
                    error = f"corrupt gzip data ({exc})"
                    break
                if d.eof:
                    consumed += len(pending) - len(d.unused_data)
                    pending = d.unused_data
                    break
                consumed += len(pending)
                pending = fh.read(_READ)
                if not pending:
                    error = "file ends inside a gzip member (truncated)"
                    break
            yield _Member(offset, consumed, b"".join(out), error)
            if error:
                return
            offset += consumed
            if not pending:
                pending = fh.read(_READ)


def _parse(data: bytes) -> tuple[list[tuple[str, str]], bytes, str | None]:
    """(headers, block, problem) of one decompressed member holding one record."""
    end = data.find(b"\r\n\r\n")
    if not data.startswith(b"WARC/") or end < 0:
        return [], b"", "member does not start with a complete WARC header"
    headers: list[tuple[str, str]] = []
    for line in data[:end].decode("utf-8", "replace").split("\r\n")[1:]:
        name, _, value = line.partition(":")
        headers.append((name.strip(), value.strip()))
    length_text = next((v for k, v in headers if k.lower() == "content-length"), "")
    if not length_text.isdigit():
        return headers, b"", "Content-Length missing or not a number"
    start = end + 4
    block = data[start : start + int(length_text)]
    rest = data[start + int(length_text) :]
    if len(block) != int(length_text) or rest != b"\r\n\r\n":
        return headers, block, "Content-Length does not match the block (or the member holds more than one record)"
    return headers, block, None


def _get(headers: list[tuple[str, str]] | tuple[tuple[str, str], ...], name: str) -> str | None:
    low = name.lower()
    return next((v for k, v in headers if k.lower() == low), None)


def _digest_ok(label: str, data: bytes) -> bool:
    algo, _, value = label.partition(":")
    try:
        raw = hashlib.new(algo.strip().lower().replace("-", ""), data).digest()
    except ValueError:
        return False
    value = value.strip()
    return value.upper() == base64.b32encode(raw).decode() or value.lower() == raw.hex()


def payload_of(rtype: str, headers: list[tuple[str, str]], block: bytes) -> bytes | None:
    """The payload a WARC-Payload-Digest covers: the block, or the entity after an HTTP head."""
    if rtype in ("resource", "conversion", "continuation"):
        return block
    ctype = (_get(headers, "Content-Type") or "").lower()
    if rtype == "response" and ctype.startswith(("application/http", "message/http")):
        end = block.find(b"\r\n\r\n")
        return block[end + 4 :] if end >= 0 else None
    return None


def warc_files(archive_dir: Path) -> list[Path]:
    return sorted(p for p in Path(archive_dir).glob("*.warc.gz") if p.is_file())


# ----------------------------------------------------------------------------- verify


def verify_archive(archive_dir: Path) -> list[str]:
    """Everything wrong with the archive, one line each; an empty list means it is intact."""
    archive_dir = Path(archive_dir)
    problems: list[str] = [f"{p.name}: unfinished file left by a crashed run (run `cleaner run` to clean up)"
                           for p in sorted(archive_dir.glob("*.warc.gz.open"))]
    seen: dict[str, str] = {}
    refs: list[tuple[str, str, str]] = []  # (where, field, id)
    starts: dict[tuple[str, int], tuple[int, list[tuple[str, str]]]] = {}
    for path in warc_files(archive_dir):
        info_id = None
        for n, m in enumerate(_members(path)):
            where = f"{path.name}@{m.offset}"
            if m.error:
                problems.append(f"{where}: {m.error}")
                break
            headers, block, problem = _parse(m.data)
            if problem:
                problems.append(f"{where}: {problem}")
                continue
            rtype, rid = _get(headers, "WARC-Type") or "", _get(headers, "WARC-Record-ID") or ""
            starts[(path.name, m.offset)] = (m.length, headers)
            if not _ID_RE.match(rid):
                problems.append(f"{where}: bad WARC-Record-ID {rid!r}")
            elif rid in seen:
                problems.append(f"{where}: WARC-Record-ID {rid} also used at {seen[rid]}")
            else:
                seen[rid] = where
            if n == 0:
                if rtype != "warcinfo":
                    problems.append(f"{where}: first record is {rtype}, not warcinfo")
                info_id = rid
            elif _get(headers, "WARC-Warcinfo-ID") != info_id:
                problems.append(f"{where}: WARC-Warcinfo-ID is not this file's warcinfo {info_id}")
            problems += _digest_problems(where, rtype, headers, block)
            for name in ("WARC-Refers-To", "WARC-Warcinfo-ID"):
                if (value := _get(headers, name)) is not None:
                    refs.append((where, name, value))
    problems += [f"{where}: {name} {value} is not a record of this archive"
                 for where, name, value in refs if value not in seen]
    problems += _index_problems(archive_dir, starts)
    problems += _sums_problems(archive_dir)
    return problems


def _digest_problems(where: str, rtype: str, headers: list[tuple[str, str]], block: bytes) -> list[str]:
    out = []
    block_digest = _get(headers, "WARC-Block-Digest")
    if block_digest is None:
        out.append(f"{where}: no WARC-Block-Digest")
    elif not _digest_ok(block_digest, block):
        out.append(f"{where}: block digest does not match ({rtype})")
    payload_digest = _get(headers, "WARC-Payload-Digest")
    if payload_digest and rtype != "revisit":
        payload = payload_of(rtype, headers, block)
        if payload is not None and not _digest_ok(payload_digest, payload):
            out.append(f"{where}: payload digest does not match ({rtype})")
    return out


def _index_problems(archive_dir: Path, starts: dict[tuple[str, int], tuple[int, list[tuple[str, str]]]]) -> list[str]:
    out: list[str] = []
    covered: set[tuple[str, int]] = set()
    for index_name, wanted in ((INDEX_NAME, ("resource", "response", "revisit")), (TEXT_INDEX_NAME, ("conversion",))):
        for path in index_files(archive_dir / index_name):  # the index and unfolded segments
            _check_index_file(path, starts, covered, out)
        for (fname, offset), (_, headers) in starts.items():
            if _series_of(fname) == index_name:
                if (_get(headers, "WARC-Type") or "") in wanted and (fname, offset) not in covered:
                    if _get(headers, "Content-Type") != "application/warc-fields":
                        out.append(f"{fname}@{offset}: record missing from {index_name}")
    return out


def _check_index_file(
    path: Path, starts: dict[tuple[str, int], tuple[int, list[tuple[str, str]]]], covered: set[tuple[str, int]],
    out: list[str],
) -> None:
    prev = ""
    with open(path, encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            line = line.rstrip("\n")
            where = f"{path.name}:{n}"
            if line < prev:
                out.append(f"{where}: not in sorted order")
            prev = line
            parts = line.split(" ", 2)
            try:
                fields = json.loads(parts[2])
                key = (str(fields["filename"]), int(fields["offset"]))
                length = int(fields["length"])
            except (IndexError, KeyError, ValueError):
                out.append(f"{where}: not a CDXJ line with filename, offset and length")
                continue
            if key not in starts:
                out.append(f"{where}: no record starts at {key[0]}@{key[1]} (stale line?)")
                continue
            covered.add(key)
            member_length, headers = starts[key]
            url = _get(headers, "WARC-Target-URI") or ""
            if length != member_length:
                out.append(f"{where}: length {length} but the record is {member_length} bytes")
            if fields.get("url") != url or parts[0] != surt(url):
                out.append(f"{where}: url/urlkey do not match the record's {url}")
            if parts[1] != cdx_timestamp(_get(headers, "WARC-Date") or ""):
                out.append(f"{where}: timestamp does not match the record's WARC-Date")
            if fields.get("digest") != _get(headers, "WARC-Payload-Digest"):
                out.append(f"{where}: digest does not match the record's payload digest")


def _series_of(filename: str) -> str:
    return TEXT_INDEX_NAME if "-TEXT-" in filename else INDEX_NAME


def _sums_problems(archive_dir: Path) -> list[str]:
    path = archive_dir / SUMS_NAME
    if not path.exists():
        return []
    out = []
    listed: set[str] = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        digest, _, name = line.partition("  ")
        listed.add(name)
        target = archive_dir / name
        if not target.is_file():
            out.append(f"{SUMS_NAME}: {name} is listed but missing")
            continue
        h = hashlib.sha256()
        with open(target, "rb") as fh:
            while chunk := fh.read(_READ):
                h.update(chunk)
        if h.hexdigest() != digest:
            out.append(f"{SUMS_NAME}: {name} has changed since it was written (sha256 differs)")
    out += [f"{p.name}: not listed in {SUMS_NAME}" for p in warc_files(archive_dir) if p.name not in listed]
    return out


# ----------------------------------------------------------------------------- get


def read_record(archive_dir: Path, filename: str, offset: int, length: int | None = None) -> StoredRecord:
    """The record whose gzip member starts at `offset` of `filename` (`length` when known)."""
    d = zlib.decompressobj(31)
    out: list[bytes] = []
    used = 0
    with open(Path(archive_dir) / filename, "rb") as fh:
        fh.seek(offset)
        while not d.eof:
            chunk = fh.read(min(_READ, length - used) if length else _READ)
            if not chunk:
                raise ValueError(f"{filename}@{offset}: incomplete gzip member")
            out.append(d.decompress(chunk))
            used += len(chunk) - len(d.unused_data)
    headers, block, problem = _parse(b"".join(out))
    if problem:
        raise ValueError(f"{filename}@{offset}: {problem}")
    return _stored(filename, offset, used, headers, block)


def _stored(filename: str, offset: int, length: int, headers: list[tuple[str, str]], block: bytes | None) -> StoredRecord:
    ref = RecordRef(_get(headers, "WARC-Record-ID") or "", filename, offset, length, _get(headers, "WARC-Date") or "",
                    _get(headers, "WARC-Target-URI") or "", _get(headers, "WARC-Payload-Digest"))
    return StoredRecord(ref, _get(headers, "WARC-Type") or "", tuple(headers), block)


def scan(archive_dir: Path, *, text_series: bool = False) -> Iterator[StoredRecord]:
    """Every record of every file, in file order (blocks included); `text_series`: only the
    files of cleaned texts and provenance (the metadata records are there)."""
    for path in warc_files(archive_dir):
        if text_series and _series_of(path.name) != TEXT_INDEX_NAME:
            continue
        for m in _members(path):
            if m.error:
                break
            headers, block, problem = _parse(m.data)
            if not problem:
                yield _stored(path.name, m.offset, m.length, headers, block)


def _index_lookup(archive_dir: Path, index_name: str, url: str) -> list[StoredRecord]:
    key = surt(url) + " "
    found = []
    for path in index_files(Path(archive_dir) / index_name):  # the index and unfolded segments
        with open(path, encoding="utf-8") as fh:
            for line in fh:  # sorted: a linear scan that stops past the key is enough at this scale
                if line.startswith(key):
                    fields = json.loads(line.split(" ", 2)[2])
                    if fields.get("url") == url:
                        found.append(read_record(archive_dir, fields["filename"], int(fields["offset"]),
                                                 int(fields["length"])))
                elif line > key:
                    break
    return found


def find_records(archive_dir: Path, key: str, *, scan_all: bool = False) -> list[StoredRecord]:
    """Records for a URL (through the indexes) or a record id (by scanning), oldest first.

    `scan_all=True` reads every file, which also finds metadata records (not indexed).
    """
    archive_dir = Path(archive_dir)
    rid = key if key.startswith("<") else (f"<{key}>" if key.startswith("urn:") else None)
    if rid is not None:
        return [r for r in scan(archive_dir) if r.ref.record_id == rid]
    url = to_uri(key) or key
    if scan_all:
        return [r for r in scan(archive_dir) if r.ref.target_uri == url]
    found = _index_lookup(archive_dir, INDEX_NAME, url) + _index_lookup(archive_dir, TEXT_INDEX_NAME, url)
    return sorted(found, key=lambda r: r.ref.date)


def get_text(archive_dir: Path, key: str) -> str:
    """Cleaned text for a URL (latest capture) or for a raw/conversion record id."""
    recs = find_records(archive_dir, key)
    conv = [r for r in recs if r.record_type == "conversion"]
    if not conv:
        raw_ids = {r.ref.record_id for r in recs}
        conv = [r for r in scan(archive_dir) if r.record_type == "conversion" and r.header("WARC-Refers-To") in raw_ids]
    if not conv:
        raise KeyError(f"no cleaned text in the archive for {key}")
    return (conv[-1].block or b"").decode("utf-8")


def get_raw(archive_dir: Path, key: str) -> bytes:
    """The input's exact bytes: a resource's block (the scraped file) or a copied record's block.

    A revisit is resolved to its original: an HTTP revisit keeps its own response head, so
    head + the original's payload rebuilds the duplicate input exactly.
    """
    recs = [r for r in find_records(archive_dir, key) if r.record_type in ("resource", "response", "revisit")]
    if not recs:
        raise KeyError(f"no raw record in the archive for {key}")
    rec = recs[-1]
    if rec.record_type != "revisit":
        return rec.block or b""
    original_id = rec.header("WARC-Refers-To")
    originals = find_records(archive_dir, original_id) if original_id else []
    if not originals:
        raise KeyError(f"revisit {rec.ref.record_id} refers to {original_id}, which is not in the archive")
    orig = originals[0]
    payload = payload_of(orig.record_type, list(orig.headers), orig.block or b"")
    return (rec.block or b"") + (payload if payload is not None else orig.block or b"")


__all__ = ["StoredRecord", "find_records", "get_raw", "get_text", "read_record", "scan", "verify_archive"]
