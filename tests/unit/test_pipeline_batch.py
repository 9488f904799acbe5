"""finish_batch runs the finish stages a stage at a time over a batch: the same documents as
`finish` one by one (the stages are per-document functions; only the order of work changes)."""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
from pathlib import Path

import pytest

from cleaner.config import Config
from cleaner.document import Document, Source, document_id
from cleaner.pipeline import FinishTask, finish, finish_batch, prepare
from tests.conftest import SAMPLES, make_strip_slow

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


def test_a_slow_document_in_a_batch_is_quarantined_on_its_budget_and_the_rest_finish(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The batch keeps the alarm handler installed across its documents; each still gets its own
    budget: the slow one is quarantined naming it, the ones after it finish."""
    cfg = Config()
    cfg = dataclasses.replace(cfg, run=dataclasses.replace(cfg.run, doc_timeout_s=0.5))
    raws = [(p.read_bytes(), p.name) for p in sorted(SAMPLES.iterdir()) if p.is_file()][:3]
    prepared = [prepare(_doc(raw, path), cfg) for raw, path in raws]
    slow = prepared[1].source.path
    make_strip_slow(monkeypatch, slow)
    done = finish_batch(FinishTask(prepared, None), cfg)
    assert [d.outcome.value for d in done] == ["clean", "quarantined", "clean"]
    assert done[1].problem is not None and f"timeout: {slow} took longer than the 0.5s budget" in done[1].problem
