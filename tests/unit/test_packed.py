"""Outputs built in the workers (sinks/packed.py) are the outputs the parent used to build:
gzip members assembled from a deflated block, packed articles written after a pickle round trip,
index lines in two halves, ledger rows and the parent-side engine and ledger shortcuts."""

from __future__ import annotations

import gzip
import json
import os
import pickle
import re
import uuid
import zlib
from pathlib import Path

import pytest
from archive_fixtures import CHINESE, GERMAN, response_origin, text_doc, warc_doc, writer

from cleaner.checkpoint import _document_row, _ref_json
from cleaner.config import ArchiveConfig, CorpusConfig
from cleaner.document import Edit
from cleaner.engines.local import _Pool
from cleaner.sinks import warc_records as wr
from cleaner.sinks.archive_check import _members
from cleaner.sinks.cdxj import cdx_timestamp, cdxj_finish, cdxj_head, surt
from cleaner.sinks.corpus import CorpusWriter, article_line, rule_counts
from cleaner.sinks.packed import Packed, PackSpec, pack, removed_counts
from cleaner.sinks.warc import RecordBuilder, RecordRef, fold_indexes
from cleaner.state.ledger import Ledger

WARCINFO_ID = "<urn:uuid:6f1c0b0e-2d3a-4c59-9d6a-1f0a2b3c4d5e>"


@pytest.mark.parametrize("level", [0, 1, 6, 9])
@pytest.mark.parametrize("size", [0, 1, 5000, 70_000, 200_000])
@pytest.mark.parametrize("nul", [False, True])
def test_member_is_one_gzip_member_of_lead_and_record(level: int, size: int, nul: bool) -> None:
    noise = os.urandom(size // 2)
    if not nul:  # text-like bytes: the record is deflated after the masked lead as dictionary
        noise = noise.replace(b"\x00", b"\x01")
    block = noise + b"ab" * (size // 4) + b"z" * (size - size // 2 - 2 * (size // 4))
    fields = b"WARC-Type: resource\r\nContent-Length: %d\r\n\r\n" % size
    body = wr.deflate_record(fields, block, level)
    assert body.lead == (0 if b"\x00" in block else wr.LEAD_LEN)
    lead = wr.RecordLead(WARCINFO_ID, level)
    blob = lead.member(body)
    expected = b"WARC/1.1\r\nWARC-Warcinfo-ID: " + WARCINFO_ID.encode() + b"\r\n" + fields + block + b"\r\n\r\n"
    d = zlib.decompressobj(31)
    assert d.decompress(blob) == expected
    assert d.eof and not d.unused_data  # exactly one member, CRC and length checked by zlib
    assert gzip.decompress(blob) == expected
    assert blob[:10] == zlib.compressobj(level, zlib.DEFLATED, 31).flush()[:10]


def test_matches_never_reach_into_the_masked_warcinfo_id() -> None:
    """A record that repeats lead text (and other ids) must decode to itself after any real id."""
    fields = b"WARC-Type: metadata\r\nWARC-Record-ID: <urn:uuid:00000000-0000-0000-0000-000000000001>\r\n\r\n"
    block = (b"WARC/1.1\r\nWARC-Warcinfo-ID: <urn:uuid:" + b"0" * 36 + b">\r\n") * 3 + b"x\x01\xff" * 50
    body = wr.deflate_record(fields, block)
    assert body.lead == wr.LEAD_LEN
    for wid in (f"<urn:uuid:{uuid.UUID(int=0)}>", WARCINFO_ID, f"<urn:uuid:{uuid.UUID(int=(1 << 128) - 1)}>"):
        lead = wr.RecordLead(wid)
        assert gzip.decompress(lead.member(body)) == lead.text + fields + block + b"\r\n\r\n"


def test_a_lead_of_another_length_is_refused() -> None:
    body = wr.deflate_record(b"WARC-Type: resource\r\nContent-Length: 1\r\n\r\n", b"a")
    with pytest.raises(ValueError, match="lead"):
        wr.RecordLead("<urn:uuid:1>").member(body)
    nul = wr.deflate_record(b"WARC-Type: resource\r\nContent-Length: 1\r\n\r\n", b"\x00")
    lead = wr.RecordLead("<urn:uuid:1>")  # a stream deflated without the dictionary goes after any lead
    fields = b"WARC-Type: resource\r\nContent-Length: 1\r\n\r\n"
    assert gzip.decompress(lead.member(nul)) == lead.text + fields + b"\x00\r\n\r\n"


@pytest.mark.parametrize("n", [0, 1, 3, 4, 100, 65_535, 65_536, 65_537, 300_000])
def test_crc_of_a_concatenation_from_the_parts(n: int) -> None:
    head, rest = os.urandom(77), os.urandom(n)
    assert wr.crc_shift(0) == 1 << 31  # the polynomial 1
    assert zlib.crc32(head + rest) == zlib.crc32(rest) ^ wr.crc_multiply(zlib.crc32(head), wr.crc_shift(n))


def test_serialize_and_member_give_the_same_record() -> None:
    rec = wr.resource_record(text_doc(GERMAN.encode(), GERMAN), "<urn:uuid:1>", "file:///a.txt", "2024-01-01T00:00:00Z")
    parts = wr.RecordLead(WARCINFO_ID).member(wr.deflate_record(wr.header_fields(rec), rec.block))
    whole = wr.record_bytes(rec, WARCINFO_ID)
    assert gzip.decompress(parts) == gzip.decompress(wr.serialize(rec, WARCINFO_ID)) == whole
    assert wr.record_bytes(rec, WARCINFO_ID).startswith(b"WARC/1.1\r\nWARC-Warcinfo-ID: " + WARCINFO_ID.encode())


@pytest.mark.parametrize("fields", [
    {"mime": "text/html; charset=utf-8", "status": "200", "digest": "sha1:ABC"},
    {"mime": None, "status": None, "digest": None},
    {"mime": "text/plain", "status": None, "digest": "sha1:X"},
])
def test_index_line_in_two_halves_is_the_whole_line(fields: dict[str, str | None]) -> None:
    url = "https://www.example.com/ä?b=2&a=1"
    # the whole line as cdxj-indexer writes it: one json.dumps of every field
    block = {"url": url, **{k: v for k, v in fields.items() if v is not None}}
    if block.get("mime"):
        block["mime"] = re.split(r"[;\s]", block["mime"], maxsplit=1)[0].strip()
    block |= {"length": "123", "offset": "4567", "filename": "CLEANER-x-ä.warc.gz"}
    whole = f"{surt(url)} {cdx_timestamp('2024-03-01T10:20:30.5Z')} {json.dumps(block)}"
    head = cdxj_head(url, "2024-03-01T10:20:30.5Z", **fields)
    assert cdxj_finish(head, length=123, offset=4567, filename="CLEANER-x-ä.warc.gz") == whole


def _docs() -> list:
    edits = [Edit("strip", "newsletter", "remove", 0, 5, "Kopf\n"), Edit("strip", "whitespace", "remove", 3, 4, " "),
             Edit("repair", "ftfy", "replace", 1, 2, "Ã", "é"), Edit("strip", "newsletter", "remove", 9, 10, "x")]
    de = text_doc(("Kopf\n" + GERMAN).encode(), GERMAN, path="a/000_de.txt", url="https://www.beispiel.de/x",
                  title="Über", fetched="2024-05-18T01:58:10+02:00", edits=edits)
    zh = text_doc(CHINESE.encode("gb18030"), CHINESE, path="b/001_zh.txt", language="zh-Hans", encoding="gb18030")
    resp = warc_doc(response_origin("http://example.com/p", b"<html><body><p>Body</p></body></html>"), "Body")
    return [de, zh, resp]


def _records(archive: Path) -> list[bytes]:
    """Every record of the archive, uncompressed, member by member (file order)."""
    out = []
    for f in sorted(archive.glob("*.warc.gz")):
        for m in _members(f):
            assert m.error is None
            out.append(m.data)
    return out


def test_packed_articles_write_what_write_article_writes(tmp_path: Path) -> None:
    """Built by another builder (a worker's; same clock and ids here), pickled, written: the same
    uncompressed bytes, index lines and pages as the parent building them itself."""
    direct = writer(tmp_path / "direct", pinned_ids=True)
    refs_direct = [direct.write_article(d) for d in _docs()]
    direct.close()
    packed_writer = writer(tmp_path / "packed", pinned_ids=True)
    builder = RecordBuilder(ArchiveConfig(rotate_bytes=1_000_000_000, operator="tests"), "run-1", "0" * 64,
                            clock=packed_writer.builder.clock, new_id=packed_writer.new_id)
    refs_packed = [packed_writer.write_packed(pickle.loads(pickle.dumps(builder.article(d)))) for d in _docs()]
    packed_writer.close()
    fold_indexes(tmp_path / "direct")
    fold_indexes(tmp_path / "packed")
    assert _records(tmp_path / "direct") == _records(tmp_path / "packed")
    assert len(_records(tmp_path / "packed")) == 2 + 3 * 3
    for name in ("index.cdxj", "text.cdxj"):
        def masked(p: Path) -> str:
            return re.sub(r'"(length|offset)": "\d+"', "", p.read_text(encoding="utf-8"))
        assert masked(tmp_path / "direct" / name) == masked(tmp_path / "packed" / name)
    assert (tmp_path / "direct" / "pages.jsonl").read_bytes() == (tmp_path / "packed" / "pages.jsonl").read_bytes()
    assert refs_direct == refs_packed


def test_pack_keeps_what_the_parent_needs_and_drops_text_and_edits(tmp_path: Path) -> None:
    spec = PackSpec(ArchiveConfig(), "run-1", "0" * 64, write_txt=True)
    builder = RecordBuilder(spec.archive, spec.run_id, spec.config_sha256)
    for doc in _docs():
        text, edits = doc.text, list(doc.edits)
        rules = rule_counts(doc)
        removed = removed_counts(doc)
        p = pack(doc, builder, spec)
        assert isinstance(p, Packed)
        assert (doc.text, doc.edits) == ("", [])
        assert p.chars == len(text) and p.text == text
        assert json.loads(p.edits_json) == rules and dict(p.removed) == removed
        line = json.loads(p.corpus_line)
        doc.text, doc.edits = text, edits
        expected = article_line(doc, line["added"], {"warc_record_id": p.article[1][0]})
        assert p.corpus_line == expected.encode("utf-8")  # byte for byte
    assert removed_counts(_docs()[0]) == {"strip:newsletter": 2}  # whitespace and repair edits are not removals
    quarantined = _docs()[1].quarantine("decode", "bad")
    assert pack(quarantined, builder, spec) is None and quarantined.text  # left as it was


def test_corpus_write_line_is_write(tmp_path: Path) -> None:
    docs = _docs()
    a = CorpusWriter(tmp_path / "a", CorpusConfig(write_txt=True), "20250101000000")
    b = CorpusWriter(tmp_path / "b", CorpusConfig(write_txt=True), "20250101000000")
    c = CorpusWriter(tmp_path / "c", CorpusConfig(write_txt=True), "20250101000000")
    for d in docs:
        a.write(d, {"warc_record_id": "<urn:uuid:1>"})
        line = article_line(d, "2025-01-01T00:00:00Z", {"warc_record_id": "<urn:uuid:1>"})
        b.write_line(line, d.id, d.text)
        c.write_line(line.encode("utf-8"), d.id, d.text)  # as the workers hand it over
    a.close()
    b.close()
    c.close()
    assert [p.read_bytes() for p in sorted((tmp_path / "b").glob("part-*.jsonl"))] == \
        [p.read_bytes() for p in sorted((tmp_path / "c").glob("part-*.jsonl"))]

    def lines(folder: Path) -> list[dict[str, object]]:
        rows = [json.loads(x) for p in sorted(folder.glob("part-*.jsonl")) for x in p.read_text("utf-8").splitlines()]
        return [{k: v for k, v in r.items() if k != "added"} for r in rows]

    assert lines(tmp_path / "a") == lines(tmp_path / "b") and len(lines(tmp_path / "a")) == 3
    assert sorted(p.read_text("utf-8") for p in (tmp_path / "a" / "txt").iterdir()) == \
        sorted(p.read_text("utf-8") for p in (tmp_path / "b" / "txt").iterdir())


def test_ledger_row_of_a_packed_document_equals_the_full_one() -> None:
    spec = PackSpec(ArchiveConfig(), "run-1", "0" * 64, write_txt=False)
    builder = RecordBuilder(spec.archive, spec.run_id, spec.config_sha256)
    ref = RecordRef("<urn:uuid:1>", "F.warc.gz", 10, 20, "2024-01-01T00:00:00Z", "https://ä.de/x", None)
    refs = type("Refs", (), {"raw": ref, "text": None, "metadata": ref})()
    for doc in _docs():
        full = _document_row(doc, "run-1", refs, "part-1.jsonl")
        p = pack(doc, builder, spec)
        assert _document_row(doc, "run-1", refs, "part-1.jsonl", p) == full
    assert _ref_json(ref) == json.dumps(ref._asdict())
    assert RecordRef(**json.loads(_ref_json(ref) or "")) == ref
    odd = RecordRef("<urn:uuid:x>", "f.warc.gz", 0, 1, "d", 'file:///a%20b/\u00fc"q\\.txt', None)  # escapes, null
    assert _ref_json(odd) == json.dumps(odd._asdict()) and _ref_json(None) is None


def test_ledger_bulk_rows_and_outcomes(tmp_path: Path) -> None:
    led = Ledger(tmp_path)
    rows = [{"doc_id": f"d{i}", "input_path": "p", "input_sha256": "s", "run_id": "r", "outcome": o}
            for i, o in enumerate(["clean", "duplicate", "quarantined"])]
    led.record_documents(rows)
    led.record_documents([{"doc_id": "d0", "input_path": "p", "input_sha256": "s", "run_id": "r", "outcome": "clean",
                           "title": "t"}, {"input_path": "q", "doc_id": "d9", "input_sha256": "s", "run_id": "r",
                                           "outcome": "clean"}])  # mixed key sets go one by one
    assert led.outcomes([f"d{i}" for i in range(1200)]) == {"d0": "clean", "d1": "duplicate", "d2": "quarantined",
                                                          "d9": "clean"}
    assert led.document("d0")["title"] == "t"  # type: ignore[index]
    led.close()


def _square(x: int) -> int:
    return x * x


def test_pool_recycles_workers_and_finishes_without_result_wakeups() -> None:
    """The worker-maintenance thread no longer wakes on results: exits and close still reach it."""
    import multiprocessing as mp

    pool = _Pool(2, maxtasksperchild=3, context=mp.get_context("fork"))
    try:
        assert list(pool.imap(_square, range(40), chunksize=1)) == [x * x for x in range(40)]
    finally:
        pool.close()
        pool.join()
    assert not pool._worker_handler.is_alive()  # type: ignore[attr-defined]


def test_a_near_duplicate_stores_the_raw_record_its_worker_built(tmp_path: Path) -> None:
    """The parent writes a near duplicate's raw record as the worker built it (for a clean
    outcome) instead of building and deflating it again: the same record bytes either way."""
    docs = _docs()
    uuid_re = re.compile(rb"<urn:uuid:[0-9a-f-]{36}>")
    out = []
    for name, reuse in (("rebuilt", False), ("reused", True)):
        w = writer(tmp_path / name, pinned_ids=True)
        original = w.write_article(docs[1]).raw
        builder = RecordBuilder(ArchiveConfig(rotate_bytes=1_000_000_000, operator="tests"), "run-1", "0" * 64,
                                clock=w.builder.clock, new_id=w.new_id)
        for doc in (docs[0], docs[2]):  # a plain text input, and a WARC record (rebuilt: notes)
            built = pickle.loads(pickle.dumps(builder.article(doc)))[0] if reuse else None
            doc.outcome, doc.duplicate_of, doc.similarity, doc.dedup_method = (
                type(doc.outcome).DUPLICATE, "x" * 32, 0.9, "near")
            w.write_duplicate(doc, original, built)
        w.close()
        raw_series = [m.data for f in (tmp_path / name).glob("CLEANER-2*.warc.gz") for m in _members(f)]
        out.append([uuid_re.sub(b"<id>", r) for r in raw_series])
        assert len(_records(tmp_path / name)) == 2 + 3 + 4  # warcinfos, the original, raw + metadata per duplicate
    assert len(out[0]) == 4 and out[1] == out[0]  # warcinfo, the original's raw, the duplicates' raw records


def test_edit_fields_of_random_edits_are_edit_json_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any list of edits (texts with quotes, controls, line separators, astral characters) gives
    the `edit_json` lines, also when the parts cache is cleared mid-list."""
    import random

    rnd = random.Random(3)
    alphabet = 'ab "\\\n\r\t\x00\x1féü權\u2028\u2029\x85😀'

    def text() -> str:
        return "".join(rnd.choice(alphabet) for _ in range(rnd.randint(0, 12)))

    monkeypatch.setattr(wr, "_EDIT_PARTS_MAX", 4)
    for _ in range(200):
        edits = [Edit(rnd.choice(["strip", "repair"]), rnd.choice(["a", "b", text()]), "remove",
                      rnd.randint(0, 10**6), rnd.randint(0, 10**6), text(), text(), rnd.choice(["", text()]))
                 for _ in range(rnd.randint(0, 12))]
        want = "".join(f"edit: {wr.edit_json(e)}\r\n" for e in edits).encode("utf-8")
        assert wr.edit_fields(edits) == want
    odd = [Edit("strip", "a", "remove", 1.0, 2, "x"), Edit("strip", "a", "remove", 1, 2, "x")]  # type: ignore[arg-type]
    assert wr.edit_fields(odd) == "".join(f"edit: {wr.edit_json(e)}\r\n" for e in odd).encode("utf-8")
    assert wr.edit_fields([]) == b""


def test_deflated_crc_is_zlibs() -> None:
    """The CRCs of a deflated record (ISA-L's crc32) are zlib's, and its stream inflates to the record."""
    fields = b"WARC-Type: resource\r\nContent-Length: 5\r\n\r\n"
    for block in (b"", b"hello", os.urandom(70_000), b"\x00" * 3):
        d = wr.deflate_record(fields, block)
        rest = fields + block + b"\r\n\r\n"
        assert d.crc == zlib.crc32(rest) and d.size == len(rest)
        assert d.shift == zlib.crc32(bytes(len(rest)), 0x7FFFFFFF) ^ 0xFFFFFFFF
        inflater = zlib.decompressobj(-15, zdict=wr._LEAD_TEMPLATE) if d.lead else zlib.decompressobj(-15)
        assert inflater.decompress(d.data) + inflater.flush() == rest
