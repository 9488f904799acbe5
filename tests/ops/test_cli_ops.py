"""Cron-grade behaviour of the CLI: dry runs, JSON logs, progress without a TTY, status, exit
codes 0/1/2/3/75/143, configuration precedence. In-process `main([...])` where possible."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from cleaner import config as config_mod
from cleaner.state.lock import StateLock
from tests.conftest import SAMPLES, make_strip_slow

Cli = Callable[..., tuple[int, str, str]]
RUN = ("run", "--workers", "1", "--no-progress")
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4


def _tree(root: Path) -> dict[str, tuple[int, int, str]]:
    """Every path under root (folders too) with size, mtime and content hash."""
    out: dict[str, tuple[int, int, str]] = {}
    for p in sorted(root.rglob("*")):
        st = p.stat()
        digest = hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir"
        out[str(p.relative_to(root))] = (st.st_size if p.is_file() else 0, st.st_mtime_ns, digest)
    return out


def _json_lines(err: str) -> list[dict]:
    lines = [ln for ln in err.splitlines() if ln.strip()]
    events = [json.loads(ln) for ln in lines]  # raises on any line that is not JSON
    for e in events:
        assert isinstance(e, dict) and {"ts", "level", "event"} <= e.keys(), e
    return events


# --dry-run ----------------------------------------------------------------------------------

def test_dry_run_on_a_fresh_folder_writes_nothing(project: Path, cli: Cli) -> None:
    before = _tree(project)
    code, out, err = cli(*RUN, "--dry-run")
    assert code == 0, err
    assert _tree(project) == before
    assert not any((project / d).exists() for d in ("clean", "archive", "state"))
    assert "dry run, nothing written" in err and "5 new inputs" in err and "5 clean" in err
    assert out == ""  # diagnostics on stderr only


def test_dry_run_after_a_real_run_changes_nothing_and_predicts_the_run(project: Path, cli: Cli) -> None:
    assert cli(*RUN)[0] == 0
    (project / "raw" / "image.txt").write_bytes(PNG)
    before = _tree(project)
    code, _, err = cli(*RUN, "--dry-run")
    assert code == 1  # the real run would quarantine one input
    assert _tree(project) == before  # clean/, archive/, state/ (ledger bytes and mtimes) untouched
    assert "1 new inputs (5 unchanged)" in err and "image.txt" in err and "binary" in err
    code, _, err = cli(*RUN)  # the real run then does exactly that
    assert code == 1 and "1 new inputs (5 unchanged)" in err


# logs and progress --------------------------------------------------------------------------

def test_json_logs_every_line_is_an_event(project: Path, cli: Cli) -> None:
    (project / "raw" / "image.txt").write_bytes(PNG)
    code, _, err = cli(*RUN, "-v", "--log-format", "json")
    assert code == 1
    events = _json_lines(err)
    quarantined = [e for e in events if e["event"] == "quarantined"]
    assert [(e["path"], e["level"]) for e in quarantined] == [("image.txt", "warning")]
    assert "binary" in quarantined[0]["reason"]
    summary = [e for e in events if e["event"] == "summary"]
    assert len(summary) == 1 and summary[0]["data"]["quarantined"] == 1 and summary[0]["data"]["clean"] == 5
    # errors are events too
    code, _, err = cli(*RUN, "--log-format", "json", "--input", "no-such-folder")
    assert code == 2
    (event,) = _json_lines(err)
    assert event["event"] == "error" and "no-such-folder" in event["msg"]


def test_progress_lines_when_stderr_is_not_a_tty(project: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLEANER_RUN_PROGRESS_EVERY_S", "0")
    monkeypatch.setenv("CLEANER_RUN_CHECKPOINT_DOCS", "1")
    code, _, err = cli("run", "--workers", "1", "-v")  # no --no-progress: a bar would be drawn on a TTY
    assert code == 0
    assert "\r" not in err and "\x1b[" not in err  # no bar, no cursor control in a cron log
    progress = [ln for ln in err.splitlines() if "progress:" in ln]
    assert len(progress) >= 3 and "5/5 inputs, 5 documents" in progress[-1]
    (project / "raw" / "image.txt").write_bytes(PNG)
    code, _, err = cli("run", "--workers", "1", "-v", "--log-format", "json")
    events = [e for e in _json_lines(err) if e["event"] == "progress"]
    assert events and events[-1]["data"] == {"done": 1, "total": 1, "documents": 1}


def test_default_verbosity_has_no_progress_lines(project: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLEANER_RUN_PROGRESS_EVERY_S", "0")
    code, _, err = cli("run", "--workers", "1")
    assert code == 0 and "progress:" not in err
    assert len(err.strip().splitlines()) <= 2  # the summary (and the rule line)


# status ---------------------------------------------------------------------------------------

def test_status_json(project: Path, cli: Cli) -> None:
    (project / "raw" / "image.txt").write_bytes(PNG)
    assert cli(*RUN)[0] == 1
    code, out, err = cli("status", "--json")
    assert code == 0 and err == ""
    data = json.loads(out)
    assert data["counts"] == {"clean": 5, "duplicate": 0, "quarantined": 1}
    (last,) = data["runs"]
    assert last["status"] == "done" and last["summary"]["inputs_new"] == 6 and last["summary"]["quarantined"] == 1
    (q,) = data["quarantined"]
    assert q["path"] == "image.txt" and "binary" in q["problem"] and q["run_id"] == last["run_id"]
    code, out, _ = cli("status")
    assert code == 0 and "5 clean" in out and "quarantined image.txt" in out


# exit codes -----------------------------------------------------------------------------------

def test_an_empty_input_folder_says_so(tmp_path: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "raw").mkdir()
    code, _, err = cli(*RUN)
    assert code == 0 and "the input folder holds no inputs" in err


def test_exit_0_then_0_for_nothing_new_and_1_for_quarantine(project: Path, cli: Cli) -> None:
    assert cli(*RUN)[0] == 0
    code, _, err = cli(*RUN)
    assert code == 0 and "nothing new" in err
    (project / "raw" / "image.txt").write_bytes(PNG)
    code, _, err = cli(*RUN)
    assert code == 1 and "quarantined image.txt" in err


def test_quiet_prints_nothing_unless_inputs_were_quarantined_then_one_line(project: Path, cli: Cli) -> None:
    """`cleaner run -q` from cron: silent on a good night; on a night with bad inputs one error
    line (cron mails it) that says how many, at which stage, one example, and where the list is."""
    code, _, err = cli("run", "--workers", "1", "-q")
    assert (code, err) == (0, "")
    (project / "raw" / "image.txt").write_bytes(PNG)
    (project / "raw" / "empty.txt").write_bytes(b"")
    code, _, err = cli("run", "--workers", "1", "-q")
    (line,) = err.strip().splitlines()
    assert code == 1 and "2 of 2 documents quarantined" in line and "(decode 1, read 1)" in line
    assert "e.g. empty.txt: read: empty file" in line
    assert "quarantine.jsonl" in line and "cleaner status" in line
    assert cli("run", "--workers", "1", "-q")[1:] == ("", "")  # reported once: the next run has nothing new


@pytest.mark.parametrize("setup, args", [
    (None, ("run", "--frobnicate")),
    (None, ("run", "--input", "no-such-folder")),
    (None, ("run", "--workers", "many")),
    (None, ()),
    ("toml", ("run",)),
    ("env", ("run",)),
    (None, ("run", "--config", "missing.toml")),
    (None, ("run", "--clean", "raw")),
])
def test_exit_2_for_usage_and_config_errors(project: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch,
                                            setup: str | None, args: tuple[str, ...]) -> None:
    if setup == "toml":
        (project / "cleaner.toml").write_text("[run]\nfrobnicate = 1\n", encoding="utf-8")
    elif setup == "env":
        monkeypatch.setenv("CLEANER_RUN_FROBNICATE", "1")
    code, _, err = cli(*args)
    assert code == 2, err
    assert err.strip()
    assert not any((project / d).exists() for d in ("clean", "archive", "state"))  # nothing was done


@pytest.mark.parametrize("command", [RUN, (*RUN, "--dry-run"), ("status",), ("report",)])
def test_exit_3_when_the_state_is_unreadable(project: Path, cli: Cli, command: tuple[str, ...]) -> None:
    (project / "state").mkdir()
    (project / "state" / "ledger.sqlite").write_bytes(b"this is not SQLite " * 300)
    code, _, err = cli(*command)
    assert code == 3
    assert "ledger.sqlite" in err and "Traceback" not in err
    assert not (project / "clean").exists() and not (project / "archive").exists()


def test_exit_75_when_another_run_holds_the_lock(project: Path, cli: Cli) -> None:
    with StateLock(project / "state"):
        code, _, err = cli(*RUN)
        assert code == 75
        assert f"pid {os.getpid()}" in err and len(err.strip().splitlines()) == 1
        assert cli(*RUN, "--dry-run")[0] == 0  # a dry run takes no lock
    assert not (project / "clean").exists()
    assert cli(*RUN)[0] == 0


# signals ----------------------------------------------------------------------------------------

def _distinct_inputs(raw: Path, n: int) -> None:
    samples = [p.read_text(encoding="utf-8") for p in sorted(SAMPLES.iterdir())]
    for i in range(n):
        (raw / f"s{i:04d}.txt").write_text(f"Notiz {i} zum Stadtrat, Sitzung {i * 37 % 1000}.\n\n{samples[i % 5]}",
                                           encoding="utf-8")


def test_sigterm_stops_cleanly_with_143_and_the_next_run_finishes(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    n = 300
    _distinct_inputs(raw, n)
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLEANER_")}
    env["CLEANER_RUN_CHECKPOINT_DOCS"] = "2"  # many small checkpoints: the signal lands mid-run
    cmd = [sys.executable, "-m", "cleaner", "run", "--workers", "1", "-q"]
    proc = subprocess.Popen(cmd, cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    ledger = tmp_path / "state" / "ledger.sqlite"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:  # wait for a committed checkpoint
        if ledger.exists():
            try:
                with sqlite3.connect(f"file:{ledger}?mode=ro", uri=True) as db:
                    if db.execute("SELECT COUNT(*) FROM documents").fetchone()[0] >= 4:
                        break
            except sqlite3.Error:
                pass
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 143, err.decode()
    assert b"interrupted by SIGTERM" in err and b"Traceback" not in err
    assert not [p for p in tmp_path.rglob("*") if p.name.endswith((".open", ".tmp"))]
    status = json.loads(subprocess.run([sys.executable, "-m", "cleaner", "status", "--json"], cwd=tmp_path, env=env,
                                       capture_output=True, check=True).stdout)
    assert status["runs"][0]["status"] == "interrupted"
    assert 0 < sum(status["counts"].values()) < n
    verify = subprocess.run([sys.executable, "-m", "cleaner", "verify"], cwd=tmp_path, env=env, capture_output=True)
    assert verify.returncode == 0, verify.stdout.decode()[-2000:]

    rerun = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, timeout=300)
    assert rerun.returncode in (0, 1), rerun.stderr.decode()
    status = json.loads(subprocess.run([sys.executable, "-m", "cleaner", "status", "--json"], cwd=tmp_path, env=env,
                                       capture_output=True, check=True).stdout)
    assert sum(status["counts"].values()) == n
    assert status["counts"]["quarantined"] == 0  # a stop request never turns into a quarantined document
    ids = [json.loads(line)["id"] for p in (tmp_path / "clean").glob("part-*.jsonl")
           for line in p.read_text(encoding="utf-8").splitlines()]
    assert len(ids) == len(set(ids)) == status["counts"]["clean"]
    raw_records: Counter[str] = Counter()
    for f in (tmp_path / "archive").glob("CLEANER-2*.warc.gz"):
        with open(f, "rb") as fh:
            for rec in ArchiveIterator(fh):
                if rec.rec_type in ("resource", "revisit"):
                    raw_records[rec.rec_headers.get_header("WARC-Target-URI")] += 1
    assert len(raw_records) == n and set(raw_records.values()) == {1}


# configuration ----------------------------------------------------------------------------------

def test_config_prints_toml_that_round_trips(project: Path, cli: Cli) -> None:
    (project / "cleaner.toml").write_text('[dedup]\nthreshold = 0.8\n[strip]\nlanguages = ["de"]\n', encoding="utf-8")
    code, out, _ = cli("config")
    assert code == 0
    (project / "effective.toml").write_text(out, encoding="utf-8")
    again = config_mod.load(project / "effective.toml", environ={})
    assert again == config_mod.load(None, environ={})
    assert again.dedup.threshold == 0.8 and again.strip.languages == ("de",)
    code, out2, _ = cli("config", "--config", "effective.toml")
    assert code == 0 and out2 == out


def test_precedence_file_then_env_then_flags(project: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    (project / "cleaner.toml").write_text('[run]\ninput = "from-file"\nworkers = 2\n[dedup]\nthreshold = 0.9\n',
                                          encoding="utf-8")
    code, _, err = cli(*RUN)
    assert code == 2 and "from-file" in err  # the file beats the default raw/
    monkeypatch.setenv("CLEANER_RUN_INPUT", "from-env")
    code, _, err = cli(*RUN)
    assert code == 2 and "from-env" in err  # the environment beats the file
    code, _, err = cli(*RUN, "--input", "raw")
    assert code == 0, err  # the flag beats both
    monkeypatch.setenv("CLEANER_RUN_WORKERS", "3")
    cfg = json.loads(cli("config", "--json")[1])
    assert cfg["run"]["workers"] == 3 and cfg["run"]["input"] == str(project / "from-env") and cfg["dedup"]["threshold"] == 0.9
    flags = config_mod.load(None, flags={"run": {"workers": 1}})
    assert flags.run.workers == 1 and flags.dedup.threshold == 0.9


def test_explain_names_an_input_as_the_run_did(project: Path, cli: Cli) -> None:
    """`cleaner explain raw/<site>/<page>`: the page's site is its sub-folder, as in the run, so
    the site's template counts decide its lines, and the ledger finds its outcome (document ids
    include the path relative to the input folder)."""
    site = project / "raw" / "news.example"
    site.mkdir()
    menu = "Harbour Gazette Regional Edition"  # no rule knows it: only the site's pages tell
    for i in range(5):
        body = "\n\n".join(
            f"Story {i} paragraph {k}: the council met on Tuesday and agreed on a plan for the "
            f"harbour, the school and road number {i * 10 + k}, said the mayor after the vote." for k in range(4)
        )
        (site / f"p{i}.txt").write_text(f"{menu}\n\n{body}\n", encoding="utf-8")
    assert cli(*RUN)[0] == 0
    code, out, _ = cli("explain", "raw/news.example/p4.txt")
    assert code == 0
    assert "site: news.example" in out
    assert "- DROP  Harbour Gazette Regional Edition  [template: on 5 of 5 pages of news.example]" in out
    assert "ledger: clean in run" in out
    code, out, _ = cli("explain", str(SAMPLES / "000_65eea8b01307b085.txt"))  # outside the input folder
    assert code == 0 and "ledger:" in out


def test_explain_finds_an_input_that_a_run_with_another_input_folder_named(project: Path, cli: Cli) -> None:
    """`cleaner run --input crawl/raw`, then `cleaner explain crawl/raw/<site>/<page>` without the
    flag: the ledger knows these bytes as "<site>/<page>", so that is the name (and the site)."""
    site = project / "crawl" / "raw" / "news.example"
    site.mkdir(parents=True)
    text = "Harbour Gazette\n\n" + "The council met on Tuesday and agreed on a plan for the harbour, the school and the road. " * 6
    (site / "p1.txt").write_text(text, encoding="utf-8")
    (site / "p2.txt").write_text(text, encoding="utf-8")
    assert cli("run", "--input", "crawl/raw", "--no-progress", "-q")[0] == 0
    code, out, _ = cli("explain", "crawl/raw/news.example/p2.txt")
    assert code == 0
    assert "site: news.example" in out and "ledger: duplicate" in out and "news.example/p1.txt" in out


@pytest.mark.parametrize("workers", ["1", "2"])
def test_a_document_over_its_time_budget_is_quarantined_naming_it(
    project: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch, workers: str
) -> None:
    """run.doc_timeout_s: the slow document is quarantined with the budget it overran (in the
    process pool too: the forked workers inherit the slow strip), the run goes on and says so."""
    slow = sorted(p.name for p in (project / "raw").iterdir())[2]
    make_strip_slow(monkeypatch, slow)
    monkeypatch.setenv("CLEANER_RUN_DOC_TIMEOUT_S", "0.5")
    code, _, err = cli("run", "--workers", workers, "--no-progress")
    assert code == 1 and slow in err, err
    with sqlite3.connect(project / "state" / "ledger.sqlite") as db:
        rows = dict(db.execute("SELECT input_path, outcome || ': ' || coalesce(problem, '') FROM documents"))
    assert rows[slow] == f"quarantined: budget: timeout: {slow} took longer than the 0.5s budget"
    assert sum(v.startswith("clean") for v in rows.values()) == 4


def test_get_finds_a_document_by_its_id_and_says_what_it_cannot_find(project: Path, cli: Cli) -> None:
    """`cleaner get ID`: the id of clean/ (and of the ledger) works like a record id; a duplicate
    gives its kept copy's text; an unknown key is an error naming it, not a traceback."""
    sample = sorted((project / "raw").iterdir())[0]
    (project / "raw" / "zz_copy.txt").write_bytes(sample.read_bytes())
    assert cli(*RUN)[0] == 0
    article = next(json.loads(line) for p in sorted((project / "clean").glob("part-*.jsonl"))
                   for line in p.read_text(encoding="utf-8").splitlines() if json.loads(line)["source"] == sample.name)
    code, out, _ = cli("get", article["id"])
    assert code == 0 and out == article["text"]
    with sqlite3.connect(project / "state" / "ledger.sqlite") as db:
        (copy_id,) = db.execute("SELECT doc_id FROM documents WHERE input_path='zz_copy.txt'").fetchone()
    code, out, err = cli("get", copy_id)
    assert code == 0 and out == article["text"] and f"duplicate of {article['id']}" in err
    raw = subprocess.run([sys.executable, "-m", "cleaner", "get", copy_id, "--raw"], cwd=project, capture_output=True)
    assert raw.returncode == 0 and raw.stdout == sample.read_bytes()  # the revisit, resolved
    code, _, err = cli("get", "0" * 32)
    assert code == 2 and "no document with this id" in err
    code, _, err = cli("get", "https://nowhere.example/page")
    assert code == 2 and "https://nowhere.example/page: no cleaned text in the archive" in err


def test_get_by_the_url_of_a_near_duplicate_gives_its_kept_copys_text(project: Path, cli: Cli) -> None:
    """`cleaner get URL` works for a URL whose page was a near duplicate as `get ID` does: the
    archive holds that page's raw record but no text of its own, so the kept copy's text comes,
    said on stderr. --raw still gives the page's own bytes."""
    import io

    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    text = " ".join(f"Sentence {i} of the harbour story says the council met on Tuesday about berth {i}." for i in range(30))
    pages = {"http://a.example/story": text, "http://b.example/copy": text + " One more line from the second site."}
    with open(project / "raw" / "crawl.warc.gz", "wb") as fh:
        w = WARCWriter(fh, gzip=True)
        for url, body in pages.items():
            html = f"<html><body><article><h1>Harbour</h1><p>{body}</p></article></body></html>".encode()
            sh = StatusAndHeaders("200 OK", [("Content-Type", "text/html")], protocol="HTTP/1.1")
            w.write_record(w.create_warc_record(url, "response", payload=io.BytesIO(html), http_headers=sh))
    assert cli(*RUN)[0] == 0
    code, kept, _ = cli("get", "http://a.example/story")
    assert code == 0 and "berth 29" in kept
    code, out, err = cli("get", "http://b.example/copy")
    assert code == 0 and out == kept and "http://b.example/copy is a duplicate of" in err
    raw = subprocess.run([sys.executable, "-m", "cleaner", "get", "http://b.example/copy", "--raw"], cwd=project,
                         capture_output=True)
    assert raw.returncode == 0 and b"One more line from the second site." in raw.stdout


def test_get_finds_a_document_by_the_record_id_of_its_input_record(project: Path, cli: Cli) -> None:
    """The archive copies an input WARC record under an id of its own; the input record's
    WARC-Record-ID (with or without <>) still finds its raw bytes and its cleaned text."""
    from io import BytesIO

    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    body = ("<html><head><title>Eine Seite</title></head><body><article><p>"
            + "Ein Absatz mit genug Wörtern, damit er als Artikeltext gilt und bleibt. " * 6
            + "</p></article></body></html>").encode()
    buf = BytesIO()
    writer = WARCWriter(buf, gzip=True)
    head = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8")], protocol="HTTP/1.1")
    rec = writer.create_warc_record("http://example.com/seite", "response", payload=BytesIO(body), http_headers=head)
    writer.write_record(rec)
    (project / "raw" / "crawl.warc.gz").write_bytes(buf.getvalue())
    rid = rec.rec_headers.get_header("WARC-Record-ID")
    assert cli(*RUN)[0] == 0
    raw = subprocess.run([sys.executable, "-m", "cleaner", "get", rid, "--raw"], cwd=project, capture_output=True)
    assert raw.returncode == 0 and raw.stdout.endswith(body)
    code, out, _ = cli("get", rid.strip("<>"))
    assert code == 0 and out.startswith("Ein Absatz mit genug Wörtern")


def test_a_warc_over_the_size_limit_is_cleaned_a_record_at_a_time(project: Path, cli: Cli,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """`run.max_input_bytes` bounds a record of a WARC, not the file: a crawl's WARC bigger than
    the limit is read from disk record by record, and every page in it is cleaned."""
    from io import BytesIO

    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    buf = BytesIO()
    writer = WARCWriter(buf, gzip=True)
    for i in range(12):
        body = (f"<html><head><title>Seite {i}</title></head><body><article><p>"
                + f"Absatz {i} mit genug eigenen Wörtern, Nummer {i * 7919}, damit er Artikeltext bleibt. " * 8
                + "</p></article></body></html>").encode()
        head = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8")], protocol="HTTP/1.1")
        writer.write_record(writer.create_warc_record(f"http://example.com/{i}", "response", payload=BytesIO(body),
                                                      http_headers=head))
    data = buf.getvalue()
    for sample in (project / "raw").iterdir():  # plain files over this tiny limit are quarantined
        sample.unlink()
    (project / "raw" / "crawl.warc.gz").write_bytes(data)
    monkeypatch.setenv("CLEANER_RUN_MAX_INPUT_BYTES", str(len(data) // 3))
    code, _, err = cli(*RUN)
    assert code == 0, err
    with sqlite3.connect(project / "state" / "ledger.sqlite") as db:
        rows = db.execute("SELECT outcome, count(*) FROM documents WHERE input_path = 'crawl.warc.gz' GROUP BY 1").fetchall()
    assert rows == [("clean", 12)]


def test_explain_compares_a_near_duplicate_with_its_kept_copy(project: Path, cli: Cli) -> None:
    """For a near duplicate, `cleaner explain` reads the kept copy's text back from the archive
    and says how the two differ: their exact overlap, and the lines each has that the other
    lacks or has changed (what a reviewer checks before trusting the decision)."""
    topics = ["ferries", "fishing fleet", "lighthouse", "warehouses", "tram line", "sea wall", "market hall",
              "cycle path", "museum ship"]
    places = ["north pier", "east basin", "old town", "river mouth", "west quay", "dry dock", "fish market",
              "station square", "castle hill"]
    paragraphs = [
        f"Paragraph {k} of the harbour story: on the {topic} near the {place}, the council met on Tuesday "
        f"and spent {k + 2} hours on what the {topic} would cost the {place} in the coming years."
        for k, (topic, place) in enumerate(zip(topics, places))
    ]
    edited = paragraphs[:8]
    edited[3] = edited[3].replace("met on Tuesday", "gathered on Wednesday")
    edited.append("A reader wrote in to say that the ferry timetable will change in the spring as well.")
    (project / "raw" / "a_story.txt").write_text("Harbour plan agreed\n\n" + "\n\n".join(paragraphs) + "\n",
                                                 encoding="utf-8")
    (project / "raw" / "b_copy.txt").write_text("Harbour plan agreed\n\n" + "\n\n".join(edited) + "\n",
                                                encoding="utf-8")
    assert cli(*RUN)[0] == 0
    code, out, _ = cli("explain", "raw/b_copy.txt")
    assert code == 0 and "duplicate (near" in out and "(a_story.txt)" in out, out
    lines = out.splitlines()
    overlap = next(line for line in lines if "exact overlap of the two cleaned texts" in line)
    assert "containment 0.9" in overlap  # one changed paragraph and one added line of 10
    changed = next(line for line in lines if line.strip().startswith("changed here (1 of"))
    assert "Paragraph 3 of the harbour story" in changed
    only_here = next(line for line in lines if line.strip().startswith("only here (1 of"))
    assert "A reader wrote in" in only_here
    only_kept = next(line for line in lines if line.strip().startswith("only in the kept copy (1 of"))
    assert "Paragraph 8 of the harbour story" in only_kept
    # without the archive the decision is still explained, and the comparison says why it is missing
    code, out, _ = cli("explain", "raw/b_copy.txt", "--archive", "elsewhere")
    assert code == 0 and "evidence: " in out and "could not be read from the archive" in out


def test_explain_gives_the_evidence_of_a_near_duplicate(project: Path, cli: Cli) -> None:
    """A teaser (the first paragraphs of a story) is a near duplicate of the story: `cleaner
    explain` names the kept copy and the evidence the index weighed, and the duplicate's archive
    metadata record carries the same words."""
    paragraphs = [
        f"Paragraph {k} of the harbour story: the council met on Tuesday and agreed on a plan for "
        f"the quay, the old customs house and berth number {k * 7}, the mayor said after the vote." for k in range(9)
    ]
    (project / "raw" / "story.txt").write_text("Harbour plan agreed\n\n" + "\n\n".join(paragraphs) + "\n", encoding="utf-8")
    (project / "raw" / "teaser.txt").write_text("Harbour plan agreed\n\n" + "\n\n".join(paragraphs[:3]) + "\n",
                                                encoding="utf-8")
    assert cli(*RUN)[0] == 0
    code, out, _ = cli("explain", "raw/teaser.txt")
    assert code == 0 and "duplicate (near" in out and "(story.txt)" in out
    evidence = next(line for line in out.splitlines() if line.strip().startswith("evidence: "))
    assert "containment 1.00" in evidence and "both start alike" in evidence
    code, out, _ = cli("explain", "raw/story.txt")  # the kept copy lists its duplicates with the same words
    assert code == 0 and f"kept copy of teaser.txt (near, similarity 1.000): {evidence.strip()[len('evidence: '):]}" in out
    notes = [
        rec.content_stream().read().decode()
        for path in sorted((project / "archive").glob("*.warc.gz"))
        for rec in ArchiveIterator(path.open("rb"))
        if rec.rec_type == "metadata"
    ]
    assert any(evidence.strip() in note for note in notes)
