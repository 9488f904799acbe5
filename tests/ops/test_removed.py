"""`cleaner removed`: what the rules took out across the archive, read back from its metadata
records (invented pages: two sites, a newsletter line on three pages, a site's masthead)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from cleaner.removals import matches, parse_metadata

Cli = Callable[..., tuple[int, str, str]]
RUN = ("run", "--workers", "1", "--no-progress")

_SUBJECTS = ["The harbour board", "A ferry pilot", "The town archivist", "Two beekeepers", "The choir director",
             "A tram driver", "The lighthouse keeper", "Three potters"]
_VERBS = ["measured", "restored", "catalogued", "repainted", "surveyed", "rebuilt", "photographed", "mapped"]
_OBJECTS = ["the north pier", "an old weather station", "the salt warehouse", "a flooded orchard",
            "the cable bridge", "a chapel roof", "the river locks", "a sheep market"]


def _article(n: int) -> str:
    """Four paragraphs of invented prose, different for every n (no two pages are near copies)."""
    paras = []
    for p in range(4):
        sents = []
        for s in range(3):
            k = n * 12 + p * 3 + s
            sents.append(f"{_SUBJECTS[(k * 5 + n) % 8]} {_VERBS[(k * 3 + p) % 8]} {_OBJECTS[(k * 7 + s) % 8]} "
                         f"in week {k + 1} of season {n + 2}, after {k * 13 % 97 + 2} visitors asked about it.")
        paras.append(" ".join(sents))
    return "\n\n".join(paras)


@pytest.fixture
def archived(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cli: Cli) -> Path:
    """Five pages of harbourtimes (masthead, three with a newsletter line) and one of valleypost."""
    monkeypatch.chdir(tmp_path)
    site = tmp_path / "raw" / "harbourtimes"
    site.mkdir(parents=True)
    for n in range(5):
        tail = "\n\nSubscribe to our newsletter for the latest news." if n < 3 else ""
        site.joinpath(f"page{n}.txt").write_text(f"Harbour Times Online\n\n{_article(n)}{tail}\n", encoding="utf-8")
    other = tmp_path / "raw" / "valleypost"
    other.mkdir()
    other.joinpath("story.txt").write_text(f"{_article(7)}\n\nSubscribe to our newsletter for the latest news.\n",
                                           encoding="utf-8")
    code, _, err = cli(*RUN)
    assert code == 0, err
    return tmp_path


def test_rules_are_counted_per_line_and_per_document(archived: Path, cli: Cli) -> None:
    code, out, _ = cli("removed")
    assert code == 0
    assert out.startswith("6 clean documents read\n")
    rows = {ln.split()[0]: ln.split()[1:] for ln in out.splitlines()[2:] if ln.strip()}
    assert rows["strip:en:newsletter"] == ["4", "4"]  # three harbourtimes pages and the valleypost one
    assert rows["strip:template"] == ["5", "5"]  # the masthead, on every harbourtimes page


def test_a_rule_pattern_lists_the_texts_it_removed(archived: Path, cli: Cli) -> None:
    code, out, _ = cli("removed", "newsletter", "--json")
    assert code == 0
    rows = [json.loads(ln) for ln in out.splitlines()]
    assert [(r["rule"], r["text"], r["docs"], r["lines"]) for r in rows] == [
        ("strip:en:newsletter", "Subscribe to our newsletter for the latest news.", 4, 4)]
    assert rows[0]["example"].startswith("file:///") and rows[0]["example"].endswith(".txt")
    code, out, _ = cli("removed", "strip:template")
    assert "1 distinct texts removed by rules matching 'strip:template':" in out
    assert "'Harbour Times Online'" in out


def test_site_and_run_filters(archived: Path, cli: Cli) -> None:
    code, out, _ = cli("removed", "--site", "valleypost", "--json")
    assert code == 0
    assert [json.loads(ln) for ln in out.splitlines()] == [{"rule": "strip:en:newsletter", "lines": 1, "docs": 1}]
    run_id = json.loads(cli("status", "--json")[1])["runs"][0]["run_id"]
    assert cli("removed", "--run", run_id)[1].startswith("6 clean documents read")
    code, out, _ = cli("removed", "newsletter", "--run", "20000101000000-000000")
    assert out == "0 clean documents read\nnothing removed by rules matching 'newsletter'\n"


def test_a_missing_archive_is_a_usage_error(tmp_path: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    code, _, err = cli("removed", "--archive", "nowhere")
    assert code == 2 and "archive folder not found: nowhere" in err


def test_patterns_name_a_rule_whole_without_its_stage_or_by_its_last_part() -> None:
    assert matches("strip:en:newsletter", "strip:en:newsletter")
    assert matches("strip:en:newsletter", "en:newsletter")
    assert matches("strip:de:newsletter", "newsletter")
    assert matches("strip:template", "template")
    assert matches("strip:layout:related-list", "layout:*")
    assert matches("extract:footer", "extract:*")
    assert not matches("strip:en:newsletter", "de:*")
    assert not matches("strip:en:newsletter-offer", "newsletter")


def test_metadata_blocks_parse_back_and_a_broken_edit_line_is_skipped() -> None:
    block = (b"outcome: clean\r\nsource-path: a/b.txt\r\n"
             b'edit: {"stage":"strip","rule":"en:byline","action":"remove","before":"By A. Writer\\n"}\r\n'
             b"edit: {not json\r\nedit: [1, 2]\r\n")
    fields, edits = parse_metadata(block)
    assert fields == {"outcome": "clean", "source-path": "a/b.txt"}
    assert edits == [{"stage": "strip", "rule": "en:byline", "action": "remove", "before": "By A. Writer\n"}]
