"""The whole pipeline on the five sample scrapes, compared with golden files a person has read.

Regenerate the golden texts after an intended change with CLEANER_UPDATE_GOLDEN=1 and review the diff.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from cleaner.cli import main
from tests.conftest import SHARED

GOLDEN = Path(__file__).parent / "samples"
UPDATE = os.environ.get("CLEANER_UPDATE_GOLDEN") == "1"


def _articles(clean: Path) -> dict[str, dict]:
    rows = [json.loads(line) for p in sorted(clean.glob("part-*.jsonl")) for line in p.read_text(encoding="utf-8").splitlines()]
    return {r["source"]: r for r in rows}


def test_samples_come_out_as_the_golden_files(project: Path, cli: Callable[..., tuple[int, str, str]]) -> None:
    code, _, err = cli("run", "--workers", "1", "--no-progress")
    assert code == 0, err
    articles = _articles(project / "clean")
    assert sorted(articles) == sorted(p.name for p in (project / "raw").iterdir())
    for source, row in articles.items():
        golden = GOLDEN / (Path(source).stem + ".txt")
        if UPDATE:
            golden.write_text(row["text"] + "\n", encoding="utf-8")
        assert row["text"] + "\n" == golden.read_text(encoding="utf-8"), source
    assert articles["002_3055a5f10925dd99.txt"]["lang"] == "zh-Hans"
    assert {articles[s]["lang"] for s in articles if not s.startswith("002")} == {"de"}


def test_what_a_reader_must_not_see(project: Path, cli: Callable[..., tuple[int, str, str]]) -> None:
    cli("run", "--workers", "1", "--no-progress")
    text = "\n".join(r["text"] for r in _articles(project / "clean").values())
    for residue in ("Newsletter", "KOSTENLOSES PDF", "Sam ist ein", "Kategorien:", "No items found",
                    "本文仅代表", "免责声明", "亚洲欧美", "(quán)", "(yàn)", "/span>", "Leave a Reply",
                    "source-116", "HEUTE ABONNIEREN", "?!?"):
        assert residue not in text, residue


def test_every_article_sentence_survives(project: Path, cli: Callable[..., tuple[int, str, str]]) -> None:
    cli("run", "--workers", "1", "--no-progress")
    articles = _articles(project / "clean")
    for sentence in (
        "Open-Source-KI wird ein kontroverses Thema bleiben",
        "Die Zukunft der KI wird von der Fähigkeit abhängen",
        "Für Meta ist die Open-Source-KI ein strategischer Vorteil.",
        "Mit der Veröffentlichung von Llama 3.1 setzt Meta neue Maßstäbe in der Open-Source-KI.",
        "Metas LLaMA diente als Grundlage für zahlreiche Iterationen",
        "und es ist bezeichnend, dass ihr Abgang so großes Chaos angerichtet hat.",
        "未来,关于开源与闭源的分歧会一直延续下去,但开源已经无法阻挡。",
    ):
        assert any(sentence in a["text"] for a in articles.values()), sentence


def test_second_run_adds_nothing_and_says_so(project: Path, cli: Callable[..., tuple[int, str, str]]) -> None:
    assert cli("run", "--workers", "1", "--no-progress")[0] == 0
    before = sorted((p.name, p.stat().st_size) for d in ("clean", "archive") for p in (project / d).iterdir())
    code, _, err = cli("run", "--workers", "1", "--no-progress")
    assert code == 0
    assert "nothing new" in err
    after = sorted((p.name, p.stat().st_size) for d in ("clean", "archive") for p in (project / d).iterdir())
    assert before == after


def _input_stats(project: Path) -> dict[str, tuple[int, int]]:
    with sqlite3.connect(project / "state" / "ledger.sqlite") as db:
        return {p: (size, mtime) for p, size, mtime in db.execute("SELECT path, size, mtime_ns FROM inputs")}


def test_touched_inputs_are_recognised_by_their_bytes(project: Path, cli: Callable[..., tuple[int, str, str]]) -> None:
    """Inputs whose stat changed are hashed when they are read, in the pipeline; one that holds
    the bytes it held is skipped (and its new stat remembered), beside new inputs or alone."""
    assert cli("run", "--workers", "1", "--no-progress")[0] == 0
    before = sorted((p.name, p.stat().st_size) for d in ("clean", "archive") for p in (project / d).iterdir())
    names = sorted(p.name for p in (project / "raw").iterdir())
    for name in names[:2]:
        os.utime(project / "raw" / name, ns=(1_600_000_000_000_000_000, 1_600_000_000_000_000_000))
    code, _, err = cli("run", "--workers", "1", "--no-progress")
    assert code == 0 and "nothing new" in err, err
    assert before == sorted((p.name, p.stat().st_size) for d in ("clean", "archive") for p in (project / d).iterdir())
    assert all(_input_stats(project)[n][1] == 1_600_000_000_000_000_000 for n in names[:2])

    for name in names[2:4]:
        os.utime(project / "raw" / name, ns=(1_700_000_000_000_000_000, 1_700_000_000_000_000_000))
    # sorted first: the touched inputs after it are hashed in the pipeline, not before the run starts
    (project / "raw" / "000_new.txt").write_text("Ein neuer Artikel über Züge und das Wetter in Berlin. " * 20, encoding="utf-8")
    code, _, err = cli("run", "--workers", "2", "--no-progress")
    assert code == 0 and "1 new inputs (5 unchanged)" in err, err
    assert "000_new.txt" in _articles(project / "clean")
    stats = _input_stats(project)
    assert len(stats) == 6 and all(stats[n][1] == 1_700_000_000_000_000_000 for n in names[2:4])
    assert "nothing new" in cli("run", "--workers", "1", "--no-progress")[2]


def test_binary_input_is_quarantined_and_the_rest_processed(project: Path, cli: Callable[..., tuple[int, str, str]]) -> None:
    (project / "raw" / "image.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4)
    code, _, err = cli("run", "--workers", "1", "--no-progress")
    assert code == 1
    assert "image.txt" in err and "binary" in err
    assert len(_articles(project / "clean")) == 5
    code, out, _ = cli("status", "--json")
    status = json.loads(out)
    assert status["counts"]["quarantined"] == 1 and status["counts"]["clean"] == 5
    # its bytes are not lost: a raw record holds them
    raws = []
    for f in sorted((project / "archive").glob("CLEANER-2*.warc.gz")):
        with open(f, "rb") as fh:
            raws += [r.content_stream().read() for r in ArchiveIterator(fh) if r.rec_type == "resource"]
    assert (project / "raw" / "image.txt").read_bytes() in raws


def test_archive_gives_back_every_input_byte_for_byte(project: Path, capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    assert main(["run", "--workers", "1", "--no-progress"]) == 0
    ledger = sqlite3.connect(project / "state" / "ledger.sqlite")
    rows = ledger.execute("SELECT input_path, raw_json, text_json FROM documents").fetchall()
    assert len(rows) == 5
    for path, raw_json, text_json in rows:
        record_id = json.loads(raw_json)["record_id"]
        capsysbinary.readouterr()
        assert main(["get", "--raw", record_id]) == 0
        assert capsysbinary.readouterr().out == (project / "raw" / path).read_bytes()
        text_id = json.loads(text_json)["record_id"]
        assert main(["get", text_id]) == 0
        assert capsysbinary.readouterr().out.decode("utf-8").strip()
    assert main(["verify"]) == 0


@pytest.mark.skipif(not (SHARED / "tools" / "validate_archive.py").exists(), reason="needs ../shared/tools")
def test_archive_passes_the_validator(project: Path, cli: Callable[..., tuple[int, str, str]]) -> None:
    cli("run", "--workers", "1", "--no-progress")
    res = subprocess.run([sys.executable, str(SHARED / "tools" / "validate_archive.py"), str(project / "archive")],
                         capture_output=True, text=True)
    assert "errors=0" in res.stdout.strip().splitlines()[-1], res.stdout[-3000:]


def test_a_copy_of_an_input_is_a_recorded_exact_duplicate(project: Path, cli: Callable[..., tuple[int, str, str]]) -> None:
    sample = project / "raw" / "003_67b898d0e7971327.txt"
    (project / "raw" / "zz_copy.txt").write_bytes(sample.read_bytes())
    code, _, err = cli("run", "--workers", "1", "--no-progress")
    assert code == 0, err
    articles = _articles(project / "clean")
    assert len(articles) == 5 and "zz_copy.txt" not in articles
    ledger = sqlite3.connect(project / "state" / "ledger.sqlite")
    (outcome, method, dup_of), = ledger.execute(
        "SELECT outcome, method, duplicate_of FROM documents WHERE input_path='zz_copy.txt'").fetchall()
    assert (outcome, method) == ("duplicate", "exact")
    assert ledger.execute("SELECT input_path FROM documents WHERE doc_id=?", (dup_of,)).fetchone()[0] == sample.name
    revisits = []
    for f in sorted((project / "archive").glob("CLEANER-2*.warc.gz")):
        with open(f, "rb") as fh:
            revisits += [r for r in ArchiveIterator(fh) if r.rec_type == "revisit"]
    assert len(revisits) == 1


@pytest.mark.skipif(shutil.which("wacz") is None, reason="py-wacz not installed (pip install wacz)")
def test_archive_packs_into_a_valid_wacz(project: Path, cli: Callable[..., tuple[int, str, str]]) -> None:
    cli("run", "--workers", "1", "--no-progress")
    warcs = sorted(str(p) for p in (project / "archive").glob("CLEANER-2*.warc.gz"))
    out = project / "x.wacz"
    subprocess.run(["wacz", "create", "-o", str(out), *warcs, "-p", str(project / "archive" / "pages.jsonl"),
                    "--copy-pages"], check=True, capture_output=True)
    res = subprocess.run(["wacz", "validate", "-f", str(out)], capture_output=True, text=True)
    assert "Validation succeeded" in res.stdout + res.stderr


def test_an_input_gone_before_it_is_read_is_quarantined_and_the_run_goes_on(
    project: Path, cli: Callable[..., tuple[int, str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file listed, then deleted before the pipeline reads it: quarantined as unreadable, with
    the reason in the ledger; the other inputs are cleaned."""
    from cleaner import sources

    gone = sorted(p.name for p in (project / "raw").iterdir())[3]
    listed = sources.discover

    def discover_then_delete(root: Path):  # type: ignore[no-untyped-def]
        items = list(listed(root))
        (project / "raw" / gone).unlink()
        return iter(items)

    monkeypatch.setattr(sources, "discover", discover_then_delete)
    code, _, err = cli("run", "--workers", "1", "--no-progress")
    assert code == 1 and gone in err, err
    with sqlite3.connect(project / "state" / "ledger.sqlite") as db:
        inputs = dict(db.execute("SELECT path, outcome || ': ' || coalesce(problem, '') FROM inputs"))
    assert inputs[gone].startswith("quarantined: unreadable: No such file or directory"), inputs[gone]
    assert sum(v.startswith("clean") for v in inputs.values()) == 4


def test_script_and_encoding_variants_of_a_chinese_article_are_its_duplicates_in_a_later_run(
    project: Path, cli: Callable[..., tuple[int, str, str]]
) -> None:
    """The Chinese sample (mostly traditional script, partly mojibake) archived in one run; in the
    next, its cleaned article in simplified script, in traditional script, that again as UTF-8
    read as cp1252 (mojibake), and its first two thirds: each is recorded as a duplicate of the
    archived article, not archived again (convert and repair run before the fingerprint, which
    shingles Han text by characters: without convert the simplified copy is not found)."""
    import importlib

    importlib.import_module("ftfy.bad_codecs")  # registers the "sloppy-windows-1252" codec

    from cleaner import clean_text
    from cleaner.language import opencc_converter

    sample = project / "raw" / "002_3055a5f10925dd99.txt"
    assert cli("run", "--workers", "1", "--no-progress")[0] == 0
    article = clean_text(sample.read_text(encoding="utf-8")).text
    traditional = opencc_converter("s2t").convert(article)
    assert traditional != article
    lines = traditional.splitlines()
    variants = {
        "zh_simplified.txt": article,
        "zh_traditional.txt": traditional,
        "zh_traditional_mojibake.txt": traditional.encode("utf-8").decode("sloppy-windows-1252"),
        "zh_truncated.txt": "\n".join(lines[: len(lines) * 2 // 3]),
    }
    for name, text in variants.items():
        (project / "raw" / name).write_text(text, encoding="utf-8")
    code, _, err = cli("run", "--workers", "1", "--no-progress")
    assert code == 0, err
    with sqlite3.connect(project / "state" / "ledger.sqlite") as db:
        kept = db.execute("SELECT doc_id FROM documents WHERE input_path = ?", (sample.name,)).fetchone()[0]
        rows = dict(db.execute(
            "SELECT input_path, outcome || ' ' || duplicate_of FROM documents WHERE input_path LIKE 'zh_%'"))
    assert rows == {name: f"duplicate {kept}" for name in variants}
