"""Byte-identical inputs (state/copies.py): decided like the first copy, never cleaned again."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from run_fixtures import para, words
from warcio.archiveiterator import ArchiveIterator

from tests.conftest import make_strip_slow

Cli = Callable[..., tuple[int, str, str]]
RUN = ("run", "--workers", "1", "--no-progress")


def _cleaned_paths(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Paths of the documents strip sees (in-process runs: --workers 1)."""
    from cleaner.stages import strip

    seen: list[str] = []
    real = strip.strip

    def spy(doc: Any, *args: Any, **kwargs: Any) -> Any:
        if doc.source.path != "<warm-up>":  # pipeline.warm_up's own document
            seen.append(doc.source.path)
        return real(doc, *args, **kwargs)

    monkeypatch.setattr(strip, "strip", spy)
    return seen


def _rows(project: Path) -> dict[str, tuple]:
    with sqlite3.connect(project / "state" / "ledger.sqlite") as db:
        return {r[0]: r[1:] for r in db.execute(
            "SELECT input_path, outcome, duplicate_of, method, similarity, title, lang, problem, doc_id, chars"
            " FROM documents")}


def _record_types(project: Path) -> list[str]:
    out = []
    for f in sorted((project / "archive").glob("CLEANER-2*.warc.gz")):
        with open(f, "rb") as fh:
            out += [r.rec_type for r in ArchiveIterator(fh)]
    return out


def test_a_copy_is_not_cleaned_and_takes_the_first_copys_decision(
    project: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = sorted((project / "raw").iterdir())[1]
    (project / "raw" / "zz_same_bytes.txt").write_bytes(first.read_bytes())
    cleaned = _cleaned_paths(monkeypatch)
    code, out, err = cli(*RUN)
    assert code == 0, err
    assert first.name in cleaned and "zz_same_bytes.txt" not in cleaned
    assert "6 documents: 5 clean, 1 duplicates" in out + err and "1 with an earlier input's bytes, not cleaned again" in out + err
    rows = _rows(project)
    outcome, dup_of, method, similarity, title, lang, _, _, chars = rows["zz_same_bytes.txt"]
    assert (outcome, dup_of, method, similarity) == ("duplicate", rows[first.name][7], "exact", 1.0)
    assert (title, lang, chars) == (rows[first.name][4], rows[first.name][5], rows[first.name][8])
    assert lang and chars  # what cleaning it would have found
    assert _record_types(project).count("revisit") == 1  # its raw bytes: a revisit of the first's record
    code, out, _ = cli("explain", "raw/zz_same_bytes.txt")
    assert code == 0 and f"({first.name}, the same bytes: not cleaned again)" in out


def test_records_of_one_warc_file_are_not_called_copies_of_each_other(project: Path, cli: Cli) -> None:
    """Two near-duplicate records of one WARC file share its sha256, but each was cleaned: explain
    must not say "the same bytes: not cleaned again" of the second."""
    import io

    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    text = para(words(7, 120))
    with open(project / "raw" / "crawl.warc.gz", "wb") as fh:
        w = WARCWriter(fh, gzip=True)
        for name, body in (("a", text), ("b", text + " One more sentence at the end of it.")):
            page = f"<html><body><article><h1>Title</h1><p>{body}</p></article></body></html>".encode()
            sh = StatusAndHeaders("200 OK", [("Content-Type", "text/html")], protocol="HTTP/1.1")
            w.write_record(w.create_warc_record(f"http://example.com/{name}", "response",
                                                payload=io.BytesIO(page), http_headers=sh))
    assert cli(*RUN)[0] == 0
    code, out, _ = cli("explain", "raw/crawl.warc.gz")
    assert code == 0 and "duplicate (near" in out and "the same bytes" not in out, out


def test_a_copy_in_a_later_run_is_found_in_the_ledger(project: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    assert cli(*RUN)[0] == 0
    first = sorted((project / "raw").iterdir())[0]
    (project / "raw" / "later").mkdir()
    (project / "raw" / "later" / "again.txt").write_bytes(first.read_bytes())
    cleaned = _cleaned_paths(monkeypatch)
    assert cli(*RUN)[0] == 0
    assert cleaned == []
    rows = _rows(project)
    assert rows["later/again.txt"][:4] == ("duplicate", rows[first.name][7], "exact", 1.0)


def test_dedup_scope_run_ignores_first_copies_of_earlier_runs(project: Path, cli: Cli) -> None:
    assert cli(*RUN)[0] == 0
    first = sorted((project / "raw").iterdir())[0]
    (project / "raw" / "again.txt").write_bytes(first.read_bytes())
    (project / "raw" / "again2.txt").write_bytes(first.read_bytes())
    assert cli(*RUN, "--dedup-scope", "run")[0] == 0
    rows = _rows(project)
    assert rows["again.txt"][0] == "clean"  # nothing of earlier runs counts
    assert rows["again2.txt"][:3] == ("duplicate", rows["again.txt"][7], "exact")  # this run's first copy does


def test_the_copy_of_a_near_duplicate_is_a_duplicate_of_the_same_kept_document(project: Path, cli: Cli) -> None:
    body = words(7, 400)
    near = list(body)
    near[200:203] = ["changed", "three", "words"]
    raw = project / "raw"
    (raw / "a_original.txt").write_text(para(body), encoding="utf-8")
    (raw / "b_near.txt").write_text(para(near), encoding="utf-8")
    (raw / "c_copy_of_near.txt").write_bytes((raw / "b_near.txt").read_bytes())
    assert cli(*RUN)[0] == 0
    rows = _rows(project)
    assert rows["b_near.txt"][:3] == ("duplicate", rows["a_original.txt"][7], "near")
    assert rows["c_copy_of_near.txt"][:4] == rows["b_near.txt"][:4]


@pytest.mark.parametrize("checkpoint", ["2000", "1"])  # the first copy still in flight / long committed
def test_the_copy_of_a_quarantined_input_is_quarantined_naming_it(
    project: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch, checkpoint: str
) -> None:
    first = sorted((project / "raw").iterdir())[0]
    (project / "raw" / "zz_same_bytes.txt").write_bytes(first.read_bytes())
    monkeypatch.setenv("CLEANER_RUN_CHECKPOINT_DOCS", checkpoint)
    make_strip_slow(monkeypatch, first.name, seconds=2.0)
    monkeypatch.setenv("CLEANER_RUN_DOC_TIMEOUT_S", "0.3")
    code, _, err = cli(*RUN)
    assert code == 1, err
    outcome, *_, problem, _, _ = _rows(project)["zz_same_bytes.txt"]
    assert outcome == "quarantined"
    assert problem.startswith(f"dedup: same bytes as {first.name}, quarantined: budget: timeout")
    assert "resource" in _record_types(project)  # the copy's bytes are archived as well


def test_a_dry_run_predicts_copies_across_checkpoints(project: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    """In a dry run nothing is committed, but the first copies of earlier checkpoints are still
    found (in the scratch ledger's uncommitted rows), as the real run will find them."""
    first = sorted((project / "raw").iterdir())[0]
    (project / "raw" / "zz_same_bytes.txt").write_bytes(first.read_bytes())
    monkeypatch.setenv("CLEANER_RUN_CHECKPOINT_DOCS", "1")
    code, out, err = cli(*RUN, "--dry-run")
    assert code == 0, err
    assert "1 with an earlier input's bytes, not cleaned again" in out + err
    assert not (project / "state" / "ledger.sqlite").exists()


def test_a_copy_of_an_input_quarantined_in_an_earlier_run_is_cleaned(
    project: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The earlier quarantine may have been the settings' (a time budget): the copy is the retry."""
    first = sorted((project / "raw").iterdir())[2]
    with monkeypatch.context() as m:
        make_strip_slow(m, first.name, seconds=2.0)
        m.setenv("CLEANER_RUN_DOC_TIMEOUT_S", "0.3")
        assert cli(*RUN)[0] == 1
    (project / "raw" / "zz_same_bytes.txt").write_bytes(first.read_bytes())
    (project / "raw" / "zz_again.txt").write_bytes(first.read_bytes())
    assert cli(*RUN)[0] == 0
    rows = _rows(project)
    assert rows[first.name][0] == "quarantined" and rows["zz_again.txt"][0] == "clean"
    assert rows["zz_same_bytes.txt"][:3] == ("duplicate", rows["zz_again.txt"][7], "exact")  # this run's first
