"""Outputs built in the workers (sinks/packed.py) are the outputs the parent used to build:
gzip members assembled from a deflated block, packed articles written after a pickle round trip,
index lines in two halves, ledger rows and the parent-side engine and ledger shortcuts."""

from __future__ import annotations

import dataclasses
import gzip
import json
import os
import pickle
import re
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

@pytest.mark.parametrize("level", [0, 1, 6, 9])
@pytest.mark.parametrize("size", [0, 1, 5000, 70_000, 200_000])
def test_member_is_one_gzip_member_of_head_and_block(level: int, size: int) -> None:
    block = os.urandom(size // 2) + b"ab" * (size // 4) + b"z" * (size - size // 2 - 2 * (size // 4))
    head = b"WARC/1.1\r\nWARC-Type: resource\r\nContent-Length: %d\r\n\r\n" % size
    blob = wr.member(head, wr.deflate_block(block, level), level)
    d = zlib.decompressobj(31)
    assert d.decompress(blob) == head + block + b"\r\n\r\n"
    assert d.eof and not d.unused_data  # exactly one member, CRC and length checked by zlib
    assert gzip.decompress(blob) == head + block + b"\r\n\r\n"
    assert blob[:10] == zlib.compressobj(level, zlib.DEFLATED, 31).flush()[:10]


def test_serialize_and_member_give_the_same_record() -> None:
    rec = wr.resource_record(text_doc(GERMAN.encode(), GERMAN), "<urn:uuid:1>", "file:///a.txt", "2024-01-01T00:00:00Z")
    pre, post = wr.header_parts(rec)
    parts = wr.member(pre + wr.warcinfo_line("<urn:uuid:2>") + post, wr.deflate_block(rec.block))
    assert gzip.decompress(parts) == gzip.decompress(wr.serialize(rec, "<urn:uuid:2>"))


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
        expected = json.loads(article_line(doc, line["added"], {"warc_record_id": p.article.text.rid}))
        assert line == expected
    assert removed_counts(_docs()[0]) == {"strip:newsletter": 2}  # whitespace and repair edits are not removals
    quarantined = _docs()[1].quarantine("decode", "bad")
    assert pack(quarantined, builder, spec) is None and quarantined.text  # left as it was


def test_corpus_write_line_is_write(tmp_path: Path) -> None:
    docs = _docs()
    a = CorpusWriter(tmp_path / "a", CorpusConfig(write_txt=True), "20250101000000")
    b = CorpusWriter(tmp_path / "b", CorpusConfig(write_txt=True), "20250101000000")
    for d in docs:
        a.write(d, {"warc_record_id": "<urn:uuid:1>"})
        b.write_line(article_line(d, "2025-01-01T00:00:00Z", {"warc_record_id": "<urn:uuid:1>"}), d.id, d.text)
    a.close()
    b.close()

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
    assert _ref_json(ref) == json.dumps(dataclasses.asdict(ref))
    assert RecordRef(**json.loads(_ref_json(ref) or "")) == ref


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
