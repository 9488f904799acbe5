"""The sinks' hot-path encoders give the bytes of the plain ways they replace: JSON of texts and
edit lines, base32 digests, W3C dates, record ids, shard and pages lines, pickled records."""

from __future__ import annotations

import base64
import hashlib
import json
import pickle
import random
import re
import uuid
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from archive_fixtures import GERMAN, text_doc, writer

from cleaner.document import Document, Edit, Source
from cleaner.sinks import warc_records as wr
from cleaner.sinks.cdxj import page_line
from cleaner.sinks.corpus import added_now, article_line, article_line_bytes, json_text, rule_counts
from cleaner.sinks.packed import edit_counts, removed_counts
from cleaner.sinks.warc import _new_record_id

TEXTS = [
    "", "plain ascii", "Zeile\n\nnoch eine „Zitat“ \"quoted\" back\\slash", "北京时间今天上午\n",
    "tab\there", "cr\r\nlf", "\x00\x01\x1f\x7f", "\u2028\u2029\x85 line separators stay as they are",
    "emoji \U0001f600 and combining e\u0301", '\\"\\\\n', "\n" * 5,
]


@pytest.mark.parametrize("text", TEXTS)
def test_json_text_is_json_dumps(text: str) -> None:
    assert json_text(text, text.encode("utf-8")) == json.dumps(text, ensure_ascii=False).encode("utf-8")


def test_json_text_random_strings() -> None:
    rnd = random.Random(7)
    alphabet = "ab \n\t\"\\\x00\x1f\x7fé中\u2028\U0001f600"
    for _ in range(2000):
        text = "".join(rnd.choice(alphabet) for _ in range(rnd.randrange(0, 40)))
        assert json_text(text, text.encode("utf-8")) == json.dumps(text, ensure_ascii=False).encode("utf-8")


def _doc(text: str, **kw: object) -> Document:
    src = Source(path="sub/a.txt", sha256="ab" * 32, **kw)  # type: ignore[arg-type]
    d = Document(id="0123abcd", source=src, raw=b"x", text=text)
    d.language, d.title, d.encoding = "de", "Über \"Titel\"", "utf-8"
    d.edits = [Edit("strip", "de:newsletter", "remove", 0, 3, "abc"),
               Edit("repair", "ftfy", "replace", 1, 2, "Ã", "é")]
    return d


@pytest.mark.parametrize("text", TEXTS)
@pytest.mark.parametrize("kw", [{}, {"member": "m/1", "fetched": "2024-01-01T00:00:00Z", "url": "https://ä.de/x"}])
def test_article_line_bytes_is_article_line(text: str, kw: dict[str, str]) -> None:
    doc = _doc(text, **kw)
    extra = {"warc_record_id": "<urn:uuid:1>"}
    want = article_line(doc, "2025-01-01T00:00:00Z", extra).encode("utf-8")
    got = article_line_bytes(doc, "2025-01-01T00:00:00Z", extra, rule_counts(doc), json_text(text, text.encode()))
    assert got == want


def test_edit_counts_are_rule_and_removed_counts() -> None:
    doc = _doc("x")
    doc.edits += [Edit("strip", "whitespace", "remove", 0, 1, " "), Edit("extract", "nav", "remove", 0, 1, "a"),
                  Edit("strip", "de:newsletter", "remove", 4, 5, "b")]
    assert edit_counts(doc) == (rule_counts(doc), removed_counts(doc))
    assert list(edit_counts(doc)[0]) == list(rule_counts(doc))  # same first-use order


def test_added_now_format() -> None:
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", added_now())


def test_sha1_b32_is_base64_b32encode() -> None:
    for n in range(300):
        data = hashlib.sha256(str(n).encode()).digest() * (n % 7)
        want = "sha1:" + base64.b32encode(hashlib.sha1(data).digest()).decode("ascii")
        assert wr.sha1_b32(data) == want


def _w3c_reference(moment: datetime, micros: bool = True) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    moment = moment.astimezone(UTC)
    base = moment.strftime("%Y-%m-%dT%H:%M:%S")
    return f"{base}.{moment.microsecond:06d}Z" if micros and moment.microsecond else base + "Z"


def test_w3c_date_is_the_strftime_form() -> None:
    rnd = random.Random(3)
    zones = [None, UTC, timezone(timedelta(hours=5, minutes=30)), timezone(timedelta(hours=-11))]
    moments = [datetime(1, 1, 2, 0, 0, 0), datetime(999, 12, 31, 23, 59, 59, 1), datetime(1000, 1, 1),
               datetime(2024, 2, 29, 12, 0, 0, 999999), datetime(9999, 12, 30, 1, 2, 3)]
    moments += [datetime(1, 1, 2) + timedelta(seconds=rnd.randrange(315_537_000_000), microseconds=rnd.randrange(2) *
                                              rnd.randrange(1_000_000)) for _ in range(3000)]
    for m in moments:
        for tz in zones:
            moment = m if tz is None else m.replace(tzinfo=tz)
            for micros in (True, False):
                assert wr.w3c_date(moment, micros) == _w3c_reference(moment, micros), (moment, micros)


EDITS = [
    Edit("strip", "template", "remove", 0, 12, "Line\n\"quoted\"\t", "", ""),
    Edit("repair", "ftfy", "replace", 3, 9, "Ã©\u2028x\u2029\x85", "é", "encode sloppy-windows-1252, decode utf-8"),
    Edit("convert", "opencc:tw2s", "replace", 100, 102, "權重\x00\x1f", "权重", "note \u2028"),
    Edit("strip", "template", "remove", 5, 9, "again", "", ""),
]


class _Str(str):
    pass


@pytest.mark.parametrize("odd", [
    None,
    Edit("strip", "x", "remove", True, 2, "a"),  # a bool offset: the encoder writes true
    Edit("strip", "x", "remove", 1, 2, "a", "", None),  # type: ignore[arg-type]  # null note
    Edit(_Str("strip"), "x", "remove", 1, 2, _Str("a\n")),  # str subclasses
])
def test_edit_fields_are_the_edit_json_lines(odd: Edit | None) -> None:
    edits = EDITS + ([odd] if odd is not None else [])
    want = "".join(f"edit: {wr.edit_json(e)}\r\n" for e in edits).encode("utf-8")
    assert wr.edit_fields(edits) == want
    assert wr.edit_fields(edits) == want  # served from the parts cache the second time


def test_edit_parts_cache_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(wr, "_EDIT_PARTS_MAX", 3)
    edits = [Edit("strip", f"rule{i}", "remove", i, i + 1, "x", "", f"note {i}") for i in range(10)]
    assert wr.edit_fields(edits) == "".join(f"edit: {wr.edit_json(e)}\r\n" for e in edits).encode()
    assert len(wr._EDIT_PARTS) <= 3


def test_record_ids_are_uuid4_urns() -> None:
    ids = {_new_record_id() for _ in range(2000)}
    assert len(ids) == 2000
    for rid in ids:
        assert rid.startswith("<urn:uuid:") and rid.endswith(">") and len(rid) == 47
        u = uuid.UUID(rid[10:-1])
        assert u.version == 4 and u.variant == uuid.RFC_4122 and str(u) == rid[10:-1]


def test_page_line_of_an_article_is_page_line(tmp_path: Path) -> None:
    doc = text_doc(GERMAN.encode(), GERMAN + "\"x\"\\\t", title="Ti\"tle")
    w = writer(tmp_path / "a")
    raw, text, meta, page = w.builder.article(doc)
    assert page == page_line(doc.id, raw[2], raw[1], doc.title, doc.text).encode("utf-8") + b"\n"
    w.close()


def test_packed_article_pickles_as_plain_tuples(tmp_path: Path) -> None:
    """Records cross from the workers as plain tuples (no class to call when unpickled)."""
    w = writer(tmp_path / "a")
    article = w.builder.article(text_doc(GERMAN.encode(), GERMAN))
    blob = pickle.dumps(article, protocol=pickle.HIGHEST_PROTOCOL)
    assert b"cleaner" not in blob  # no reference to any class of ours
    assert pickle.loads(blob) == article
    w.close()
