"""sources: discovery and reading of every input format, including damaged WARC files.

Fixtures are built here in tmp_path (WARC records written byte by byte, so framing faults
are exact); nothing is copied from the shared eval data.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import zlib
from pathlib import Path

import pytest

from cleaner.document import Document, Outcome, document_id
from cleaner.sources import InputFile, Reader, Rejected, discover, read, read_capped, sha256_file

LIMIT = 1_000_000
PAGE = b"<!doctype html><html><head><title>T</title></head><body><p>Hallo Welt</p></body></html>"


def http(body: bytes, ctype: str = "text/html; charset=utf-8", extra: str = "", status: str = "200 OK") -> bytes:
    head = f"HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\n{extra}Content-Length: {len(body)}\r\n\r\n"
    return head.encode() + body


def record(wtype: str, block: bytes, rid: str, uri: str | None = "http://example.com/a",
           ctype: str | None = "application/http; msgtype=response", extra: str = "",
           length: int | None = None) -> bytes:
    lines = ["WARC/1.1", f"WARC-Type: {wtype}", f"WARC-Record-ID: <urn:uuid:{rid}>",
             "WARC-Date: 2024-05-01T12:00:00+02:00"]
    if uri:
        lines.append(f"WARC-Target-URI: {uri}")
    if ctype:
        lines.append(f"Content-Type: {ctype}")
    head = "\r\n".join(lines) + "\r\n" + extra + f"Content-Length: {len(block) if length is None else length}\r\n\r\n"
    return head.encode() + block + b"\r\n\r\n"


def sample_records() -> list[bytes]:
    chunked = b"".join(b"%x\r\n%s\r\n" % (len(c), c) for c in (PAGE[:40], PAGE[40:])) + b"0\r\n\r\n"
    gz_body = gzip.compress("<html><body><p>Grüße aus Köln</p></body></html>".encode())
    return [
        record("warcinfo", b"software: test\r\n", "00000000-0000-0000-0000-000000000001", uri=None,
               ctype="application/warc-fields"),
        record("request", b"GET /a HTTP/1.1\r\nHost: example.com\r\n\r\n", "00000000-0000-0000-0000-000000000002",
               ctype="application/http; msgtype=request"),
        record("response", http(chunked, extra="Transfer-Encoding: chunked\r\n"),
               "00000000-0000-0000-0000-000000000003", uri="<http://example.com/a>"),
        record("response", http(gz_body, extra="Content-Encoding: gzip\r\n"), "00000000-0000-0000-0000-000000000004",
               uri="http://example.com/b"),
        record("response", http(b"\x89PNG\r\n\x1a\n" + bytes(100), ctype="image/png"),
               "00000000-0000-0000-0000-000000000005", uri="http://example.com/p.png"),
        record("resource", "Nur Text, äöü.".encode(), "00000000-0000-0000-0000-000000000006",
               uri="http://example.com/t.txt", ctype="text/plain; charset=utf-8"),
        record("metadata", b"via: x\r\n", "00000000-0000-0000-0000-000000000007", ctype="application/warc-fields"),
        record("response", b"dns answer", "00000000-0000-0000-0000-000000000008", uri="dns:example.com",
               ctype="text/dns"),
    ]


def write(tmp_path: Path, name: str, data: bytes) -> InputFile:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    st = path.stat()
    return InputFile(str(path), name, st.st_size, st.st_mtime_ns)


def read_all(f: InputFile, limit: int = LIMIT) -> tuple[list[Document], Reader]:
    reader = Reader(f, sha256_file(f.path), limit)
    return list(reader), reader


def clean(docs: list[Document]) -> list[Document]:
    return [d for d in docs if d.outcome is Outcome.CLEAN]


def quarantined(docs: list[Document]) -> list[Document]:
    return [d for d in docs if d.outcome is Outcome.QUARANTINED]


# ---------------------------------------------------------------- discover


def test_discover_sorted_skips_hidden_and_readme(tmp_path: Path) -> None:
    for name in ("b.txt", "a.txt", "sub/c.html", ".hidden", ".git/x.txt", "README.md", ".gitkeep", "new\nline.txt",
                 "crawl-00001.warc.gz.open",  # still being written by the crawler
                 "indexes/index.cdxj", "indexes/all.cdx.gz", "crawl.warc.gz.md5", "crawl.warc.gz.sha256"):  # sidecars
        write(tmp_path, name, b"x")
    found = list(discover(tmp_path))
    assert all(isinstance(f, InputFile) for f in found)
    rels = [f.rel for f in found if isinstance(f, InputFile)]
    assert rels == ["a.txt", "b.txt", "new\nline.txt", "sub/c.html"]
    first = found[0]
    assert isinstance(first, InputFile) and os.path.isabs(first.path) and first.size == 1


def test_discover_rejects_escaping_symlink_and_special_files(tmp_path: Path) -> None:
    root = tmp_path / "raw"
    write(root, "ok.txt", b"x")
    outside = write(tmp_path, "secret.txt", b"s")
    (root / "link_out.txt").symlink_to(outside.path)
    (root / "link_in.txt").symlink_to(root / "ok.txt")
    os.mkfifo(root / "pipe")
    found = {f.rel: f for f in discover(root)}
    assert isinstance(found["link_out.txt"], Rejected) and "outside" in found["link_out.txt"].reason
    assert isinstance(found["link_in.txt"], InputFile)
    assert isinstance(found["pipe"], Rejected) and "fifo" in found["pipe"].reason
    assert isinstance(found["ok.txt"], InputFile)


def test_discover_rejects_non_utf8_name(tmp_path: Path) -> None:
    bad = os.path.join(os.fsencode(tmp_path), b"caf\xe9.txt")
    with open(bad, "wb") as fh:
        fh.write(b"x")
    found = list(discover(tmp_path))
    assert len(found) == 1 and isinstance(found[0], Rejected)
    assert "not valid UTF-8" in found[0].reason and found[0].rel == os.fsdecode(b"caf\xe9.txt")


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads everything")
def test_discover_rejects_unreadable(tmp_path: Path) -> None:
    f = write(tmp_path, "locked.txt", b"x")
    f.path.chmod(0)
    found = list(discover(tmp_path))
    assert isinstance(found[0], Rejected) and "permission" in found[0].reason


# ---------------------------------------------------------------- plain formats


def test_txt_html_and_gz(tmp_path: Path) -> None:
    t = write(tmp_path, "a.txt", "Grüße\n".encode())
    docs, _ = read_all(t)
    sha = sha256_file(t.path)
    assert len(docs) == 1 and docs[0].raw == "Grüße\n".encode() and docs[0].source.media_type == "text/plain"
    assert docs[0].id == document_id(sha, None, docs[0].source.path) and docs[0].source.sha256 == sha and docs[0].origin is None
    h = write(tmp_path, "p.html.gz", gzip.compress(PAGE))
    docs, _ = read_all(h)
    assert docs[0].raw == PAGE and docs[0].source.media_type == "text/html"


def test_suffix_lies_are_sniffed(tmp_path: Path) -> None:
    docs, _ = read_all(write(tmp_path, "page.txt", b"\n  " + PAGE))
    assert docs[0].source.media_type == "text/html"
    docs, _ = read_all(write(tmp_path, "blob.dat", gzip.compress(b"plain words")))
    assert docs[0].raw == b"plain words" and docs[0].source.media_type == "text/plain"
    docs, _ = read_all(write(tmp_path, "crawl.txt", b"".join(sample_records())))
    assert len(clean(docs)) == 3  # read as WARC despite the name


def test_empty_and_oversize_files(tmp_path: Path) -> None:
    docs, _ = read_all(write(tmp_path, "e.txt", b""))
    assert docs[0].outcome is Outcome.QUARANTINED and docs[0].problem == "read: empty file"
    docs, _ = read_all(write(tmp_path, "big.txt", b"x" * 2000), limit=1000)
    assert docs[0].problem == "read: file is 2000 bytes, over the limit of 1000" and docs[0].raw == b""


def test_gzip_bomb_is_bounded(tmp_path: Path) -> None:
    bomb = gzip.compress(b"\0" * 5_000_000)
    assert len(bomb) < 10_000
    docs, _ = read_all(write(tmp_path, "bomb.html.gz", bomb), limit=100_000)
    assert len(docs) == 1 and "decompressed size exceeds 100000" in (docs[0].problem or "")
    assert len(docs[0].raw) <= 100_000
    warc_bomb = gzip.compress(record("resource", b"a" * 3_000_000, "b", ctype="text/plain"))
    docs, _ = read_all(write(tmp_path, "bomb.warc.gz", warc_bomb), limit=100_000)
    assert [d.outcome for d in docs] == [Outcome.QUARANTINED]
    assert "decompressed size exceeds" in (docs[0].problem or "")


def test_jsonl_good_and_bad_lines(tmp_path: Path) -> None:
    lines = [
        json.dumps({"html": "<p>Hallo</p>", "url": "http://x.de/1", "title": "T", "date": "2024-01-02T03:04:05Z"}),
        "",
        "{not json",
        json.dumps({"text": "nur Text", "id": 7}),
        json.dumps({"url": "http://x.de/3"}),
        json.dumps(["a"]),
    ]
    f = write(tmp_path, "feed.jsonl", ("\n".join(lines) + "\n").encode())
    docs, _ = read_all(f)
    ok = clean(docs)
    assert [d.source.member for d in ok] == ["line:1", "line:4"]
    assert ok[0].html == "<p>Hallo</p>" and ok[0].url == "http://x.de/1" and ok[0].title == "T"
    assert ok[0].source.fetched == "2024-01-02T03:04:05Z" and ok[0].raw == lines[0].encode()
    assert ok[1].text == "nur Text" and ok[1].html is None and ok[1].encoding == "utf-8"
    assert ok[1].source.offset == len("\n".join(lines[:3])) + 1
    bad = quarantined(docs)
    assert [d.source.member for d in bad] == ["line:3", "line:5", "line:6"]
    assert bad[0].problem is not None and bad[0].problem.startswith("read: feed.jsonl:3: invalid JSON")
    assert "no 'html' or 'text'" in (bad[1].problem or "")
    assert len({d.id for d in docs}) == len(docs)


@pytest.mark.parametrize("gz", [False, True])
def test_a_jsonl_dump_over_the_limit_is_read_a_line_at_a_time(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                              gz: bool) -> None:
    """The limit bounds a line of a JSONL dump, not the file: over it, the file gives the
    documents it gives read whole (line ends \\n, \\r\\n and \\r split alike, across chunks), and
    a line longer than the limit is quarantined alone."""
    from cleaner.sources import gzmembers, jsonl

    monkeypatch.setattr(jsonl, "_CHUNK", 7)  # chunks end inside lines and line ends ...
    monkeypatch.setattr(gzmembers, "_FEED", 7)  # ... and so do inflated pieces
    rows = [json.dumps({"text": f"Artikel {i} " + "Wort " * (i % 5), "url": f"http://x.de/{i}"}) for i in range(40)]
    body = b"".join(r.encode() + (b"\n", b"\r\n", b"\r")[i % 3] for i, r in enumerate(rows)) + b"\n{broken\n"
    data = b"".join(gzip.compress(body[i : i + 500]) for i in range(0, len(body), 500)) if gz else body
    f = write(tmp_path, "dump.jsonl.gz" if gz else "dump.jsonl", data)
    limit = max(len(r) for r in rows) + 4
    assert f.size > limit
    streamed, reader = read_all(f, limit)
    whole, _ = read_all(f, len(body) + 1)
    assert len(clean(streamed)) == 40 and [d.source.member for d in quarantined(streamed)] == ["line:42"]  # 41: blank
    _same_documents(streamed, whole)
    assert not reader.warnings
    long_line = json.dumps({"text": "x" * (2 * limit)}).encode()
    f = write(tmp_path, "long.jsonl", body[:200].rsplit(b"\n", 1)[0] + b"\n" + long_line + b"\n" + rows[1].encode() + b"\n")
    docs, _ = read_all(f, limit)
    problems = [d.problem for d in docs if d.problem]
    assert len(problems) == 1 and "invalid JSON" in problems[0]
    assert docs[-1].outcome is Outcome.CLEAN and docs[-1].raw == rows[1].encode()
    assert docs[-1].source.offset == Path(f.path).read_bytes().rindex(rows[1].encode())  # the cut line counted whole


def test_a_damaged_jsonl_gz_over_the_limit_gives_its_lines_then_a_warning(tmp_path: Path) -> None:
    rows = [json.dumps({"text": f"Artikel {i}"}) for i in range(30)]
    whole = gzip.compress("\n".join(rows).encode() + b"\n")
    f = write(tmp_path, "cut.jsonl.gz", whole[: len(whole) * 2 // 3])
    docs, reader = read_all(f, 64)
    assert 0 < len(clean(docs)) < 30
    assert reader.warnings and "truncated" in reader.warnings[0]


# ---------------------------------------------------------------- WARC


def test_warc_gz_records_offsets_payloads(tmp_path: Path) -> None:
    recs = sample_records()
    members = [gzip.compress(r) for r in recs]
    f = write(tmp_path, "crawl.warc.gz", b"".join(members))
    docs, reader = read_all(f)
    assert not quarantined(docs)
    offsets = [sum(len(m) for m in members[:i]) for i in range(len(members))]
    a, b, t = docs
    assert a.raw == PAGE  # de-chunked
    assert a.source.url == "http://example.com/a" and a.source.fetched == "2024-05-01T10:00:00Z"
    assert a.source.offset == offsets[2] and a.origin is not None and a.origin.offset == offsets[2]
    assert a.source.member == "<urn:uuid:00000000-0000-0000-0000-000000000003>"
    assert a.id == document_id(sha256_file(f.path), a.source.member, f.rel)
    assert a.source.media_type == "text/html" and a.source.charset == "utf-8"
    block = recs[2][recs[2].index(b"\r\n\r\n") + 4 : -4]
    assert a.origin.block == block and a.origin.block[a.origin.payload_offset :].startswith(b"28\r\n")
    assert a.origin.record_type == "response" and a.origin.header("warc-type") == "response"
    assert b.raw.decode() == "<html><body><p>Grüße aus Köln</p></body></html>"  # gzip content-encoding undone
    assert t.source.media_type == "text/plain" and t.origin is not None and t.origin.payload_offset == 0
    reasons = [r for _, r in reader.skipped]
    assert "warcinfo record" in reasons and "request record" in reasons and "metadata record" in reasons
    assert any(r.startswith("not a text payload (image/png)") for r in reasons)
    assert any("crawler metadata" in r for r in reasons)  # dns: record


def test_plain_warc_offsets_are_byte_offsets(tmp_path: Path) -> None:
    recs = sample_records()
    f = write(tmp_path, "crawl.warc", b"".join(recs))
    docs, _ = read_all(f)
    assert [d.source.offset for d in docs] == [len(b"".join(recs[:i])) for i in (2, 3, 5)]


def test_revisits_are_skipped_with_reason(tmp_path: Path) -> None:
    recs = sample_records()[2:3] + [
        record("revisit", http(b"")[:-0 or None], "r1", extra="WARC-Refers-To: <urn:uuid:00000000-0000-0000-0000-000000000003>\r\n"),
        record("revisit", b"", "r2", uri="http://other/"),
    ]
    docs, reader = read_all(write(tmp_path, "rv.warc", b"".join(recs)))
    assert len(docs) == 1
    reasons = [r for _, r in reader.skipped]
    assert reasons == ["revisit without payload (original <urn:uuid:00000000-0000-0000-0000-000000000003> is in this file)",
                       "revisit without payload (original not in this file)"]


def test_truncated_gzip_yields_readable_records_then_remainder(tmp_path: Path) -> None:
    members = [gzip.compress(r) for r in sample_records()[2:4]]
    words = " ".join(str(i * 7919 % 10007) for i in range(2000)).encode()  # compresses poorly
    members.append(gzip.compress(record("resource", words, "t", ctype="text/plain"))[:-300])
    f = write(tmp_path, "cut.warc.gz", b"".join(members))
    docs, _ = read_all(f)
    assert [d.outcome for d in docs] == [Outcome.CLEAN, Outcome.CLEAN, Outcome.QUARANTINED]
    bad = docs[-1]
    at = len(members[0]) + len(members[1])
    assert bad.problem is not None and bad.problem.startswith(f"read: cut.warc.gz: record at offset {at}: ")
    assert "truncated" in bad.problem and bad.source.offset == at and bad.raw.startswith(b"WARC/1.1")


def test_whole_file_gzip_is_read(tmp_path: Path) -> None:
    f = write(tmp_path, "whole.warc.gz", gzip.compress(b"".join(sample_records())))
    docs, reader = read_all(f)
    assert len(clean(docs)) == 3 and not quarantined(docs)
    assert all(d.source.offset == 0 for d in docs)
    assert any("whole-file gzip" in w for w in reader.warnings)


def test_bad_content_length_quarantines_record_and_resyncs(tmp_path: Path) -> None:
    recs = sample_records()
    bad = record("resource", b"short text", "bad", ctype="text/plain", length=40)
    f = write(tmp_path, "cl.warc", recs[2] + bad + recs[5])
    docs, _ = read_all(f)
    assert [d.outcome for d in docs] == [Outcome.CLEAN, Outcome.QUARANTINED, Outcome.CLEAN]
    q = docs[1]
    assert q.problem is not None and f"record at offset {len(recs[2])}: Content-Length 40 does not fit" in q.problem
    assert q.raw == bad  # the bytes up to the next record: nothing lost
    assert docs[2].raw == "Nur Text, äöü.".encode()


def test_short_block_at_end_is_truncated(tmp_path: Path) -> None:
    recs = sample_records()
    f = write(tmp_path, "t.warc", recs[2] + recs[5][:-10])
    docs, _ = read_all(f)
    assert docs[1].outcome is Outcome.QUARANTINED and "record is truncated (Content-Length" in (docs[1].problem or "")


def test_corrupt_gzip_member(tmp_path: Path) -> None:
    good = gzip.compress(sample_records()[2])
    broken = bytearray(gzip.compress(sample_records()[5]))
    broken[20:30] = b"\xff" * 10
    docs, _ = read_all(write(tmp_path, "c.warc.gz", good + bytes(broken)))
    assert docs[0].outcome is Outcome.CLEAN and docs[-1].outcome is Outcome.QUARANTINED
    assert f"offset {len(good)}" in (docs[-1].problem or "")


def test_duplicate_record_ids_get_distinct_documents(tmp_path: Path) -> None:
    r = sample_records()[5]
    docs, _ = read_all(write(tmp_path, "dup.warc", r + r))
    assert len(docs) == 2 and docs[0].id != docs[1].id and docs[1].source.member.endswith("#1")


def test_http_error_status_and_deflate(tmp_path: Path) -> None:
    deflated = zlib.compress(PAGE)
    recs = [record("response", http(b"<html>gone</html>", status="404 Not Found"), "e"),
            record("response", http(deflated, extra="Content-Encoding: deflate\r\n"), "d")]
    docs, reader = read_all(write(tmp_path, "s.warc", b"".join(recs)))
    assert [d.raw for d in docs] == [PAGE]
    assert ("s.warc@0 response", "HTTP status 404") in reader.skipped


def test_arc_file(tmp_path: Path) -> None:
    version = b"1 0 test\nURL IP-address Archive-date Content-type Archive-length\n"
    filedesc = b"filedesc://t.arc 0.0.0.0 20240501120000 text/plain %d\n%s\n" % (len(version), version)
    body = http(PAGE)
    rec = b"http://example.com/ 93.184.216.34 20240501120500 text/html %d\n%s\n" % (len(body), body)
    docs, reader = read_all(write(tmp_path, "old.arc.gz", gzip.compress(filedesc) + gzip.compress(rec)))
    assert len(docs) == 1 and docs[0].raw == PAGE and docs[0].source.url == "http://example.com/"
    assert docs[0].source.fetched == "2024-05-01T12:05:00Z" and docs[0].source.offset == len(gzip.compress(filedesc))
    assert reader.skipped[0][1] == "warcinfo record"


def test_read_function_matches_reader(tmp_path: Path) -> None:
    f = write(tmp_path, "a.txt", b"hello")
    assert [d.id for d in read(f, sha256_file(f.path), LIMIT)] == [document_id(sha256_file(f.path), None, f.rel)]


EVAL = Path(__file__).parents[2] / ".." / "shared" / "eval" / "warc"


@pytest.mark.skipif(not EVAL.exists(), reason="shared eval data not present")
def test_eval_warc_files() -> None:
    """ok/ and quirky/ read without quarantine; broken/ yield a reason naming file and offset."""
    for group in ("ok", "quirky", "broken"):
        for f in discover(EVAL / group):
            assert isinstance(f, InputFile)
            if not f.rel.endswith((".warc", ".warc.gz", ".wet", ".wet.gz", ".wat.gz")):
                continue
            docs, reader = read_all(f, 64_000_000)
            bad = quarantined(docs)
            if group != "broken":
                assert not bad, (f.rel, [d.problem for d in bad])
            for d in bad:
                assert d.problem is not None and d.problem.startswith(f"read: {f.rel}: record at offset ")
            if group == "broken":
                assert bad or reader.warnings or reader.skipped, f.rel


@pytest.mark.skipif(not EVAL.exists(), reason="shared eval data not present")
def test_eval_warc_files_read_a_record_at_a_time_give_what_they_give_in_memory() -> None:
    """Every real WARC and WACZ (damaged ones too) read from disk a record at a time, as a file
    over the size limit is: the same documents, members, offsets, origins and problems."""
    for group in ("ok", "quirky", "broken"):
        for f in discover(EVAL / group):
            assert isinstance(f, InputFile)
            if f.rel.endswith(".cdxj"):
                continue
            sha = sha256_file(f.path)
            whole = list(Reader(f, sha, 64_000_000))
            streamed = list(Reader(f, sha, 64_000_000)._over_limit())
            assert [(d.id, d.raw, d.source, d.outcome, d.problem, d.origin) for d in streamed] == [
                (d.id, d.raw, d.source, d.outcome, d.problem, d.origin) for d in whole], f.rel


def test_read_capped_reads_at_most_one_byte_over_the_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    f = tmp_path / "a.txt"
    for body, limit, want in ((b"", 5, b""), (b"abc", 5, b"abc"), (b"abcde", 5, b"abcde"),
                              (b"abcdef", 5, b"abcdef"), (b"abcdefgh", 5, b"abcdef")):
        f.write_bytes(body)
        assert read_capped(f, limit) == want
    f.write_bytes(b"0123456789")
    assert sha256_file(f) == hashlib.sha256(b"0123456789").hexdigest()
    # a file that grew after fstat: the rest is read, still capped at limit + 1
    real = os.fstat
    monkeypatch.setattr(os, "fstat", lambda fd: os.stat_result((*real(fd)[:6], 3, *real(fd)[7:])))
    assert read_capped(f, 100) == b"0123456789"
    assert read_capped(f, 6) == b"0123456"


def test_hashed_reads_a_file_once_for_its_identity_and_its_documents(tmp_path: Path) -> None:
    """`hashed` gives the file's SHA-256 and its bytes; the reader given them cuts the same
    documents it would read itself. Over the limit: the hash of the whole file, no bytes."""
    import hashlib

    from cleaner.sources import hashed

    f = write(tmp_path, "crawl.warc", b"".join(sample_records()))
    sha, data = hashed(f, LIMIT)
    assert sha == sha256_file(f.path) == hashlib.sha256(Path(f.path).read_bytes()).hexdigest()
    assert data == Path(f.path).read_bytes()
    given = list(Reader(f, sha, LIMIT, data))
    assert [(d.id, d.raw) for d in given] == [(d.id, d.raw) for d in read_all(f)[0]]
    big = write(tmp_path, "big.txt", b"x" * 2000)
    assert hashed(big, 1000) == (sha256_file(big.path), None)
    docs = list(Reader(big, sha256_file(big.path), 1000, None))
    assert docs[0].problem == "read: file is 2000 bytes, over the limit of 1000"


# ---------------------------------------------------------------- WACZ


def wacz(entries: list[tuple[str, bytes, int]]) -> bytes:
    """A ZIP of (name, bytes, compression) entries, as a WACZ packs a crawl."""
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data, how in entries:
            z.writestr(zipfile.ZipInfo(name, (2024, 5, 1, 12, 0, 0)), data, compress_type=how)
    return buf.getvalue()


def test_wacz_reads_the_warcs_under_archive_and_skips_the_rest(tmp_path: Path) -> None:
    import zipfile

    recs = sample_records()
    members = [gzip.compress(r) for r in recs]
    stored = b"".join(members)
    again = record("response", http(PAGE), "00000000-0000-0000-0000-000000000003", uri="http://example.com/c")
    data = wacz([
        ("datapackage.json", b'{"profile": "data-package"}', zipfile.ZIP_DEFLATED),
        ("archive/data.warc.gz", stored, zipfile.ZIP_STORED),
        ("archive/more.warc", again, zipfile.ZIP_DEFLATED),
        ("pages/pages.jsonl", b'{"url": "http://example.com/a"}\n', zipfile.ZIP_DEFLATED),
    ])
    f = write(tmp_path, "crawl.wacz", data)
    docs, reader = read_all(f)
    assert not quarantined(docs)
    assert [d.source.url for d in docs] == ["http://example.com/a", "http://example.com/b", "http://example.com/t.txt",
                                            "http://example.com/c"]
    assert all(d.source.path == "crawl.wacz" and d.source.sha256 == sha256_file(f.path) for d in docs)
    # the same record id in two entries: two documents, two members
    assert docs[0].source.member == "<urn:uuid:00000000-0000-0000-0000-000000000003>"
    assert docs[3].source.member == "<urn:uuid:00000000-0000-0000-0000-000000000003>#1"
    assert len({d.id for d in docs}) == 4
    # stored entry: offsets are byte offsets in the .wacz itself; compressed entry: none
    a = docs[0]
    assert a.source.offset == data.index(members[2]) and a.origin is not None and a.origin.offset == a.source.offset
    assert docs[3].source.offset is None and docs[3].origin is not None and docs[3].origin.offset is None
    assert docs[3].raw == PAGE
    skipped = dict(reader.skipped)
    assert skipped["crawl.wacz:datapackage.json"].startswith("WACZ entry that is not a WARC")
    assert "crawl.wacz:pages/pages.jsonl" in skipped
    assert any(where.startswith("crawl.wacz:archive/data.warc.gz@") for where in skipped)  # its request record


def test_wacz_damage_names_the_entry_and_bad_zips_are_quarantined(tmp_path: Path) -> None:
    import zipfile

    bad = record("response", http(PAGE), "bad", length=5)  # Content-Length does not fit
    data = wacz([("archive/a.warc", sample_records()[2] + bad, zipfile.ZIP_STORED)])
    docs, _ = read_all(write(tmp_path, "x.wacz", data))
    (q,) = quarantined(docs)
    assert q.problem is not None and q.problem.startswith("read: x.wacz:archive/a.warc: record at offset ")
    assert len(clean(docs)) == 1

    docs, _ = read_all(write(tmp_path, "big.wacz", wacz([("archive/big.warc", b"x" * 5000, zipfile.ZIP_DEFLATED)])), 4000)
    assert [d.problem for d in docs] == [
        "read: big.wacz:archive/big.warc: entry is 5000 bytes, over the limit of 4000 (and compressed in the ZIP)"]

    docs, _ = read_all(write(tmp_path, "none.wacz", wacz([("pages/pages.jsonl", b"{}\n", zipfile.ZIP_STORED)])))
    assert [d.problem for d in docs] == ["read: none.wacz: WACZ without WARC files under archive/"]

    docs, _ = read_all(write(tmp_path, "cut.wacz", data[: len(data) // 2]))
    (q,) = docs
    assert q.outcome is Outcome.QUARANTINED and q.problem is not None
    assert q.problem.startswith("read: cut.wacz: not a readable WACZ (ZIP)")


# ---------------------------------------------------------------- inputs over the size limit


def _same_documents(a: list[Document], b: list[Document]) -> None:
    assert [(d.id, d.raw, d.source, d.outcome, d.problem) for d in a] == [
        (d.id, d.raw, d.source, d.outcome, d.problem) for d in b]


@pytest.mark.parametrize("gz", [True, False])
def test_a_warc_over_the_limit_is_read_a_record_at_a_time(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                          gz: bool) -> None:
    """The size limit bounds a record, not a crawl's WARC file: one over it gives the documents
    it gives under a limit the whole file fits in (slices smaller than a record too)."""
    from cleaner.sources import warcframe

    monkeypatch.setattr(warcframe, "_SLICE", 97)  # records span many slices
    recs = sample_records() * 3
    data = b"".join(gzip.compress(r) for r in recs) if gz else b"".join(recs)
    f = write(tmp_path, "crawl.warc.gz" if gz else "crawl.warc", data)
    limit = max(len(r) for r in recs) + 10
    assert f.size > limit
    streamed, reader = read_all(f, limit)
    whole, _ = read_all(f, len(data) + 1)
    assert len(clean(streamed)) == 9 and not quarantined(streamed)
    _same_documents(streamed, whole)
    assert reader.skipped


def test_over_the_limit_a_record_is_what_the_limit_bounds(tmp_path: Path) -> None:
    big = record("resource", b"x" * 3000, "00000000-0000-0000-0000-0000000000bb", uri="http://example.com/big.txt",
                 ctype="text/plain")
    recs = sample_records()[2:4] + [big] + sample_records()[5:6]
    f = write(tmp_path, "crawl.warc", b"".join(recs))
    docs, _ = read_all(f, 2000)
    assert len(clean(docs)) == 3
    (q,) = quarantined(docs)
    assert q.problem is not None and "record of 3000 bytes is over the limit of 2000" in q.problem


def test_other_inputs_over_the_limit_are_quarantined_unread(tmp_path: Path) -> None:
    f = write(tmp_path, "page.html", b"<html><body>" + b"<p>x</p>" * 1000 + b"</body></html>")
    docs, _ = read_all(f, 1000)
    assert [d.problem for d in docs] == [f"read: file is {f.size} bytes, over the limit of 1000"]


def test_a_wacz_over_the_limit_reads_its_stored_warc_a_record_at_a_time(tmp_path: Path) -> None:
    import zipfile

    warc = b"".join(gzip.compress(r) for r in sample_records() * 2)
    data = wacz([("archive/data.warc.gz", warc, zipfile.ZIP_STORED),
                 ("datapackage.json", b"{}", zipfile.ZIP_DEFLATED)])
    f = write(tmp_path, "crawl.wacz", data)
    streamed, _ = read_all(f, 1000)
    whole, _ = read_all(f, len(data) + 1)
    assert len(clean(streamed)) == 6 and not quarantined(streamed)
    _same_documents(streamed, whole)
    assert streamed[0].source.offset == data.index(gzip.compress(sample_records()[2]))
