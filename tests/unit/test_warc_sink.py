"""The archive writer: a valid WARC/1.1 set (shared validator, warcio, FastWARC), lossless raw
records over several runs with rotation, and byte-level golden files with pinned ids and dates."""

from __future__ import annotations

import gzip
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from archive_fixtures import (
    CHINESE,
    GERMAN,
    VALIDATOR,
    duplicate_of,
    response_origin,
    text_doc,
    validate,
    warc_doc,
    writer,
)
from warcio.archiveiterator import ArchiveIterator

from cleaner.document import Edit, Outcome
from cleaner.sinks import warc_records
from cleaner.sinks.archive_check import _members, find_records, get_raw, get_text, verify_archive
from cleaner.sinks.warc import cleanup_stale, fold_indexes

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "warc"
REGEN = os.environ.get("CLEANER_REGEN_GOLDEN") == "1"


def write_mixed_run(archive: Path, rotate_bytes: int = 1_000_000_000, pinned_ids: bool = False) -> dict[str, object]:
    """One run with every record kind: text/html resources, a copied response, an exact and a
    near duplicate (revisit / raw only), quarantined inputs with and without bytes."""
    w = writer(archive, rotate_bytes, pinned_ids)
    de = text_doc(("Kopf\n" + GERMAN + "Newsletter abonnieren!\n").encode(), GERMAN, path="000_de.txt",
                  url="https://www.beispiel.de/artikel/über-uns?seite=1&a=ä", title="Über uns",
                  fetched="2024-05-18T01:58:10+02:00",
                  edits=[Edit("strip", "newsletter", "remove", 0, 5, "Kopf\n"),
                         Edit("strip", "newsletter", "remove", len(GERMAN), len(GERMAN) + 23,
                              "Newsletter abonnieren!\n", note="line\u2028sep")])
    zh_html = f"<html><head><meta charset='gb18030'><title>统计</title></head><body><p>{CHINESE}</p></body></html>"
    zh = text_doc(zh_html.encode("gb18030"), CHINESE, path="sub dir/001_zh.html", url="https://例子.中国/新闻/1",
                  language="zh-Hans", encoding="gb18030", title="统计")
    plain = text_doc(b"Just a text file without any URL.\n", "Just a text file without any URL.",
                     path="002_plain.txt", language="en")
    origin = response_origin("http://example.com/page?id=7", b"<html><body><p>Example body</p></body></html>")
    resp = warc_doc(origin, "Example body")
    refs = {"de": w.write_article(de), "zh": w.write_article(zh), "plain": w.write_article(plain),
            "resp": w.write_article(resp)}
    exact = duplicate_of(text_doc(de.raw, GERMAN, path="003_copy.txt", url="https://mirror.example.org/copy"),
                         de, path="003_copy.txt")
    refs["exact"] = w.write_duplicate(exact, refs["de"].raw)  # type: ignore[union-attr]
    near = duplicate_of(text_doc(de.raw + b"x", GERMAN, path="004_near.txt"), de, path="004_near.txt",
                        similarity=0.91, method="minhash")
    refs["near"] = w.write_duplicate(near, refs["de"].raw)  # type: ignore[union-attr]
    resp_dup = duplicate_of(warc_doc(response_origin("http://example.com/other", origin.block[origin.payload_offset:],
                                                     date="2024-03-02T00:00:00Z"), "Example body"),
                            resp, path="crawl.warc.gz")
    refs["resp_dup"] = w.write_duplicate(resp_dup, refs["resp"].raw)  # type: ignore[union-attr]
    bad = text_doc(b"\x00\x01\x02binary\xff", "", path="005_bin.txt").quarantine("decode", "binary content (NUL bytes)")
    refs["bad"] = w.write_quarantined(bad)
    empty = text_doc(b"", "", path="006_empty.txt").quarantine("decode", "empty input")
    refs["empty"] = w.write_quarantined(empty)
    files = w.close()
    fold_indexes(archive)  # what the end of a run does
    return {"refs": refs, "files": files, "docs": {"de": de, "zh": zh, "plain": plain, "resp": resp,
                                                   "exact": exact, "near": near, "resp_dup": resp_dup, "bad": bad}}


@pytest.fixture
def mixed(tmp_path: Path) -> tuple[Path, dict[str, object]]:
    archive = tmp_path / "archive"
    return archive, write_mixed_run(archive, rotate_bytes=1500)


@pytest.mark.skipif(not VALIDATOR.exists(), reason="shared validator not available")
def test_shared_validator_accepts_every_record_kind(mixed: tuple[Path, dict[str, object]]) -> None:
    archive, _ = mixed
    code, out = validate(archive)
    assert code == 0, out
    assert re.search(r"errors=0 ", out), out


def test_warcio_and_fastwarc_check_pass(mixed: tuple[Path, dict[str, object]]) -> None:
    archive, run = mixed
    files = run["files"]
    assert isinstance(files, list) and len(files) > 2  # rotation made several files per series
    for f in files:
        proc = subprocess.run([sys.executable, "-c", "import sys; from warcio.cli import main; main(sys.argv[1:])",
                               "check", "-v", str(f)], capture_output=True, text=True)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        fast = subprocess.run([sys.executable, "-c", "from fastwarc.cli import main; main()", "check", str(f)],
                              capture_output=True, text=True)
        assert fast.returncode == 0, fast.stdout + fast.stderr
    assert verify_archive(archive) == []


def test_record_layout(mixed: tuple[Path, dict[str, object]]) -> None:
    archive, run = mixed
    refs = run["refs"]
    de = refs["de"]  # type: ignore[index]
    recs = {r.ref.record_id: r for r in find_records(archive, "https://www.beispiel.de/artikel/über-uns?seite=1&a=ä")}
    raw, conv = recs[de.raw.record_id], recs[de.text.record_id]
    assert raw.record_type == "resource" and conv.record_type == "conversion"
    assert raw.ref.target_uri == "https://www.beispiel.de/artikel/%C3%BCber-uns?seite=1&a=%C3%A4"
    assert raw.ref.date == "2024-05-17T23:58:10Z"  # capture date, converted to UTC, to the second
    assert conv.ref.date == raw.ref.date and conv.header("WARC-Refers-To") == raw.ref.record_id
    assert conv.header("WARC-Identified-Content-Language") == "deu"
    assert raw.header("Content-Type") == "text/plain; charset=utf-8"
    zh = find_records(archive, "https://例子.中国/新闻/1")
    zh_raw = next(r for r in zh if r.record_type == "resource")
    assert zh_raw.header("Content-Type") == "text/html; charset=gb18030"
    assert zh_raw.header("WARC-Identified-Payload-Type") == "text/html"
    assert next(r for r in zh if r.record_type == "conversion").header("WARC-Identified-Content-Language") == "zho"
    assert get_text(archive, "https://例子.中国/新闻/1") == CHINESE
    plain = refs["plain"].raw  # type: ignore[index]
    assert plain.target_uri == "file:///002_plain.txt"
    # every record of every file names its own warcinfo; metadata carries no payload digest
    for f in run["files"]:  # type: ignore[union-attr]
        with open(f, "rb") as fh:
            it = list(ArchiveIterator(fh))
        assert it[0].rec_type == "warcinfo"
    metas = [r for r in find_records(archive, de.raw.target_uri, scan_all=True) if r.record_type == "metadata"]
    assert len(metas) == 1 and metas[0].header("WARC-Payload-Digest") is None
    fields = (metas[0].block or b"").decode()
    assert "outcome: clean\r\n" in fields and "edits-count: 2\r\n" in fields
    assert fields.count("\r\nedit: {") == 2 and "\\u2028" in fields  # one line per edit, line breaks escaped


def test_copied_response_is_byte_identical(mixed: tuple[Path, dict[str, object]]) -> None:
    archive, run = mixed
    resp = run["docs"]["resp"]  # type: ignore[index]
    ref = run["refs"]["resp"].raw  # type: ignore[index]
    rec = find_records(archive, ref.record_id)[0]
    assert rec.record_type == "response" and rec.block == resp.origin.block
    assert rec.ref.record_id != resp.origin.record_id
    assert rec.header("WARC-Concurrent-To") is None and rec.header("WARC-IP-Address") == "93.184.216.34"
    assert rec.header("WARC-Payload-Digest") == resp.origin.header("WARC-Payload-Digest")
    assert rec.header("WARC-Block-Digest") == resp.origin.header("WARC-Block-Digest")
    assert rec.ref.date == "2024-03-01T10:20:30Z"
    assert get_raw(archive, ref.record_id) == resp.origin.block


def test_duplicates_and_quarantine(mixed: tuple[Path, dict[str, object]]) -> None:
    archive, run = mixed
    refs, docs = run["refs"], run["docs"]
    exact = refs["exact"]  # type: ignore[index]
    rev = find_records(archive, exact.raw.record_id)[0]
    assert rev.record_type == "revisit" and exact.text is None and rev.block == b""
    assert rev.header("WARC-Refers-To") == refs["de"].raw.record_id  # type: ignore[index]
    assert rev.header("WARC-Refers-To-Date") == refs["de"].raw.date  # type: ignore[index]
    assert get_raw(archive, exact.raw.record_id) == docs["exact"].raw  # type: ignore[index]
    near = find_records(archive, refs["near"].raw.record_id)[0]  # type: ignore[index]
    assert near.record_type == "resource" and refs["near"].text is None  # type: ignore[index]
    # an HTTP revisit keeps its own response head: head + original payload = the input block
    resp_dup = refs["resp_dup"]  # type: ignore[index]
    assert find_records(archive, resp_dup.raw.record_id)[0].record_type == "revisit"
    assert get_raw(archive, resp_dup.raw.record_id) == docs["resp_dup"].origin.block  # type: ignore[index]
    bad = refs["bad"]  # type: ignore[index]
    assert get_raw(archive, bad.raw.record_id) == docs["bad"].raw  # type: ignore[index]
    assert refs["empty"].raw is None  # type: ignore[index]
    meta = find_records(archive, bad.metadata.record_id)[0]
    assert b"outcome: quarantined\r\nproblem: decode: binary content (NUL bytes)\r\n" in (meta.block or b"")


def test_many_docs_over_several_runs_read_back_byte_identical(tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    written: dict[str, bytes] = {}
    for run in range(3):
        w = writer(archive, rotate_bytes=3000, run_id=f"run-{run}")
        for i in range(25):
            body = (f"Artikel {run}-{i}: " + GERMAN * (1 + i % 4) + "中文" * i).encode("utf-8")
            if i % 5 == 0:
                origin = response_origin(f"https://example.org/r{run}/{i}", body)
                refs = w.write_article(warc_doc(origin, GERMAN))
                written[refs.raw.record_id] = origin.block  # type: ignore[union-attr]
            else:
                refs = w.write_article(text_doc(body, GERMAN, path=f"r{run}/{i}.txt"))
                written[refs.raw.record_id] = body  # type: ignore[union-attr]
        w.close()
    names = sorted(p.name for p in archive.glob("*.warc.gz"))
    serials = [int(n.split("-")[-2]) for n in names if "-TEXT-" not in n]
    assert serials == list(range(len(serials))) and len(serials) >= 6  # serials continue across runs
    assert verify_archive(archive) == []
    for rid, data in written.items():
        assert get_raw(archive, rid) == data
    seen = {}
    for f in archive.glob("CLEANER-2*.warc.gz"):
        with open(f, "rb") as fh:
            for rec in ArchiveIterator(fh, no_record_parse=True):
                if rec.rec_type in ("resource", "response"):
                    seen[rec.rec_headers.get_header("WARC-Record-ID")] = rec.raw_stream.read()
    assert seen == written
    pages = (archive / "pages.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(pages) == 1 + 75 and '"json-pages-1.0"' in pages[0]
    if VALIDATOR.exists():
        code, out = validate(archive)
        assert code == 0, out


def test_abort_and_cleanup_stale_leave_no_open_files(tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    w = writer(archive)
    w.write_article(text_doc(b"hello\n", "hello", path="a.txt"))
    assert list(archive.glob("*.open"))
    w.abort()
    assert not list(archive.iterdir())
    w2 = writer(archive)
    w2.write_article(text_doc(b"hello\n", "hello", path="a.txt"))
    w2.raw.fh.flush()  # type: ignore[union-attr]  # a crash here leaves .open files behind
    removed = cleanup_stale(archive)
    assert removed and all(p.name.endswith(".open") for p in removed)
    assert not list(archive.glob("*.open"))


def test_language_codes() -> None:
    assert warc_records.iso639_3("zh-Hans") == "zho"
    assert warc_records.iso639_3("de-CH") == "deu"
    assert warc_records.iso639_3("yue") == "yue"
    assert warc_records.iso639_3("und") is None


# ----------------------------------------------------------------------------- golden


def _uncompressed(path: Path) -> bytes:
    with gzip.open(path, "rb") as fh:
        return fh.read()


def test_golden_bytes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Write with pinned ids/dates; compare the uncompressed WARC bytes and the indexes
    (offsets masked: they depend on the zlib build). CLEANER_REGEN_GOLDEN=1 rewrites them."""
    monkeypatch.setattr(warc_records, "software_versions", lambda: "cleaner/0.0.0 (pinned)")
    monkeypatch.setattr(warc_records, "cleaner_version", lambda: "0.0.0")
    archive = tmp_path / "archive"
    run = write_mixed_run(archive, rotate_bytes=1_000_000_000, pinned_ids=True)
    outputs = {p.name.replace(".warc.gz", ".warc"): _uncompressed(p) for p in run["files"]}  # type: ignore[union-attr]
    for name in ("index.cdxj", "text.cdxj"):
        text = (archive / name).read_text(encoding="utf-8")
        outputs[name] = re.sub(r'"(length|offset)": "\d+"', r'"\1": "N"', text).encode()
    outputs["pages.jsonl"] = (archive / "pages.jsonl").read_bytes()
    if REGEN:
        GOLDEN.mkdir(parents=True, exist_ok=True)
        for old in GOLDEN.iterdir():
            old.unlink()
        for name, data in outputs.items():
            (GOLDEN / name).write_bytes(data)
    expected = {p.name: p.read_bytes() for p in GOLDEN.iterdir()}
    assert sorted(outputs) == sorted(expected)
    for name, data in outputs.items():
        assert data == expected[name], f"{name} differs from tests/golden/warc (CLEANER_REGEN_GOLDEN=1 to update)"
    # one gzip member per record
    for f in run["files"]:  # type: ignore[union-attr]
        members = list(_members(f))
        assert all(m.error is None and m.data.startswith(b"WARC/1.1\r\n") for m in members)
        assert len(members) == _uncompressed(f).count(b"WARC/1.1\r\n")
    assert Outcome.DUPLICATE.value in outputs["CLEANER-TEXT-20250102030405-00000-testhost.warc"].decode()


@pytest.mark.parametrize(
    "edit",
    [
        ("strip", "template", "remove", 0, 12, "Line\n\"quoted\"\t", "", ""),
        ("repair", "ftfy", "replace", 3, 9, "Ã©\u2028x\u2029\x85", "é", "encode sloppy-windows-1252, decode utf-8"),
        ("convert", "opencc:tw2s", "replace", 100, 102, "權重\x00\x1f", "权重", "script 2:0 \ud800 \U0001f600"),
    ],
)
def test_edit_json_is_the_encoder_output(edit: tuple) -> None:  # type: ignore[type-arg]
    import json

    from cleaner.document import Edit
    from cleaner.sinks import warc_records as wr

    e = Edit(*edit)
    fields = {"stage": e.stage, "rule": e.rule, "action": e.action, "start": e.start, "end": e.end,
              "before": e.before, "after": e.after, "note": e.note}
    want = json.dumps(fields, ensure_ascii=False, separators=(",", ":"))
    want = want.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029").replace("\x85", "\\u0085")
    assert wr.edit_json(e) == want
    assert json.loads(wr.edit_json(e)) == fields
    if not any("\ud800" <= c <= "\udfff" for c in want):  # a lone surrogate has no UTF-8
        line = wr.edit_fields([e])
        assert line == f"edit: {want}\r\n".encode() and b"\n" not in line[:-1]
