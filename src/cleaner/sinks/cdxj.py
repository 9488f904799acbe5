"""URIs for WARC headers, SURT url keys, CDXJ index lines and the WACZ page list.

The archive's indexes must equal what `cdxj-indexer --sort` writes for the same files, so the
SURT rules below follow the `surt` package (IA's WaybackURLKeyMaker port) for the URIs the
writer produces: ASCII URIs (IRIs are percent-encoded first), http(s), file: and urn: schemes.
Implemented here rather than depended on because `surt` pulls in tldextract and resolves
dotted-decimal hosts through the resolver; what we need is ~80 lines of string rules.
"""

from __future__ import annotations

import heapq
import json
import os
import re
import socket
from collections.abc import Iterable, Iterator
from functools import lru_cache, partial
from pathlib import Path
from urllib.parse import quote, unquote_to_bytes, urlsplit, urlunsplit

_SCHEME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:")
_PLAIN_URI_RE = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:[!#$%&'()*+,\-./0-9:;=?@A-Z\[\]_a-z~]*$")
_STRAY_PERCENT_RE = re.compile(r"%(?![0-9A-Fa-f]{2})")
_PATH_SAFE = "/:@!$&'()*+,;=-._~%"
_QUERY_SAFE = _PATH_SAFE + "?"


# ----------------------------------------------------------------------------- IRI -> URI


def to_uri(iri: str) -> str | None:
    """RFC 3986 form of an IRI for WARC-Target-URI: IDNA host, UTF-8 percent-encoding.

    Returns None for what cannot be a target URI (no scheme, an http(s) URL without host),
    so the caller falls back to a URI of its own instead of writing a broken header.
    """
    iri = iri.strip()
    if iri.startswith("<") and iri.endswith(">"):  # wget 1.19 wrote <uri>
        iri = iri[1:-1].strip()
    if _PLAIN_URI_RE.match(iri) and not _STRAY_PERCENT_RE.search(iri):
        return iri if _host_ok(iri) else None
    if not _SCHEME_RE.match(iri):
        return None
    iri = re.sub(r"[\r\n\t]", "", iri)
    try:
        parts = urlsplit(iri)
    except ValueError:
        return None
    netloc = parts.netloc
    if netloc:
        userinfo, at, hostport = netloc.rpartition("@")
        host, port = hostport, ""
        if not hostport.endswith("]"):
            host, colon, port = hostport.partition(":")
            port = colon + port
        if any(ord(c) > 127 for c in host):
            try:
                host = host.encode("idna").decode("ascii")
            except UnicodeError:
                host = quote(host, safe="-._~!$&'()*+,;=")
        netloc = (quote(userinfo, safe=_PATH_SAFE) + at if at else "") + host + quote(port, safe=":")
    path = _encode(parts.path, _PATH_SAFE)
    query = _encode(parts.query, _QUERY_SAFE)
    fragment = _encode(parts.fragment, _QUERY_SAFE)
    uri = urlunsplit((parts.scheme.lower(), netloc, path, query, fragment))
    if parts.query == "" and iri.split("#", 1)[0].endswith("?"):
        uri = uri.replace("#", "?#", 1) if fragment else uri + "?"
    return uri if _host_ok(uri) else None


def _encode(part: str, safe: str) -> str:
    return _STRAY_PERCENT_RE.sub("%25", quote(part, safe=safe, encoding="utf-8", errors="strict"))


def _host_ok(uri: str) -> bool:
    low = uri[:8].lower()
    if low.startswith(("http:", "https:")):
        try:
            return bool(urlsplit(uri).hostname)
        except ValueError:
            return False
    return True


def file_uri(path: str, member: str | None = None) -> str:
    """Stable URI for an input without a URL: the path under the input folder."""
    uri = "file:///" + quote(path.lstrip("/"), safe="/-._~!$&'()*+,;=:@")
    if member is not None:
        uri += "#" + quote(str(member), safe="-._~!$&'()*+,;=:@/?")
    return uri


# ----------------------------------------------------------------------------- SURT

_HANDY_RE = re.compile(rb"^(([a-zA-Z][a-zA-Z0-9+.-]*):)?((//([^/?#]*))?([^?#]*)(\?([^#]*))?)?(#(.*))?$")
_WWW_RE = re.compile(rb"www\d*\.")
_ESCAPE_SAFE = b"!\"$&'()*+,-./:;<=>?@[\\]^_`{|}~"
_PATH_SESSION_RES = (
    re.compile(rb"^(.*/)(\((?:[a-z]\([0-9a-z]{24}\))+\)/)([^\?]+\.aspx.*)$", re.I),
    re.compile(rb"^(.*/)(\([0-9a-z]{24}\)/)([^\?]+\.aspx.*)$", re.I),
)
_QUERY_SESSION_RES = (
    re.compile(rb"^(.*)(?:jsessionid=[0-9a-zA-Z]{32})(?:&(.*))?$", re.I),
    re.compile(rb"^(.*)(?:phpsessid=[0-9a-zA-Z]{32})(?:&(.*))?$", re.I),
    re.compile(rb"^(.*)(?:sid=[0-9a-zA-Z]{32})(?:&(.*))?$", re.I),
    re.compile(rb"^(.*)(?:ASPSESSIONID[a-zA-Z]{8}=[a-zA-Z]{24})(?:&(.*))?$", re.I),
    re.compile(rb"^(.*)(?:cfid=[^&]+&cftoken=[^&]+)(?:&(.*))?$", re.I),
)
_DEFAULT_PORTS = {b"http": 80, b"https": 443}


def _unescape(b: bytes) -> bytes:
    while True:
        un = unquote_to_bytes(b)
        if un == b:
            return b
        b = un


def _escape_once(b: bytes) -> bytes:
    return quote(b, safe=_ESCAPE_SAFE).encode("ascii") if b else b


def _normalize_path(path: bytes) -> bytes:
    if not path:
        return b"/"
    kept: list[bytes] = []
    for p in path.split(b"/")[1:]:
        if p == b".":
            continue
        if p == b".." and kept:
            kept.pop()
        else:
            kept.append(p)
    out = b"/" + b"".join(p + b"/" for p in kept[:-1] if p)
    return out + kept[-1] if kept else out


def _ip_host(host: bytes) -> bytes | None:
    if host.isdigit():
        return socket.inet_ntoa((int(host) & 0xFFFFFFFF).to_bytes(4, "big")).encode()
    if re.match(rb"^(?:[1-9][0-9]*|0[0-7]*)(\.[0-9]+)?(\.[0-9]+)?(\.[0-9]+)?$", host):
        try:  # inet_aton parses the same short/octal forms the resolver would, offline
            return socket.inet_ntoa(socket.inet_aton(host.decode())).encode()
        except OSError:
            return None
    return None


@lru_cache(maxsize=256)  # a document's raw and conversion records share their URL
def surt(url: str) -> str:
    """SURT url key as `surt.surt(url)` computes it (IA canonicalization, no scheme, no www)."""
    try:
        return _surt(url.encode("utf-8")).decode("utf-8")
    except Exception:  # cdxj-indexer falls back to the url itself
        return url


def _surt(url: bytes) -> bytes:
    if not url:
        return b"-"
    if url.startswith(b"filedesc"):
        return url
    url = re.sub(rb"[\n\r\t]", b"", url.strip())
    if not re.match(rb"^[a-zA-Z][a-zA-Z0-9+\-.]*:", url):
        url = b"http://" + url
    url = re.sub(rb"^(https?://)+", lambda m: m.group(1), url)
    m = _HANDY_RE.match(url)
    assert m
    scheme = m.group(2) or b""
    netloc = (m.group(5) or b"").rstrip(b":")
    path, query = m.group(6) or None, m.group(8) or None
    hostport = netloc.rpartition(b"@")[2]
    port: int | None = None
    if hostport.startswith(b"["):
        host = hostport[1 : hostport.find(b"]")].lower() or None
        rest = hostport[hostport.find(b"]") + 1 :]
        port = int(rest[1:]) if rest.startswith(b":") and rest[1:] else None
    else:
        h, _, p = hostport.partition(b":")
        host = h.lower() or None
        port = int(p) if p else None
        if port is not None and not 0 <= port <= 65535:
            raise ValueError("port out of range")
    if scheme.startswith(b"http") and host is None and path is not None:
        first, _, rest = path.lstrip(b"/").partition(b"/")
        host, path = first, b"/" + rest
    if query:
        query = _escape_once(_unescape(query))
    if host:
        host = _unescape(host)
        if any(c > 127 for c in host):
            try:
                host = host.decode("utf-8", "ignore").encode("idna")
            except UnicodeError:
                pass
        host = host.replace(b"..", b".").strip(b".")
        host = _ip_host(host) or _escape_once(host.lower())
        host = host.lower()
        www = _WWW_RE.match(host)
        if www:
            host = host[www.end() :]
    upath = _unescape(path) if path is not None else None
    if host:
        upath = _normalize_path(upath or b"")
    path = _escape_once(upath) if upath else upath
    if port is not None and _DEFAULT_PORTS.get(scheme.lower(), 0) == port:
        port = None
    if path:
        path = path.lower()
        for rx in _PATH_SESSION_RES:
            pm = rx.match(path)
            if pm:
                path = pm.group(1) + pm.group(3)
        if path.endswith(b"/") and len(path) > 1:
            path = path[:-1]
    if query:
        for rx in _QUERY_SESSION_RES:
            qm = rx.match(query)
            if qm:
                query = qm.group(1) + qm.group(2) if qm.group(2) else qm.group(1)
        query = b"&".join(sorted(query.lower().split(b"&"), key=lambda a: tuple(a.split(b"=", 1))))
        query = query or None  # the IA canonicalizer also drops an empty trailing "?"
    out = b""
    if host:
        out += b",".join(reversed(host.split(b".")))
        if port is not None:
            out += b":%d" % port
        out += b")"
    else:
        out = scheme + b":"
    if path:
        out += path
    elif query is not None:
        out += b"/"
    if query is not None:
        out += b"?" + query
    return out


# ----------------------------------------------------------------------------- CDXJ


def cdx_timestamp(warc_date: str) -> str:
    """14-digit CDX timestamp of a W3C-DTF WARC-Date."""
    digits = re.sub(r"\D", "", warc_date.split(".")[0])
    return (digits + "00000000000000")[:14] if len(digits) < 14 else digits[:14]


def cdxj_head(url: str, warc_date: str, *, mime: str | None, status: str | None, digest: str | None) -> str:
    """A CDXJ line, field for field what cdxj-indexer 1.5 writes, up to its last three fields,
    which only the writer knows (where the record went; `cdxj_finish` adds them): the SURT key
    and the JSON are the costly part and are built in the workers."""
    fields: dict[str, str] = {"url": url}
    if mime is not None:
        fields["mime"] = re.split(r"[;\s]", mime, maxsplit=1)[0].strip()
    if status is not None:
        fields["status"] = status
    if digest is not None:
        fields["digest"] = digest
    return f"{surt(url)} {cdx_timestamp(warc_date)} {json.dumps(fields)[:-1]}"


def cdxj_finish(head: str, *, length: int, offset: int, filename: str) -> str:
    """`cdxj_head` + length, offset, filename: the same text json.dumps gives for the whole dict."""
    return f'{head}, "length": "{length}", "offset": "{offset}", "filename": {_json_name(filename)}}}'


@lru_cache(maxsize=64)  # a file's name, for all of its records
def _json_name(filename: str) -> str:
    return json.dumps(filename)


# A checkpoint's index lines go to a sorted segment file of their own (`index-<stamp>-<n>.cdxj` beside
# `index.cdxj`), and the run folds its segments into the main index once, at its end. Merging
# every checkpoint into the main index instead rewrote the whole index each time: quadratic over
# an archive's life (at a million documents ~500 MB copied per 2000 documents). A segment is a
# valid sorted CDXJ index of the files its checkpoint published, so the archive stays fully
# indexed at every moment, also after a kill -9 before the fold (the next run folds then).
_MAX_SEGMENTS = 128
_SEGMENT = re.compile(r"^(\w+)-\d{14}-\d{5}\.cdxj$")  # <index stem>-<checkpoint stamp>-<n>


def _new_segment(index: Path, stamp: str) -> Path:
    """A free segment name of `index` for a checkpoint started at `stamp` (14 digits)."""
    n = 0
    while (path := index.with_name(f"{index.stem}-{stamp}-{n:05d}{index.suffix}")).exists():
        n += 1
    return path


def segments(index: Path) -> list[Path]:
    """Unfolded segments of `index`, oldest first (names sort by time)."""
    if not index.parent.is_dir():
        return []
    found = [p for p in index.parent.iterdir() if (m := _SEGMENT.match(p.name)) and m.group(1) == index.stem]
    return sorted(found, key=lambda p: p.name)


def index_files(index: Path) -> list[Path]:
    """Every file holding lines of `index`: the main file (if any) and its segments."""
    return ([index] if index.exists() else []) + segments(index)


def write_segment(index: Path, stamp: str, lines: Iterable[str]) -> Path | None:
    """Write a checkpoint's lines as a sorted segment of `index`, atomically (temp, fsync, rename).

    A long run folds its segments every `_MAX_SEGMENTS` checkpoints (an amortised copy of the
    index per that many checkpoints), so segments never pile up past open-file limits."""
    fresh = sorted(line + "\n" for line in lines)
    if not fresh:
        return None
    path = _new_segment(index, stamp)
    _write_atomic(path, fresh)
    if len(segments(index)) >= _MAX_SEGMENTS:
        fold_segments(index)
    return path


def fold_segments(index: Path) -> int:
    """Merge `index`'s segments into it (sequential passes) and delete them; returns how many.

    Crash-safe in any order of events: the merged index replaces the old one atomically before
    any segment is deleted, and lines already in the index (a fold cut short after the rename)
    are written once, since the merge drops a line equal to the one before it.
    """
    parts = segments(index)
    for i in range(0, len(parts), _MAX_SEGMENTS):
        batch = parts[i : i + _MAX_SEGMENTS]
        handles = [open(p, encoding="utf-8", newline="\n") for p in ([index] if index.exists() else []) + batch]
        try:
            _write_atomic(index, _unique(heapq.merge(*handles)))
        finally:
            for h in handles:
                h.close()
        for p in batch:
            p.unlink()
        fsync_dir(index.parent)
    return len(parts)


def _unique(lines: Iterable[str]) -> Iterator[str]:
    prev = None
    for line in lines:
        if line != prev:
            yield line
        prev = line


def _write_atomic(path: Path, lines: Iterable[str]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8", newline="\n") as out:
        out.writelines(lines)
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, path)
    fsync_dir(path.parent)


def append_lines(path: Path, new_lines: Iterable[str], header: str | None = None) -> None:
    """Append lines to a text file in place, then fsync: O(new lines), not O(file).

    Copying the file to append (the atomic way) made every checkpoint rewrite all of
    pages.jsonl (~4 KB a document with its text): quadratic over an archive's life. A crash
    mid-append leaves at most an unterminated last line, and only after this checkpoint's WARC
    files were published and before the ledger committed them: recovery then drops their lines
    and that unterminated tail (`cleaner.recovery`).
    """
    _append(path, iter(["".join(line + "\n" for line in new_lines).encode("utf-8")]), header)


def append_file(path: Path, source: Path, header: str | None = None) -> None:
    """`append_lines` for the complete lines of a file, copied in blocks: a checkpoint's pages
    (~8 MB at 2000 documents) were read whole, split and joined, ~30 MB of peak memory."""
    with open(source, "rb") as src:
        _append(path, iter(partial(src.read, 1 << 20), b""), header)


def _append(path: Path, chunks: Iterator[bytes], header: str | None) -> None:
    """Append the chunks (nothing at all when there are none), the header first into an empty
    file, then fsync the file and, when it was created, its folder."""
    first = next((c for c in chunks if c), b"")
    if not first:
        return
    created = not path.exists()
    with open(path, "ab") as out:
        if out.tell() == 0 and header is not None:
            out.write((header + "\n").encode("utf-8"))
        out.write(first)
        for chunk in chunks:
            out.write(chunk)
        out.flush()
        os.fsync(out.fileno())
    if created:
        fsync_dir(path.parent)


def fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# ----------------------------------------------------------------------------- pages.jsonl


def pages_header(title: str) -> str:
    return json.dumps(
        {"format": "json-pages-1.0", "id": "pages", "title": title, "hasText": True},
        ensure_ascii=False,
    )


def page_line(page_id: str, url: str, warc_date: str, title: str | None, text: str) -> str:
    """One WACZ page entry; `ts` is the capture date in UTC (py-wacz rejects offsets)."""
    entry = {"id": page_id, "url": url, "ts": warc_date, "title": title or "", "text": text}
    return json.dumps(entry, ensure_ascii=False)
