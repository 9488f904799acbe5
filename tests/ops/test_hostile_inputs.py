"""Random and hostile bytes and file names: the run never crashes and every input is accounted for."""

from __future__ import annotations

import gzip
import json
import os
import shutil
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cleaner.cli import main

SUFFIXES = [".txt", ".html", ".htm", ".warc", ".warc.gz", ".jsonl", ".html.gz", ".arc", ""]

contents = st.one_of(
    st.binary(max_size=2000),
    st.text(max_size=2000).map(lambda t: t.encode("utf-8", "surrogatepass")),
    st.text(max_size=500).map(lambda t: b"WARC/1.1\r\nContent-Length: 99\r\n\r\n" + t.encode("utf-8", "replace")),
    st.binary(max_size=500).map(lambda b: gzip.compress(b)[: max(1, len(b) // 2)]),
    st.text(max_size=300).map(lambda t: ("{\"html\": " + json.dumps(t) + "}\n{bad json\n").encode()),
    st.just(b""),
    st.just(b"\x00" * 100),
)
names = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="/\x00"), min_size=1, max_size=30)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(files=st.lists(st.tuples(names, st.sampled_from(SUFFIXES), contents), min_size=1, max_size=6))
def test_hostile_inputs_are_all_accounted_for(tmp_path_factory: object, files: list[tuple[str, str, bytes]]) -> None:
    root = Path(tmp_path_factory.mktemp("hostile"))  # type: ignore[attr-defined]
    raw = root / "raw"
    raw.mkdir()
    written = set()
    for i, (name, suffix, data) in enumerate(files):
        fname = f"{i}-{name}{suffix}".replace(os.sep, "_")
        if fname.startswith("."):
            fname = "_" + fname
        try:
            (raw / fname).write_bytes(data)
        except OSError:  # a name the file system refuses is not an input
            continue
        written.add(fname)
    cwd = os.getcwd()
    os.chdir(root)
    try:
        code = main(["run", "--workers", "1", "--no-progress", "-q"])
        assert code in (0, 1)
        ledger = __import__("sqlite3").connect(root / "state" / "ledger.sqlite")
        handled = {row[0] for row in ledger.execute("SELECT path FROM inputs")}
        assert handled == written
        # every document is accounted for with an outcome; quarantined ones say why
        for outcome, problem in ledger.execute("SELECT outcome, problem FROM documents"):
            assert outcome in ("clean", "duplicate", "quarantined")
            assert outcome != "quarantined" or problem
        assert main(["run", "--workers", "1", "--no-progress", "-q"]) == 0  # nothing new the second time
    finally:
        os.chdir(cwd)
        shutil.rmtree(root, ignore_errors=True)
