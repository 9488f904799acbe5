"""finish_batch runs the finish stages a stage at a time over a batch: the same documents as
`finish` one by one (the stages are per-document functions; only the order of work changes)."""

from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path

from cleaner.config import Config
from cleaner.document import Document, Source, document_id
from cleaner.pipeline import FinishTask, finish, finish_batch, prepare
from tests.conftest import SAMPLES

CASES = Path(__file__).resolve().parents[1] / "cases"


def _doc(raw: bytes, path: str) -> Document:
    sha = hashlib.sha256(raw).hexdigest()
    return Document(id=document_id(sha, None, path), source=Source(path=path, sha256=sha), raw=raw)


def test_finish_batch_equals_finish_one_by_one() -> None:
    cfg = Config()
    raws = [(p.read_bytes(), p.name) for p in sorted(SAMPLES.iterdir()) if p.is_file()]
    raws += [(p.read_bytes(), p.name) for p in sorted((CASES / "extract").glob("*.html"))]
    cases = json.loads((CASES / "convert" / "cases.json").read_text(encoding="utf-8"))
    raws += [(c["input"].encode("utf-8"), f"convert-{i}.txt") for i, c in enumerate(cases)]
    raws += [(b"", "empty.txt"), (b"\x00\x01binary\xff", "binary.txt"), (b"Menu\nHome\n", "menu-only.txt")]
    prepared = [prepare(_doc(raw, path), cfg) for raw, path in raws]
    assert sum(d.outcome.value == "clean" for d in prepared) >= 10
    one_by_one = [finish(d, cfg) for d in copy.deepcopy(prepared)]
    batched = finish_batch(FinishTask(copy.deepcopy(prepared), None), cfg)
    assert len(batched) == len(one_by_one)
    for a, b in zip(batched, one_by_one, strict=True):
        assert (a.outcome, a.problem, a.text, a.language, a.title) == (b.outcome, b.problem, b.text, b.language, b.title)
        assert a.edits == b.edits
        assert (a.fingerprint is None) == (b.fingerprint is None)
        if a.fingerprint is not None:
            assert a.fingerprint == b.fingerprint
