import json
from pathlib import Path

from cleaner.config import CorpusConfig
from cleaner.document import Document, Edit, Source
from cleaner.sinks.corpus import CorpusWriter


def _doc(i: int) -> Document:
    d = Document(id=f"id{i}", source=Source(path=f"sub/{i}.txt", sha256="ab" * 32), raw=b"x", text=f"Text {i} „quoted“")
    d.language = "de"
    d.edits.append(Edit("strip", "de:newsletter", "remove", 0, 3, "abc"))
    return d


def test_shards_are_invisible_until_closed_then_complete(tmp_path: Path) -> None:
    w = CorpusWriter(tmp_path, CorpusConfig(shard_docs=2), "20250101000000")
    for i in range(5):
        w.write(_doc(i))
    assert not list(tmp_path.glob("*.jsonl"))  # nothing published yet
    files = w.close()
    assert [p.name for p in files] == [f"part-20250101000000-0000{i}.jsonl" for i in range(3)]
    rows = [json.loads(line) for p in files for line in p.read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in rows] == [f"id{i}" for i in range(5)]
    first = rows[0]
    assert first["text"] == "Text 0 „quoted“" and first["source"] == "sub/0.txt" and first["lang"] == "de"
    assert first["metadata"]["edits"] == {"strip:de:newsletter": 1}
    assert not list(tmp_path.glob("*.open"))


def test_abort_leaves_nothing(tmp_path: Path) -> None:
    w = CorpusWriter(tmp_path, CorpusConfig(write_txt=True), "20250101000000")
    w.write(_doc(1))
    w.abort()
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


def test_serials_continue_within_the_same_stamp(tmp_path: Path) -> None:
    for _ in range(2):
        w = CorpusWriter(tmp_path, CorpusConfig(), "20250101000000")
        w.write(_doc(1))
        w.close()
    assert sorted(p.name for p in tmp_path.glob("*.jsonl")) == [
        "part-20250101000000-00000.jsonl", "part-20250101000000-00001.jsonl"]
