"""Ray engine: same outputs and dedup decisions as the local engine.

The band shuffle and the decision merge are plain functions and are checked against the local
engine's DedupIndex loop without Ray. The engine tests need Ray (the `ray` extra, not in the
`test` extra): they skip where it is not installed and share one local Ray (2 CPUs) per module.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import random
import shutil
import sqlite3
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from cleaner.config import DedupConfig
from cleaner.document import Document, Outcome, Source
from cleaner.engines import band_shuffle
from cleaner.stages.dedup import fingerprint_text
from cleaner.state.dedup_index import DedupIndex, Match
from run_fixtures import clean_articles, edited, ledger_outcomes, make_raw, para, words

HAVE_RAY = importlib.util.find_spec("ray") is not None
needs_ray = pytest.mark.skipif(not HAVE_RAY, reason='Ray is not installed (pip install "cleaner[ray]")')

def doc(i: int, text: str, cfg: DedupConfig, doc_id: str | None = None) -> Document:
    d = Document(id=doc_id or f"doc{i:04d}", source=Source(path=f"p{i}.txt", sha256="0" * 64), raw=b"", text=text)
    d.fingerprint = fingerprint_text(text, cfg)
    return d


def corpus(cfg: DedupConfig, seed: int) -> list[Document]:
    """Originals with exact, edited, truncated and wrapped copies, short texts, a quarantined doc."""
    docs: list[Document] = []
    bodies = [words(seed * 1000 + k, 240) for k in range(12)]
    for k, b in enumerate(bodies):
        docs.append(doc(len(docs), para(b), cfg))
    for k, b in enumerate(bodies[:8]):
        kind = k % 4
        if kind == 0:
            text = para(b)  # exact copy
        elif kind == 1:
            text = para(edited(b, 0.05, k))  # edited copy
        elif kind == 2:
            text = para(b[:130])  # truncated copy
        else:
            text = "Home News About\n" + para(words(k + 77, 80) + b)  # wrapped in another page
        docs.append(doc(len(docs), text, cfg))
    docs.append(doc(len(docs), "tiny text", cfg))
    docs.append(doc(len(docs), "tiny text", cfg))  # exact twin below min_shingles
    docs.append(doc(len(docs), "", cfg))  # no words: never matched
    bad = doc(len(docs), para(bodies[0]), cfg)
    bad.quarantine("strip", "test")
    docs.append(bad)
    docs.append(docs[3])  # the same document object twice (same bytes under two paths)
    rnd = random.Random(seed)
    head = docs[:12]
    tail = docs[12:]
    rnd.shuffle(tail)
    return head + tail


def overlapping(cfg: DedupConfig, n: int, seed: int) -> list[Document]:
    """Pages sharing half their words: mostly candidates of each other, none a duplicate (cap corner)."""
    shared = words(seed, 250)
    return [doc(10_000 + seed * 1000 + i, para(shared + words(seed * 7919 + i, 250)), cfg) for i in range(n)]


def local_loop(index: DedupIndex, docs: list[Document]) -> list[Match | None]:
    """What the runner does with the local engine."""
    out: list[Match | None] = []
    turned: set[int] = set()
    for d in docs:
        if d.outcome is not Outcome.CLEAN or d.fingerprint is None or id(d) in turned:
            out.append(None)
            continue
        m = index.check(d.id, d.fingerprint)
        out.append(m)
        if m is None:
            index.add(d.id, d.fingerprint)
        else:
            turned.add(id(d))
    return out


def planned_loop(index: DedupIndex, docs: list[Document], groups: list[band_shuffle.Groups],
                 must_fall_back: bool = False) -> list[Match | None]:
    """What the runner does with the Ray engine: plan first, then add the kept documents in order."""
    before = index.size()
    plan = band_shuffle.plan(index, docs, groups)
    assert (index.size() > before) == must_fall_back, "the fallback indexes the chunk while planning"
    turned: set[int] = set()
    for d, m in zip(docs, plan, strict=True):
        if d.outcome is not Outcome.CLEAN or d.fingerprint is None or id(d) in turned:
            continue
        if m is None:
            index.add(d.id, d.fingerprint)
        else:
            turned.add(id(d))
    return plan


def twin_indexes(cfg: DedupConfig, earlier: list[Document]) -> Iterator[tuple[DedupIndex, DedupIndex]]:
    """Two identical indexes holding `earlier` as run 1; the next session is run 2."""
    conns = [sqlite3.connect(":memory:"), sqlite3.connect(":memory:")]
    try:
        pair = []
        for c in conns:
            first = DedupIndex(c, cfg, 1)
            local_loop(first, earlier)
            first.flush()
            pair.append(DedupIndex(c, cfg, 2))
        yield pair[0], pair[1]
    finally:
        for c in conns:
            c.close()


def rows(index: DedupIndex) -> list[tuple]:
    index.flush()
    return (index.conn.execute("SELECT id, doc_id, run FROM dedup_docs ORDER BY id").fetchall(),
            index.conn.execute("SELECT key, doc FROM dedup_bands ORDER BY key, doc").fetchall())


def fresh(docs: list[Document]) -> list[Document]:
    """Deep-enough copies (outcomes are mutated by decisions), keeping repeated objects repeated."""
    seen: dict[int, Document] = {}
    return [seen.setdefault(id(d), dataclasses.replace(d)) for d in docs]


@pytest.mark.parametrize("scope", ["archive", "run"])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_planned_decisions_equal_the_index_loop(scope: str, seed: int) -> None:
    cfg = dataclasses.replace(DedupConfig(), scope=scope)
    docs = corpus(cfg, seed)
    earlier = [doc(900 + i, d.text, cfg, f"old{i}") for i, d in enumerate(docs[14:18])]
    for a, b in twin_indexes(cfg, earlier):
        before = b.size()
        x, y = fresh(docs), fresh(docs)
        expected = local_loop(a, x)
        groups = band_shuffle.shuffle_local(y, b, parts=3)
        plan = band_shuffle.plan(b, y, groups)
        assert b.size() == before, "the merge path decided without touching the index"
        assert plan == expected
        kinds = {m.method for m in expected if m is not None}
        assert kinds == {"exact", "near"}
        if scope == "archive":
            assert any(m is not None and m.duplicate_of.startswith("old") for m in expected)


def test_equal_containment_goes_to_the_earlier_indexed_document() -> None:
    """A teaser contained in an archived article and in a kept page of this chunk: the archived one wins."""
    cfg = DedupConfig()
    article, other = words(41, 200), words(42, 120)
    earlier = [doc(1, para(article), cfg, "archived")]
    docs = [doc(2, para(article[:110] + other), cfg, "reworked"), doc(3, para(article[:105]), cfg, "teaser")]
    for a, b in twin_indexes(cfg, earlier):
        expected = local_loop(a, fresh(docs))
        assert expected[0] is None and expected[1] is not None and expected[1].duplicate_of == "archived"
        assert planned_loop(b, fresh(docs), band_shuffle.shuffle_local(docs, b)) == expected


def test_a_teasers_opening_match_is_planned_as_the_index_decides() -> None:
    """A short teaser (two lines) that begins one kept article is its duplicate; one that begins
    two (one archived, one of this chunk) is kept: the plan counts both kinds of candidates."""
    cfg = DedupConfig()
    lead = para(words(51, 24), width=12)  # two lines of 12 words

    def teaser(i: int, doc_id: str) -> Document:
        d = doc(i, lead, cfg, doc_id)
        d.fingerprint = fingerprint_text(lead, cfg, source=lead + "\nRead the full story at example.com")
        return d

    earlier = [doc(1, lead + "\n" + para(words(53, 90), width=30), cfg, "archived")]
    same_start = doc(2, lead + "\n" + para(words(54, 90), width=30), cfg, "same-start")
    for docs, kept in (([teaser(3, "t1")], False), ([same_start, teaser(4, "t2")], True)):
        for a, b in twin_indexes(cfg, earlier):
            expected = local_loop(a, fresh(docs))
            last = expected[-1]
            assert (last is None) == kept
            if not kept:
                assert last is not None and last.duplicate_of == "archived" and "beginning" in last.note
            assert planned_loop(b, fresh(docs), band_shuffle.shuffle_local(docs, b)) == expected


def test_candidate_cap_falls_back_to_the_index_and_still_agrees() -> None:
    cfg = DedupConfig()
    pages = overlapping(cfg, 110, seed=5)
    docs = pages[:70] + corpus(cfg, 4) + pages[70:]
    earlier = overlapping(cfg, 20, seed=6)
    for a, b in twin_indexes(cfg, earlier):
        x, y = fresh(docs), fresh(docs)
        expected = local_loop(a, x)
        plan = planned_loop(b, y, band_shuffle.shuffle_local(y, b), must_fall_back=True)
        assert plan == expected
        assert rows(a) == rows(b)  # same row ids, same band rows as the local engine
        assert sum(m is None for m in expected) > 100  # the overlapping pages were kept: the cap was reached


def test_full_band_keys_fall_back_to_the_index_and_still_agree(monkeypatch: pytest.MonkeyPatch) -> None:
    """A chunk whose kept pages fill a shared band key (`_BAND_CAP`): the index lists later pages
    under their other keys only; the plan must see the same candidates, so it defers to the index."""
    import cleaner.state.dedup_index as di

    monkeypatch.setattr(di, "_BAND_CAP", 6)
    cfg = DedupConfig()
    pages = overlapping(cfg, 30, seed=8)
    docs = pages[:20] + corpus(cfg, 7) + pages[20:]
    earlier = overlapping(cfg, 3, seed=8)[:1] + corpus(cfg, 11)[:4]
    for a, b in twin_indexes(cfg, earlier):
        x, y = fresh(docs), fresh(docs)
        expected = local_loop(a, x)
        plan = planned_loop(b, y, band_shuffle.shuffle_local(y, b), must_fall_back=True)
        assert plan == expected
        assert rows(a) == rows(b)
        sizes = a.conn.execute("SELECT count(*) FROM dedup_bands_0 GROUP BY key").fetchall()
        assert max(sizes) == (6,)  # the cap was reached


def test_shuffle_groups_are_the_shared_band_keys() -> None:
    cfg = DedupConfig()
    docs = corpus(cfg, 9)
    with sqlite3.connect(":memory:") as conn:
        index = DedupIndex(conn, cfg)
        one = band_shuffle.shuffle_local(docs, index, parts=1)
        four = band_shuffle.shuffle_local(docs, index, parts=4)
    def pairs(groups: list[band_shuffle.Groups]) -> set[tuple[int, int, int]]:
        out = set()
        for g in groups:
            for k in range(g.kinds.size):
                m = g.members[g.offsets[k] : g.offsets[k + 1]].tolist()
                assert m == sorted(m) and len(m) >= 2
                out |= {(int(g.kinds[k]), i, j) for i in m for j in m if i < j}
        return out
    assert pairs(one) == pairs(four)
    got = pairs(one)
    twin = next(i for i in range(12, len(docs)) if docs[i].text == docs[0].text and docs[i].outcome is Outcome.CLEAN)
    exact_twin = (band_shuffle.EXACT, 0, twin)
    assert exact_twin in got
    assert all(docs[i].outcome is Outcome.CLEAN for _, i, j in got for i in (i, j))


def test_missing_ray_is_a_usage_error(monkeypatch: pytest.MonkeyPatch, project: Path,
                                      cli: Callable[..., tuple[int, str, str]]) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray -> ImportError
    code, _, err = cli("run", "--engine", "ray", "--no-progress")
    assert code == 2
    assert 'pip install "cleaner[ray]"' in err


def test_ray_logs_no_more_than_ours() -> None:
    """`cleaner run -q --engine ray` from cron: Ray's start-up warnings stay out of the errors-only log."""
    import logging

    from cleaner.engines.ray import _ray_log_level
    from cleaner.observe import LOG

    before = LOG.level
    try:
        for ours, theirs in ((logging.ERROR, logging.ERROR), (logging.WARNING, logging.WARNING),
                             (logging.DEBUG, logging.WARNING)):
            LOG.setLevel(ours)
            assert _ray_log_level() == theirs
    finally:
        LOG.setLevel(before)


# --- with Ray ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ray_session() -> Iterator[None]:
    if not HAVE_RAY:
        pytest.skip("Ray is not installed")
    import ray

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


@needs_ray
def test_ray_run_writes_what_the_local_run_writes(
    ray_session: None, project: Path, cli: Callable[..., tuple[int, str, str]]
) -> None:
    make_raw(project / "raw")
    results = {}
    for engine in ("local", "ray"):
        out = project / engine
        code, _, err = cli("run", "--engine", engine, "--workers", "2", "--no-progress", "--clean", str(out / "clean"),
                           "--archive", str(out / "archive"), "--state", str(out / "state"))
        assert code == 0, err
        results[engine] = (clean_articles(out / "clean"), ledger_outcomes(out / "state"))
        from cleaner.sinks.archive_check import verify_archive

        assert verify_archive(out / "archive") == []
    assert results["ray"] == results["local"]
    outcomes = [r[2] for r in results["local"][1]]
    assert outcomes.count("duplicate") >= 10 and outcomes.count("clean") >= 20
    assert {r[4] for r in results["local"][1] if r[2] == "duplicate"} == {"exact", "near"}


@needs_ray
def test_ray_checkpoints_and_a_second_run_agree_with_local(
    ray_session: None, project: Path, cli: Callable[..., tuple[int, str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Small checkpoints: decisions across checkpoints go through the persistent index."""
    make_raw(project / "raw")
    monkeypatch.setenv("CLEANER_RUN_CHECKPOINT_DOCS", "7")
    monkeypatch.setenv("CLEANER_DEDUP_KEEP", "longest")
    later = sorted((project / "raw").glob("trunc_*")) + sorted((project / "raw").glob("site_2*"))
    held = project / "held"
    held.mkdir()
    for p in later:
        shutil.move(p, held / p.name)
    results = {}
    for engine in ("local", "ray"):
        raw = project / f"raw_{engine}"
        shutil.copytree(project / "raw", raw)
        out = project / engine
        args = ("run", "--engine", engine, "--no-progress", "--input", str(raw), "--clean", str(out / "clean"),
                "--archive", str(out / "archive"), "--state", str(out / "state"))
        assert cli(*args)[0] == 0
        for p in later:
            shutil.copy(held / p.name, raw / p.name)
        assert cli(*args)[0] == 0
        results[engine] = (clean_articles(out / "clean"), ledger_outcomes(out / "state"))
    assert results["ray"] == results["local"]
    assert any(r[2] == "duplicate" and r[0] in {d[0] for d in results["local"][1]} for r in results["local"][1])


@needs_ray
def test_map_keeps_order_with_few_tasks_in_flight(ray_session: None) -> None:
    from cleaner.engines.ray import RayEngine

    with RayEngine(2) as engine:
        assert list(engine.map(abs, range(-50, 0))) == list(range(50, 0, -1))
        docs = corpus(DedupConfig(), 3)
        with sqlite3.connect(":memory:") as conn:
            index = DedupIndex(conn, DedupConfig())
            on_ray = engine.shuffle(index, docs)
            here = band_shuffle.shuffle_local(docs, index, parts=engine.slots if engine.slots > 1 else 2)
    key = lambda gs: sorted((int(g.kinds[k]), tuple(g.members[g.offsets[k]:g.offsets[k + 1]].tolist()))  # noqa: E731
                            for g in gs for k in range(g.kinds.size))
    assert key(on_ray) == key(here)
    import ray

    assert ray.is_initialized()  # an engine that found Ray running leaves it running
