"""SURT keys, IRI -> URI, and CDXJ indexes equal to what `cdxj-indexer --sort` writes."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest
from archive_fixtures import GERMAN, response_origin, text_doc, warc_doc, writer
from hypothesis import given, settings
from hypothesis import strategies as st

from cleaner.sinks import cdxj
from cleaner.sinks.cdxj import (
    cdx_timestamp, file_uri, fold_segments, index_files, segments, surt, to_uri, write_segment,
)
from cleaner.sinks.warc import fold_indexes

URLS = [
    "http://example.com/", "https://www.Example.com:443/a/b/../c/?b=2&a=1#frag", "http://www2.foo.org:8080/X%20Y/?",
    "file:///000_65eea8b01307b085.txt", "urn:cleaner:sha256:abcdef", "http://127.0.0.1/x", "http://3232235777/",
    "http://a.b/%E4%B8%AD%E6%96%87/", "https://xn--bcher-kva.de/%C3%BC?q=%C3%BC&A=b", "http://example.com/a//b///c",
    "http://EXAMPLE.com./a.aspx?jsessionid=0123456789abcdef0123456789abcdef&x=1", "http://user:pw@example.com/p",
    "https://example.com", "http://[::1]:8080/x", "dns:example.com", "http://example.com/?", "file:///dir/a%20b.txt#3",
]


@pytest.mark.skipif(importlib.util.find_spec("surt") is None, reason="surt package not installed")
@pytest.mark.parametrize("url", URLS)
def test_surt_matches_reference(url: str) -> None:
    import surt as reference

    assert surt(url) == reference.surt(url)


@pytest.mark.skipif(importlib.util.find_spec("surt") is None, reason="surt package not installed")
@settings(max_examples=200, deadline=None)
@given(host=st.from_regex(r"(www\.)?[a-z0-9]{1,8}(\.[a-z]{2,5}){1,2}", fullmatch=True),
       path=st.lists(st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=0x9fff,
                                                    blacklist_characters="/?#%"), max_size=6), max_size=4),
       query=st.dictionaries(st.from_regex(r"[A-Za-z]{1,4}", fullmatch=True),
                             st.from_regex(r"[A-Za-z0-9]{0,4}", fullmatch=True), max_size=3))
def test_surt_matches_reference_on_generated_urls(host: str, path: list[str], query: dict[str, str]) -> None:
    import surt as reference

    iri = f"https://{host}/" + "/".join(path) + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")
    uri = to_uri(iri)
    assert uri is not None and uri.isascii()
    assert surt(uri) == reference.surt(uri)


def test_to_uri() -> None:
    assert to_uri("http://bücher.de/über uns?q=ü#x") == "http://xn--bcher-kva.de/%C3%BCber%20uns?q=%C3%BC#x"
    assert to_uri("https://例子.中国/路径?a=中") == "https://xn--fsqu00a.xn--fiqs8s/%E8%B7%AF%E5%BE%84?a=%E4%B8%AD"
    assert to_uri("<http://x.org/a b>") == "http://x.org/a%20b"
    assert to_uri("http://x.org/100%") == "http://x.org/100%25"
    assert to_uri("https://de.wikipedia.org/wiki/Stra%C3%9Fe") == "https://de.wikipedia.org/wiki/Stra%C3%9Fe"
    assert to_uri("www.x.org") is None and to_uri("http:///nohost") is None
    assert file_uri("sub dir/ä.txt") == "file:///sub%20dir/%C3%A4.txt"


def test_timestamp_and_segments(tmp_path: Path) -> None:
    assert cdx_timestamp("2024-05-18T01:58:10.123456Z") == "20240518015810"
    index = tmp_path / "index.cdxj"
    first = write_segment(index, "20240518015810", ["b 2 {}", "a 1 {}"])
    second = write_segment(index, "20240518015810", ["ab 3 {}", "c 1 {}"])  # same second: its own name
    write_segment(tmp_path / "text.cdxj", "20240518015810", ["t 1 {}"])
    assert first and second and first != second and first.read_text() == "a 1 {}\nb 2 {}\n"
    assert not index.exists() and index_files(index) == [first, second]
    assert fold_segments(index) == 2
    assert index.read_text().splitlines() == ["a 1 {}", "ab 3 {}", "b 2 {}", "c 1 {}"]
    assert index_files(index) == [index] and segments(tmp_path / "text.cdxj")  # the other index is untouched
    # a fold cut short after its rename (segments still there): folding again writes each line once
    third = write_segment(index, "20240518015811", ["b 2 {}", "d 1 {}"])
    assert third and fold_segments(index) == 1
    assert index.read_text().splitlines() == ["a 1 {}", "ab 3 {}", "b 2 {}", "c 1 {}", "d 1 {}"]


def test_segments_fold_before_they_pile_up(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cdxj, "_MAX_SEGMENTS", 3)
    index = tmp_path / "index.cdxj"
    for i in range(7):
        write_segment(index, "20240518015810", [f"k{i} 1 {{}}"])
    assert len(segments(index)) == 1  # folded at 3 and 6
    fold_segments(index)
    assert index.read_text().splitlines() == [f"k{i} 1 {{}}" for i in range(7)]


@pytest.mark.skipif(importlib.util.find_spec("cdxj_indexer") is None, reason="cdxj-indexer not installed")
def test_indexes_equal_cdxj_indexer(tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    for run in range(2):  # two runs: the second merges into the first's index
        w = writer(archive, rotate_bytes=2500, run_id=f"r{run}")
        first = None
        for i in range(6):
            doc = text_doc(f"{run}-{i} {GERMAN}".encode(), GERMAN, path=f"{run}/{i}.txt",
                           url=f"https://www.example.org/Artikel/{i}?b=1&a=ü" if i % 2 else None)
            refs = w.write_article(doc)
            first = first or refs.raw
        origin = response_origin(f"http://example.com/r{run}", b"<html><p>body</p></html>")
        w.write_article(warc_doc(origin, "body"))
        dup = text_doc(f"{run}-0 {GERMAN}".encode(), GERMAN, path=f"{run}/dup.txt")
        w.write_duplicate(dup, first)  # type: ignore[arg-type]
        w.close()
    assert fold_indexes(archive) == 4  # what the end of a run does: one segment per index and checkpoint
    files = sorted(str(p) for p in archive.glob("*.warc.gz"))
    raw_files = [f for f in files if "-TEXT-" not in f]
    text_files = [f for f in files if "-TEXT-" in f]
    cmd = [sys.executable, "-c", "from cdxj_indexer.main import main; main()", "--sort"]
    ref_raw = subprocess.run(cmd + raw_files, capture_output=True, text=True, check=True).stdout
    ref_text = subprocess.run(cmd + ["--records", "conversion"] + text_files, capture_output=True, text=True,
                              check=True).stdout
    assert (archive / "index.cdxj").read_text() == ref_raw
    assert (archive / "text.cdxj").read_text() == ref_text
