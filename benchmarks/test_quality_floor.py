"""Pinned quality floors: a change that scores below a floor in quality_floors.json fails here.

Each test scores one stage on ../shared/eval data and skips when that data is not there
(the repository's own tests never need it).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FLOORS = json.loads((ROOT / "benchmarks" / "quality_floors.json").read_text("utf-8"))
TEXT_CASES = ROOT / ".." / "shared" / "eval" / "text" / "cases.jsonl"


def test_text_cases_exact_floor() -> None:
    if not TEXT_CASES.is_file():
        pytest.skip("shared text eval cases not available")
    from quality_text import normalise  # benchmarks/ is on sys.path when pytest runs this file

    cases = [json.loads(line) for line in TEXT_CASES.read_text("utf-8").split("\n") if line.strip()]
    exact = sum(normalise(c["input"]) == c["expected"] for c in cases) / len(cases)
    keep = [c for c in cases if c["input"] == c["expected"]]
    assert all(normalise(c["input"]) == c["input"] for c in keep), "a keep case was changed"
    assert exact >= FLOORS["text_cases_exact"] - 1e-9, f"text cases exact {exact:.3f}"


EXTRACTION = ROOT / ".." / "shared" / "eval" / "extraction"


def test_extraction_html_f1_floor() -> None:
    if not (EXTRACTION / "ground-truth.jsonl").is_file():
        pytest.skip("shared extraction eval data not available")
    from quality_extract import evaluate  # benchmarks/ is on sys.path when pytest runs this file

    scores = evaluate(EXTRACTION)
    assert scores["f1"] >= FLOORS["extraction_html_f1"] - 1e-9, f"extraction F1 {scores}"


def test_text_scrape_strip_f1_floor() -> None:
    if not (EXTRACTION / "ground-truth.jsonl").is_file():
        pytest.skip("shared extraction eval data not available")
    from quality_strip import evaluate as strip_evaluate  # benchmarks/ is on sys.path here

    scores = strip_evaluate(EXTRACTION)
    assert scores["f1"] >= FLOORS["text_scrape_f1"] - 1e-9, f"strip text-scrape F1 {scores['f1']:.3f}"


def test_strip_does_not_lower_extraction_f1() -> None:
    if not (EXTRACTION / "html").is_dir():
        pytest.skip("shared extraction eval data not available")
    from quality_strip import evaluate as strip_evaluate  # benchmarks/ is on sys.path here

    base = strip_evaluate(EXTRACTION, mode="extract")["f1"]
    after = strip_evaluate(EXTRACTION, mode="html")["f1"]
    assert after - base >= FLOORS["strip_on_extracted_min_delta"] - 1e-9, f"{base:.3f} -> {after:.3f}"


DEDUP = ROOT / ".." / "shared" / "eval" / "dedup"


def test_dedup_precision_recall_floor() -> None:
    if not (DEDUP / "labels.jsonl").is_file():
        pytest.skip("shared dedup eval data not available")
    from quality_dedup import evaluate as dedup_evaluate  # benchmarks/ is on sys.path here

    scores = dedup_evaluate(DEDUP)
    assert scores["precision"] >= FLOORS["dedup_precision"] - 1e-9, f"dedup {scores}"
    assert scores["recall"] >= FLOORS["dedup_recall"] - 1e-9, f"dedup {scores}"
    assert scores["lost_clusters"] <= FLOORS["dedup_lost_clusters_max"], f"dedup {scores}"
