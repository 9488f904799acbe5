"""Find input files under raw/ and read each into Documents (one per article it holds).

Formats: .txt (and any unrecognised text), .html/.htm, .jsonl, .warc/.arc/.wet/.wat, each
optionally gzip-compressed, and .wacz (the WARC files it packs, `cleaner.sources.wacz`). The
suffix decides unless the content says otherwise (gzip magic, a 'WARC/' or 'filedesc:' head, an
HTML head), because scrapes are often misnamed.

Nothing is lost: whatever cannot be read becomes a quarantined Document whose `problem`
says what and where ("read: raw/x.warc.gz: record at offset 81234: record is truncated
...") and whose `raw` holds the unread bytes (bounded by the size limit; the original stays in
raw/ anyway). Memory per file is bounded by `max_bytes` (file) plus `max_bytes` per gzip member;
a WARC, WACZ or JSONL file over `max_bytes` is read from disk a record (a line) at a time
(`FileBytes`, `jsonl.stream_lines`): then `max_bytes` bounds a record, and a crawl's 1 GB WARC
files or a dump of articles are inputs like any other. JSONL: `cleaner.sources.jsonl`.
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from cleaner.document import Document
from cleaner.sources.filebytes import FileBytes
from cleaner.sources.gzmembers import gunzip, is_gzip
from cleaner.sources.jsonl import read_jsonl, stream_lines, whole_lines
from cleaner.sources.wacz import ZIP_MAGIC, read_wacz
from cleaner.sources.warc import Context, read_warc, sniff_html

_WARC_SUFFIXES = (".warc", ".arc", ".wet", ".wat")
_HTML_SUFFIXES = (".html", ".htm", ".xhtml", ".shtml")
_JSONL_SUFFIXES = (".jsonl", ".ndjson")
_TEXT_SUFFIXES = (".txt", ".text", ".md")
_IGNORED_NAMES = (".gitkeep",)
# An archive's sidecars: CDX/CDXJ indexes and checksum files describe inputs and are not inputs
# (read as text, a pywb collection's index became hundreds of "articles" of index lines).
_SIDECAR_SUFFIXES = (".cdx", ".cdxj", ".cdx.gz", ".cdxj.gz", ".idx", ".md5", ".sha1", ".sha256", ".sha512")
# A WARC still being written: Heritrix, warcprox and pywb name it `<name>.open` and rename it
# when it is closed. Read now, it would be cut short, and read again (as another file) later.
_IN_PROGRESS_SUFFIX = ".open"


@dataclass(frozen=True)
class InputFile:
    path: str  # absolute (a str, as os.scandir gives it: a Path per file cost 9 us of a 25 us listing)
    rel: str  # POSIX path relative to the input root
    size: int
    mtime_ns: int


@dataclass(frozen=True)
class Rejected:
    """An input quarantined without reading (bad name, escaping symlink, not a regular file)."""

    rel: str
    reason: str


def _ignored(name: str) -> bool:
    """Not an input (yet): hidden files, READMEs, a crawler's file still being written, an
    archive's index and checksum files."""
    low = name.lower()
    return (name.startswith(".") or name.upper().startswith("README") or name in _IGNORED_NAMES
            or low.endswith(_IN_PROGRESS_SUFFIX) or low.endswith(_SIDECAR_SUFFIXES))


def _utf8_name(name: str) -> bool:
    try:
        os.fsencode(name).decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISFIFO, "fifo"), (stat.S_ISSOCK, "socket"), (stat.S_ISCHR, "character device"),
                       (stat.S_ISBLK, "block device"), (stat.S_ISDIR, "directory")):
        if test(mode):
            return name
    return "special file"


def discover(root: Path) -> Iterator[InputFile | Rejected]:
    """Every input under `root` in a stable (sorted) order; hidden files and READMEs are not inputs."""
    root = Path(os.path.abspath(root))
    real_root = root.resolve()
    yield from _walk(root, real_root, "")


def _walk(folder: str | Path, real_root: Path, prefix: str) -> Iterator[InputFile | Rejected]:
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError as err:
        yield Rejected(prefix.rstrip("/") or ".", f"cannot list folder: {err.strerror or err}")
        return
    for entry in entries:
        name = entry.name
        if _ignored(name):
            continue
        rel = prefix + name
        path = entry.path
        if not _utf8_name(name):
            what = "folder" if entry.is_dir(follow_symlinks=False) else "file"
            yield Rejected(rel, f"{what} name is not valid UTF-8: {os.fsencode(name)!r} (rename it)")
            continue
        try:
            if entry.is_symlink():
                target = Path(path).resolve()
                if not target.is_relative_to(real_root):
                    yield Rejected(rel, f"symlink points outside the input folder (to {target})")
                    continue
                if not target.exists():
                    yield Rejected(rel, f"broken symlink (to {target})")
                    continue
                if target.is_dir():
                    continue  # its files are read through their real path inside the root
            st = os.stat(path)
        except OSError as err:
            yield Rejected(rel, f"cannot stat: {err.strerror or err}")
            continue
        if stat.S_ISDIR(st.st_mode):
            yield from _walk(path, real_root, rel + "/")
        elif not stat.S_ISREG(st.st_mode):
            yield Rejected(rel, f"not a regular file ({_kind(st.st_mode)})")
        elif not os.access(path, os.R_OK):
            yield Rejected(rel, "permission denied (not readable)")
        else:
            yield InputFile(path, rel, st.st_size, st.st_mtime_ns)


def sha256_file(path: str | Path) -> str:
    """file_digest reads into one reused buffer: 20 instead of 35 us a small file, where
    read(1 MiB) allocated (and gave back) a megabyte twice per file."""
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def hashed(f: InputFile, limit: int) -> tuple[str, bytes | None]:
    """The file's SHA-256 and, when it is within `limit`, its bytes (for `Reader`): a file is
    read once, for its identity and its documents. Raises OSError (unreadable)."""
    if f.size > limit:
        return sha256_file(f.path), None  # quarantined unread (`Reader`): hashed in a stream
    data = read_capped(f.path, limit)
    if len(data) > limit:  # it grew past the limit since it was listed
        return sha256_file(f.path), None
    return hashlib.sha256(data).hexdigest(), data


def read_capped(path: str | Path, limit: int) -> bytes:
    """At most `limit` + 1 bytes of the file (one more than the limit says it is over it).
    read(limit + 1) would allocate limit + 1 bytes (256 MiB by default) for every small
    file: the size fstat reports is asked for first (16 instead of 43 us a small file), the
    rest only when the file grew meanwhile."""
    with open(path, "rb") as fh:
        size = os.fstat(fh.fileno()).st_size
        data = fh.read(min(size, limit) + 1)
        if size < len(data) <= limit:
            data += fh.read(limit + 1 - len(data))
        return data


def _format(name: str, head: bytes) -> str:
    """'warc' | 'html' | 'jsonl' | 'text' from the (already gunzipped) head and the suffix."""
    low = name.lower()
    if low.endswith(".gz"):
        low = low[:-3]
    body = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if body.startswith((b"WARC/", b"filedesc:")):
        return "warc"
    if low.endswith(_WARC_SUFFIXES):
        return "html" if sniff_html(head) else "warc"  # a misnamed page; else framing explains
    if low.endswith(_JSONL_SUFFIXES):
        return "jsonl"
    if low.endswith(_HTML_SUFFIXES) or sniff_html(head):
        return "html"
    if not low.endswith(_TEXT_SUFFIXES) and body.startswith(b'{"') and b"}\n" in body[:65536]:
        return "jsonl"
    return "text"


@dataclass
class Reader:
    """Reads one input file; iterate for Documents, then look at `skipped` and `warnings`.

    `skipped`: records that are not articles (request, warcinfo, images, revisits), as
    (where, reason). `warnings`: quirks that lost nothing (whole-file gzip, bare-LF heads).
    """

    file: InputFile
    sha256: str
    max_bytes: int
    data: bytes | None = field(default=None, repr=False)  # the file's bytes when already read (`hashed`)
    ctx: Context = field(init=False)

    def __post_init__(self) -> None:
        self.ctx = Context(self.file.rel, self.sha256, self.max_bytes)

    @property
    def skipped(self) -> list[tuple[str, str]]:
        return self.ctx.skipped

    @property
    def warnings(self) -> list[str]:
        return self.ctx.warnings

    def __iter__(self) -> Iterator[Document]:
        ctx, limit = self.ctx, self.max_bytes
        if self.file.size > limit:
            yield from self._over_limit()
            return
        data, self.data = self.data, None  # read once: the reader does not keep the bytes
        try:
            if data is None:
                data = read_capped(self.file.path, limit)
        except OSError as err:
            yield ctx.quarantined(b"", None, None, f"cannot read: {err.strerror or err}")
            return
        if len(data) > limit:
            yield ctx.quarantined(b"", None, None, f"file is over the limit of {limit} bytes")
            return
        if not data:
            yield ctx.quarantined(b"", None, None, "empty file")
            return
        kind = _sniff(self.file.rel, data, limit)
        if kind == "wacz":
            yield from read_wacz(data, ctx)
            return
        if kind == "warc":
            yield from read_warc(data, ctx)
            return
        if is_gzip(data):
            data, problem = gunzip(data, limit)
            if problem:
                yield ctx.quarantined(data, None, None, problem)
                return
            if not data:
                yield ctx.quarantined(b"", None, None, "empty file (after gunzip)")
                return
        if kind == "jsonl":
            yield from read_jsonl(whole_lines(data), ctx)
        else:
            media = "text/html" if kind == "html" else "text/plain"
            yield ctx.doc(data, None, None, media_type=media)

    def _over_limit(self) -> Iterator[Document]:
        """A file over the size limit: a WARC or WACZ is read from disk a record at a time, a
        JSONL dump a line at a time (the limit then bounds each, as a crawl's 1 GB WARC files
        need); anything else is a single document that big, quarantined unread."""
        ctx, limit = self.ctx, self.max_bytes
        try:
            view = FileBytes(self.file.path)
        except OSError as err:
            yield ctx.quarantined(b"", None, None, f"cannot read: {err.strerror or err}")
            return
        with view:
            kind = _sniff(self.file.rel, view, limit)
            if kind in ("warc", "wacz"):
                yield from (read_warc if kind == "warc" else read_wacz)(view, ctx)
                return
            if kind == "jsonl":  # a dump of articles, one a line: read a line at a time
                yield from read_jsonl(stream_lines(view, limit, ctx), ctx)
                return
        yield ctx.quarantined(b"", None, None, f"file is {self.file.size} bytes, over the limit of {limit}")


def _sniff(rel: str, data: bytes | FileBytes, limit: int) -> str:
    """'wacz' | 'warc' | 'html' | 'jsonl' | 'text' from the file's first bytes (gunzipped) and name."""
    if data[:4] == ZIP_MAGIC and rel.lower().endswith(".wacz"):
        return "wacz"
    head = data[:65536]
    if is_gzip(head):
        head = gunzip(head, limit)[0]
    return _format(rel, head[:4096])


def read(f: InputFile, sha256: str, max_bytes: int) -> Iterator[Document]:
    """The Documents of one input; use `Reader` to also get skipped records and warnings."""
    return iter(Reader(f, sha256, max_bytes))
