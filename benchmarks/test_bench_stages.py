"""One pytest-benchmark per pipeline stage, on fixed inputs, as the pipeline calls it.

    pytest benchmarks/test_bench_stages.py --benchmark-only --benchmark-columns=mean,median,ops

Inputs: a German and a (traditional, GBK-damaged) Chinese sample from raw/, the German one
as mojibake (UTF-8 read as Windows-1252), and a small news page written for this benchmark
(header, navigation, article, related links, footer). Every round gets a fresh Document
carried through the earlier stages in `setup` (not timed), so a stage never sees its own
output. `extra_info["bytes"]` holds the input size (MB/s = bytes / mean). The sinks write
one article per round into a temp folder and are closed outside the timed part.
"""

from __future__ import annotations

import dataclasses
import random
import sqlite3
import sys
from collections.abc import Callable, Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

import pytest

from cleaner.config import Config
from cleaner.document import Document, Source, document_id
from cleaner.pipeline import PREPARE, _run_stages, site_of
from cleaner.sinks.corpus import CorpusWriter
from cleaner.sinks.packed import PackSpec, pack
from cleaner.sinks.warc import ArchiveWriter, RecordBuilder
from cleaner.stages import convert, decode, dedup, extract, repair, strip
from cleaner.state.dedup_index import DedupIndex

sys.path.insert(0, str(Path(__file__).resolve().parent))
from corpus_text import paragraph  # noqa: E402
from make_corpus import mojibake  # noqa: E402

RAW = Path(__file__).resolve().parent.parent / "raw"
CFG = Config()
ROUNDS = 30

PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Harbour board approves night ferry | Coastal Times</title>
<meta property="og:url" content="https://coastal-times.example/2024/05/harbour-night-ferry">
<script>window.ads = window.ads || []; ads.push({slot: "top"});</script>
<style>.nav li{display:inline}</style></head>
<body><header><a class="logo" href="/">Coastal Times</a>
<nav><ul><li><a href="/news">News</a></li><li><a href="/sport">Sport</a></li><li><a href="/weather">Weather</a>
</li><li><a href="/opinion">Opinion</a></li><li><a href="/subscribe">Subscribe</a></li></ul></nav></header>
<div class="cookie">We use cookies to improve your experience. <button>Accept</button></div>
<main><article><h1>Harbour board approves night ferry to the islands</h1>
<p class="byline">By Aoife O’Brien · 14 May 2024</p>
<p>The harbour board voted on Tuesday to run a night ferry to the outer islands from June, ending a
decade in which the last boat left the mainland at half past six and islanders working late shifts had
to stay in town overnight.</p>
<p>“It sounds like a small thing, but it changes who can live out there,” said Søren Nørgaard, who
chairs the islands’ residents’ association. Nurses, bakers and hotel staff had asked for the service
since 2014, he said, and the petition collected more than 3,000 signatures last winter.</p>
<p>The crossing will leave at 23:15 on weekdays and at 00:30 on Fridays and Saturdays. The operator
expects about 120 passengers a night in summer and fewer than half that in winter, when the board will
review whether the late sailing pays its way. Tickets will cost the same as the daytime fare.</p>
<h2>Costs shared with the region</h2>
<p>The regional government will cover two thirds of the extra crew costs for the first three years.
Board members who voted against the plan said the subsidy hides the real cost of a half-empty boat,
and asked for monthly figures on passenger numbers to be published.</p>
<p>The old pier, closed since a storm damaged its pilings in 2021, will not reopen for the service:
the ferry will use the main terminal, where a waiting room stays open until the last departure.</p>
</article>
<aside><h3>Related</h3><ul><li><a href="/a">Island school gets new roof</a></li>
<li><a href="/b">Storm warning for the weekend</a></li><li><a href="/c">Fish prices fall again</a></li></ul></aside>
</main>
<footer><p>Share: Facebook · X · Email</p><p>© 2024 Coastal Times. All rights reserved.</p>
<p><a href="/privacy">Privacy</a> | <a href="/terms">Terms</a></p></footer></body></html>
"""


@lru_cache(maxsize=1)
def raw_inputs() -> dict[str, tuple[bytes, str]]:
    """name -> (raw bytes, media type)."""
    german = (RAW / "000_65eea8b01307b085.txt").read_bytes()
    return {
        "de": (german, "text/plain"),
        "de-mojibake": (mojibake(german.decode("utf-8")).encode("utf-8"), "text/plain"),
        "zh": ((RAW / "002_3055a5f10925dd99.txt").read_bytes(), "text/plain"),
        "html": (PAGE.encode("utf-8"), "text/html"),
    }


def fresh(name: str) -> Document:
    raw, media = raw_inputs()[name]
    sha = f"{hash(raw) & 0xFFFFFFFF:064x}"
    ext = "html" if media == "text/html" else "txt"
    return Document(id=document_id(sha), source=Source(path=f"bench/{name}.{ext}", sha256=sha, media_type=media),
                    raw=raw)


def _copy(doc: Document) -> Document:
    return dataclasses.replace(doc, edits=list(doc.edits))


@lru_cache(maxsize=None)
def prepared(name: str) -> Document:
    """After decode, extract, repair: the input of strip."""
    return _run_stages(fresh(name), CFG, PREPARE)


@lru_cache(maxsize=None)
def stripped(name: str) -> Document:
    return strip.strip(_copy(prepared(name)), CFG.strip, None, "bench")


@lru_cache(maxsize=None)
def finished(name: str) -> Document:
    doc = convert.convert(_copy(stripped(name)), CFG.convert)
    return dedup.fingerprint(doc, CFG.dedup)


def _bench(benchmark: Any, fn: Callable[[Document], Any], make: Callable[[], Document], size: int) -> None:
    benchmark.extra_info["bytes"] = size
    make()  # warm caches (OpenCC tables, language model, rule books) outside the timing
    benchmark.pedantic(fn, setup=lambda: ((make(),), {}), rounds=ROUNDS, iterations=1, warmup_rounds=2)


@pytest.mark.parametrize("name", ["de", "de-mojibake", "zh", "html"])
def test_decode(benchmark: Any, name: str) -> None:
    _bench(benchmark, lambda d: decode.decode(d, CFG.decode), lambda: fresh(name), len(raw_inputs()[name][0]))


def test_extract(benchmark: Any) -> None:
    make = lambda: decode.decode(fresh("html"), CFG.decode)  # noqa: E731
    _bench(benchmark, lambda d: extract.extract(d, CFG.extract), make, len(PAGE.encode()))


@pytest.mark.parametrize("name", ["de", "de-mojibake", "zh"])
def test_repair(benchmark: Any, name: str) -> None:
    make = lambda: decode.decode(fresh(name), CFG.decode)  # noqa: E731
    _bench(benchmark, lambda d: repair.repair(d, CFG.repair), make, len(raw_inputs()[name][0]))


@pytest.mark.parametrize("name", ["de", "zh", "html"])
def test_strip(benchmark: Any, name: str) -> None:
    doc = prepared(name)
    fn = lambda d: strip.strip(d, CFG.strip, None, site_of(d))  # noqa: E731
    _bench(benchmark, fn, lambda: _copy(doc), len(doc.text.encode()))


@pytest.mark.parametrize("name", ["de", "zh"])
def test_convert(benchmark: Any, name: str) -> None:
    doc = stripped(name)
    _bench(benchmark, lambda d: convert.convert(d, CFG.convert), lambda: _copy(doc), len(doc.text.encode()))


@pytest.mark.parametrize("name", ["de", "zh"])
def test_fingerprint(benchmark: Any, name: str) -> None:
    doc = convert.convert(_copy(stripped(name)), CFG.convert)
    _bench(benchmark, lambda d: dedup.fingerprint(d, CFG.dedup), lambda: _copy(doc), len(doc.text.encode()))


@pytest.fixture
def index(tmp_path: Path) -> Iterator[DedupIndex]:
    conn = sqlite3.connect(tmp_path / "index.sqlite")
    yield DedupIndex(conn, CFG.dedup, 1)
    conn.close()


def test_dedup_check_add(benchmark: Any, index: DedupIndex) -> None:
    """check + add of a new ~4 KB document against an index of 2000 distinct English documents."""
    rng = random.Random(7)

    def text() -> str:
        return "\n\n".join(paragraph(rng, "en") for _ in range(8))

    for i in range(2000):
        index.add(f"seed{i}", dedup.fingerprint_text(text(), CFG.dedup))
    index.flush()
    new = [dedup.fingerprint_text(text(), CFG.dedup) for _ in range(ROUNDS + 4)]
    serial = iter(range(10**6))

    def check_add(fp: Any) -> None:
        doc_id = f"new{next(serial)}"
        if index.check(doc_id, fp) is None:
            index.add(doc_id, fp)

    benchmark.extra_info["bytes"] = len(text().encode())
    fps = iter(new)
    benchmark.pedantic(check_add, setup=lambda: ((next(fps),), {}), rounds=ROUNDS, iterations=1, warmup_rounds=2)


@pytest.mark.parametrize("level", [1, 6])
def test_warc_write(benchmark: Any, tmp_path: Path, level: int) -> None:
    """write_article (raw resource + conversion + metadata, gzip per record) at a gzip level."""
    doc = finished("de")
    writer = ArchiveWriter(tmp_path, CFG.archive, "bench-run", "0" * 64, "{}", hostname="bench", gzip_level=level)
    _bench(benchmark, writer.write_article, lambda: doc, len(doc.raw) + len(doc.text.encode()))
    writer.close()
    benchmark.extra_info["archive_bytes"] = sum(p.stat().st_size for p in tmp_path.glob("*.warc.gz"))


def test_warc_pack(benchmark: Any) -> None:
    """A worker's share of a clean document's outputs (`packed.pack`): its three records
    deflated, index line heads, pages.jsonl and clean/ lines, ledger counts."""
    doc = finished("de")
    spec = PackSpec(CFG.archive, "bench-run", "0" * 64, write_txt=False)
    builder = RecordBuilder(spec.archive, spec.run_id, spec.config_sha256)
    _bench(benchmark, lambda d: pack(d, builder, spec), lambda: _copy(doc), len(doc.raw) + len(doc.text.encode()))


def test_warc_write_packed(benchmark: Any, tmp_path: Path) -> None:
    """The single writer's share (`ArchiveWriter.write_packed`): serial time more workers cannot share."""
    doc = finished("de")
    writer = ArchiveWriter(tmp_path, CFG.archive, "bench-run", "0" * 64, "{}", hostname="bench")
    article = writer.builder.article(doc)
    _bench(benchmark, lambda _: writer.write_packed(article), lambda: doc, len(doc.raw) + len(doc.text.encode()))
    writer.close()


def test_corpus_write(benchmark: Any, tmp_path: Path) -> None:
    doc = finished("de")
    writer = CorpusWriter(tmp_path, CFG.corpus, "20240101000000")
    _bench(benchmark, writer.write, lambda: doc, len(doc.text.encode()))
    writer.close()

