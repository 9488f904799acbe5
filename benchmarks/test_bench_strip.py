"""pytest-benchmark for the strip stage: lines/s and MB/s on the sample scrapes in raw/.

    pytest benchmarks/test_bench_strip.py --benchmark-only
"""

from __future__ import annotations

from pathlib import Path

import pytest

from cleaner.config import StripConfig
from cleaner.document import Document, Source
from cleaner.stages.strip import explain_lines, strip

ROOT = Path(__file__).resolve().parent.parent
TEXTS = [p.read_text(encoding="utf-8") for p in sorted((ROOT / "raw").glob("*.txt"))]
LINES = sum(t.count("\n") + 1 for t in TEXTS)
BYTES = sum(len(t.encode()) for t in TEXTS)
CFG = StripConfig()


def _strip_all() -> None:
    for text in TEXTS:
        strip(Document(id="b", source=Source(path="b.txt", sha256="0"), raw=b"", text=text), CFG)


@pytest.mark.skipif(not TEXTS, reason="no samples in raw/")
def test_bench_strip_samples(benchmark: pytest.FixtureRequest) -> None:
    benchmark(_strip_all)  # type: ignore[operator]
    if benchmark.stats is None:  # type: ignore[attr-defined]  # --benchmark-disable: a smoke test
        return
    mean = benchmark.stats.stats.mean  # type: ignore[attr-defined]
    benchmark.extra_info["lines_per_s"] = LINES / mean  # type: ignore[attr-defined]
    benchmark.extra_info["mb_per_s"] = BYTES / mean / 1e6  # type: ignore[attr-defined]
    benchmark.extra_info["ms_per_5kb"] = mean / BYTES * 5000 * 1e3  # type: ignore[attr-defined]


@pytest.mark.skipif(not TEXTS, reason="no samples in raw/")
def test_bench_strip_samples_cold(benchmark: pytest.FixtureRequest) -> None:
    """As above with strip's per-line memo emptied before each round: the cost of lines seen
    for the first time (the warm figure is that of recurring lines: menus, footers)."""
    from cleaner.stages.strip_memo import clear_memo

    benchmark.pedantic(_strip_all, setup=clear_memo, rounds=30)  # type: ignore[attr-defined]


@pytest.mark.skipif(not TEXTS, reason="no samples in raw/")
def test_bench_explain_lines(benchmark: pytest.FixtureRequest) -> None:
    benchmark(lambda: [explain_lines(t, CFG) for t in TEXTS])  # type: ignore[operator]


def _keys_and_strip_all() -> None:
    """As a run does it: the page's line keys for template counting, then strip with the
    site's template counts (the keys are then known, so strip reuses them)."""
    from cleaner.stages.strip_memo import template_keys
    from cleaner.state.templates import TemplateSnapshot

    pages = [template_keys(text) for text in TEXTS]
    snap = TemplateSnapshot.from_pages(("site", keys) for keys in pages + pages)
    for text in TEXTS:
        doc = Document(id="b", source=Source(path="site/b.txt", sha256="0"), raw=b"", text=text)
        strip(doc, CFG, snap, "site")


@pytest.mark.skipif(not TEXTS, reason="no samples in raw/")
def test_bench_keys_and_strip_cold(benchmark: pytest.FixtureRequest) -> None:
    """Template keys then strip with templates, memo emptied before each round (first sight)."""
    from cleaner.stages.strip_memo import clear_memo

    benchmark.pedantic(_keys_and_strip_all, setup=clear_memo, rounds=30)  # type: ignore[attr-defined]
