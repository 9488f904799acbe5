"""`cleaner report`: a self-contained, escaped HTML page whose numbers are the ledger's."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable
from pathlib import Path

import lxml.html
import pytest

from cleaner.report import collect, reason_group
from cleaner.report_html import bar_chart
from cleaner.state.ledger import Ledger
from tests.conftest import without_dedup_note

Cli = Callable[..., tuple[int, str, str]]
RUN = ("run", "--workers", "1", "--no-progress")
HOSTILE = '<img src=x onerror="alert(1)">&amp;.txt'


@pytest.fixture
def reported(project: Path, cli: Cli) -> Path:
    """Two runs: the samples, then a binary file with a hostile name, a near duplicate, bad JSON lines."""
    assert cli(*RUN)[0] == 0
    raw = project / "raw"
    (raw / HOSTILE).write_bytes(b"\x00\x01\x02\x03" * 200)
    sample = (raw / "001_853bf2a90aa6bd36.txt").read_text(encoding="utf-8")
    (raw / "mirror.txt").write_text(sample.replace("Die ", "Der ", 1), encoding="utf-8")
    (raw / "feed.jsonl").write_text('{"text": "Ein kurzer Text über den Markt."}\n{oops\n', encoding="utf-8")
    assert cli(*RUN)[0] == 1
    return project


def _page(path: Path) -> lxml.html.HtmlElement:
    return lxml.html.fromstring(path.read_bytes())


def test_report_of_the_last_run(reported: Path, cli: Cli) -> None:
    code, _, err = cli("report", "-o", "r.html")
    assert code == 0 and "r.html" in err
    text = (reported / "r.html").read_text(encoding="utf-8")
    page = _page(reported / "r.html")
    # self-contained: no script, no external resource, no stylesheet link
    assert not page.xpath("//script | //link | //iframe | //img | //*[@src]")
    assert not re.search(r"(?:href|src)=\"?https?:", text)
    # the hostile file name is shown as text and never becomes markup
    assert HOSTILE in page.text_content()
    assert "<img src=x" not in text and "onerror=\"alert" not in text
    ledger = Ledger(reported / "state", readonly=True)
    try:
        run_id = ledger.runs(1)[0]["run_id"]
        rows = ledger.conn.execute("SELECT outcome, COUNT(*) FROM documents WHERE run_id=? GROUP BY 1",
                                   (run_id,)).fetchall()
    finally:
        ledger.close()
    assert run_id in page.findtext(".//h1")
    cards = {c.findtext("span"): c.findtext("b") for c in page.xpath("//div[contains(@class,'card')]")}
    for outcome, n in rows:
        assert cards[outcome] == f"{n:,}"
    assert cards["quarantined"] == "2" and cards["duplicate"] == "1"
    # charts are inline SVG
    svgs = page.xpath("//*[local-name()='svg']")
    assert len(svgs) >= 3
    # quarantine table names each input and its reason
    body = page.text_content()
    assert "feed.jsonl" in body and "invalid JSON" in body and "binary" in body
    # the duplicate cluster: the mirror listed with the kept sample, method and similarity
    cluster = next(t for t in page.xpath("//table") if "similarity" in t.text_content())
    assert "mirror.txt" in cluster.text_content() and "001_853bf2a90aa6bd36.txt" in cluster.text_content()
    assert "evidence" in cluster.text_content() and "containment 1.00 of" in cluster.text_content()


def test_report_of_all_runs_and_a_named_run(reported: Path, cli: Cli) -> None:
    assert cli("report", "--run", "all", "-o", "all.html")[0] == 0
    cards = {c.findtext("span"): c.findtext("b") for c in _page(reported / "all.html").xpath("//div[@class='cards']/div")}
    assert cards["clean"] == "6" and cards["documents"] == "9"
    ledger = Ledger(reported / "state", readonly=True)
    first = ledger.runs(10)[-1]["run_id"]
    ledger.close()
    code, _, err = cli("report", "--run", first)
    assert code == 0
    written = reported / "state" / "reports" / f"{first}.html"
    assert written.exists() and str(written.relative_to(reported)) in err
    page = _page(written)
    assert "nothing was quarantined" in page.text_content()
    code, out, _ = cli("report", "-o", "-")
    assert code == 0 and out.startswith("<!DOCTYPE html>")


def test_report_errors(project: Path, cli: Cli) -> None:
    assert cli("report")[0] == 3  # no ledger yet
    assert cli(*RUN)[0] == 0
    code, _, err = cli("report", "--run", "20000101000000-abcdef")
    assert code == 2 and "no run" in err


def test_numbers_come_from_the_ledger(reported: Path) -> None:
    ledger = Ledger(reported / "state", readonly=True)
    try:
        data = collect(ledger, "all")
        docs = ledger.conn.execute("SELECT COUNT(*) FROM documents").fetchone()[0]
    finally:
        ledger.close()
    assert sum(data.outcomes.values()) == docs == sum(s.docs for s in data.sites)
    assert data.cluster_total == 1 and data.clusters[0].size == 1
    assert data.quarantined_total == 2 == len(data.quarantined)
    assert dict(data.reasons).keys() == {"decode: binary content", "read: invalid JSON"}
    assert all(rule.split(":")[0] in ("strip", "extract") for rule, _ in data.removed)


def test_reason_groups_and_chart_escaping() -> None:
    assert reason_group("read: x.jsonl:2: invalid JSON (Expecting value: line 1 column 2)") == "read: invalid JSON"
    assert reason_group("read: file larger than 64000000 bytes") == "read: file larger than N bytes"
    svg = bar_chart("t", [("<b>&", 3), ("ok", 1)])
    assert "<b>&" not in svg and "&lt;b&gt;&amp;" in svg
    assert lxml.html.fromstring(f"<div>{svg}</div>").xpath("//*[local-name()='rect']")
    assert "nothing to show" in bar_chart("empty", [])


def test_report_reads_a_ledger_being_written(reported: Path, cli: Cli) -> None:
    """A run holding the ledger open (WAL) does not stop a report."""
    db = sqlite3.connect(reported / "state" / "ledger.sqlite")
    db.execute("BEGIN IMMEDIATE")
    try:
        assert cli("report", "-o", "busy.html")[0] == 0
    finally:
        db.rollback()
        db.close()


def test_report_of_a_ledger_without_dedup_notes(reported: Path, cli: Cli) -> None:
    """A ledger of an earlier version has no `dedup_note` column (a report opens it read-only,
    so nothing adds it): the clusters are listed with an empty evidence cell."""
    without_dedup_note(reported / "state" / "ledger.sqlite")
    code, _, err = cli("report", "-o", "old.html")
    assert code == 0, err
    cluster = next(t for t in _page(reported / "old.html").xpath("//table") if "similarity" in t.text_content())
    assert "mirror.txt" in cluster.text_content() and "containment" not in cluster.text_content()
