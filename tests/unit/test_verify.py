"""verify_archive: an intact archive has no problems; each kind of damage is reported."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import pytest
from archive_fixtures import CHINESE, GERMAN, response_origin, text_doc, warc_doc, writer

from cleaner.sinks.archive_check import _members, verify_archive
from cleaner.sinks.warc import fold_indexes


@pytest.fixture
def archive(tmp_path: Path) -> Path:
    root = tmp_path / "archive"
    w = writer(root, rotate_bytes=2000)
    for i in range(4):
        w.write_article(text_doc(f"{i} {GERMAN}".encode(), GERMAN, path=f"{i}.txt", url=f"https://example.de/{i}"))
    w.write_article(text_doc(CHINESE.encode("gb18030"), CHINESE, path="zh.txt", language="zh", encoding="gb18030"))
    w.write_article(warc_doc(response_origin("http://example.com/x", b"<p>x</p>"), "x"))
    w.close()
    assert verify_archive(root) == []  # indexed by the checkpoint's segments
    fold_indexes(root)
    assert verify_archive(root) == []  # by index.cdxj / text.cdxj, as after a run
    return root


def _raw_file(root: Path) -> Path:
    return sorted(root.glob("CLEANER-2*.warc.gz"))[0]


def test_truncated_file(archive: Path) -> None:
    f = _raw_file(archive)
    f.write_bytes(f.read_bytes()[:-7])
    problems = verify_archive(archive)
    assert any("truncated" in p for p in problems), problems


def test_flipped_byte_in_compressed_data(archive: Path) -> None:
    f = _raw_file(archive)
    data = bytearray(f.read_bytes())
    members = list(_members(f))
    target = members[1]
    data[target.offset + target.length // 2] ^= 0x55
    f.write_bytes(bytes(data))
    assert verify_archive(archive)


def test_flipped_byte_in_block_recompressed(archive: Path) -> None:
    """Damage that gzip cannot see (valid member, wrong content) is caught by the digests."""
    f = _raw_file(archive)
    members = list(_members(f))
    out = b""
    for n, m in enumerate(members):
        data = m.data
        if n == 1:
            data = data.replace(b"Demonstranten", b"Demonstrantin", 1)
        out += gzip.compress(data) if n == 1 else f.read_bytes()[m.offset : m.offset + m.length]
    f.write_bytes(out)
    problems = verify_archive(archive)
    assert any("block digest" in p for p in problems), problems
    assert any("SHA256SUMS" in p for p in problems), problems


def test_duplicate_record_id(archive: Path) -> None:
    f = _raw_file(archive)
    copy = f.with_name(f.name.replace("-00000-", "-00099-"))
    shutil.copy(f, copy)
    problems = verify_archive(archive)
    assert any("also used at" in p for p in problems), problems


def test_stale_index_line(archive: Path) -> None:
    index = archive / "index.cdxj"
    lines = index.read_text().splitlines()
    lines[0] = lines[0].replace('"offset": "', '"offset": "1', 1)
    index.write_text("\n".join(sorted(lines)) + "\n")
    problems = verify_archive(archive)
    assert any("stale" in p or "missing from index.cdxj" in p for p in problems), problems


def test_missing_file_breaks_references(archive: Path) -> None:
    _raw_file(archive).unlink()
    problems = verify_archive(archive)
    assert any("WARC-Refers-To" in p for p in problems), problems
    assert any("listed but missing" in p for p in problems), problems


def test_open_file_is_reported(archive: Path) -> None:
    (archive / "CLEANER-20990101000000-00042-x.warc.gz.open").write_bytes(b"")
    assert any("unfinished" in p for p in verify_archive(archive))
