"""stage_clock.py still finds every stage it clocks, and the clocks add up to the run."""

from __future__ import annotations

import importlib
import json
import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import stage_clock  # noqa: E402

RAW = Path(__file__).resolve().parent.parent / "raw"


def _resolve(module: str, name: str) -> object:
    owner: object = importlib.import_module(module)
    for part in name.split("."):
        owner = getattr(owner, part)
    return owner


def test_every_stage_is_clocked_on_the_samples(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copytree(RAW, tmp_path / "raw")
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "stages.json"
    before = [_resolve(m, n) for m, n, _ in stage_clock.STAGES]
    code = stage_clock.main(["--json", str(out), "--input", "raw", "--clean", "clean", "--archive", "archive",
                             "--state", "state"])
    assert before == [_resolve(m, n) for m, n, _ in stage_clock.STAGES]  # the clocks are gone again
    assert code == 0
    totals = json.loads(out.read_text("utf-8"))
    seen = {label for label, (_, calls) in totals.items() if calls}
    wanted = {label for _, _, label in stage_clock.STAGES} - {"  warc write (duplicate)"}  # no duplicates here
    assert wanted <= seen
    top = sum(s for label, (s, _) in totals.items() if not label.startswith(" ") and label != "TOTAL process CPU")
    assert 0 < top <= totals["TOTAL process CPU"][0]
