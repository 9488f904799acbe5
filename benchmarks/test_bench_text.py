"""Throughput of the repair and convert stages on clean and damaged German and Chinese text.

Inputs are built from the raw/ samples (about 20-30 KB each). Run:
    pytest benchmarks/test_bench_text.py --benchmark-only --benchmark-columns=mean,ops
MB/s = size / mean; `extra_info["bytes"]` holds the size. The `ftfy_every_line` benchmarks run
ftfy without the pre-check, to show what the pre-check saves.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import pytest

from cleaner.config import ConvertConfig, RepairConfig
from cleaner.stages.convert import convert_text
from cleaner.stages.repair import _ftfy, fix_encoding, repair_text

RAW = Path(__file__).resolve().parent.parent / "raw"


@lru_cache(maxsize=1)
def inputs() -> dict[str, str]:
    german = "\n".join((RAW / n).read_text("utf-8") for n in
                       ("000_65eea8b01307b085.txt", "001_853bf2a90aa6bd36.txt",
                        "003_67b898d0e7971327.txt", "004_8ca0849e04f36c91.txt"))
    lines = german.split("\n")
    # Every 5th line with umlauts UTF-8 read as Windows-1252: a lightly damaged document.
    accented = [i for i, ln in enumerate(lines) if not ln.isascii()][::5]
    damaged = list(lines)
    for i in accented:
        damaged[i] = lines[i].encode("utf-8").decode("cp1252", "replace")
    chinese_damaged = (RAW / "002_3055a5f10925dd99.txt").read_text("utf-8")
    traditional, _ = repair_text(chinese_damaged)
    simplified, _, _ = convert_text(traditional)
    return {
        "de-clean": german,
        "de-damaged": "\n".join(damaged),
        "zh-clean": simplified * 3,
        "zh-damaged": chinese_damaged * 3,
        "zh-traditional": traditional * 3,
    }


def _run(benchmark: Any, fn: Any, text: str) -> None:
    benchmark.extra_info["bytes"] = len(text.encode("utf-8"))
    benchmark(fn, text)


@pytest.mark.parametrize("name", ["de-clean", "de-damaged", "zh-clean", "zh-damaged"])
def test_repair(benchmark: Any, name: str) -> None:
    cfg = RepairConfig()
    _run(benchmark, lambda t: repair_text(t, cfg), inputs()[name])


@pytest.mark.parametrize("name", ["de-damaged", "zh-damaged"])
def test_repair_cold(benchmark: Any, name: str) -> None:
    """test_repair with the remembered line fixes emptied before each round (first-sight cost)."""
    from cleaner.stages.repair import clear_memo

    cfg = RepairConfig()
    text = inputs()[name]
    benchmark.extra_info["bytes"] = len(text.encode("utf-8"))
    benchmark.pedantic(repair_text, args=(text, cfg), setup=clear_memo, rounds=30)


@pytest.mark.parametrize("name", ["de-clean", "zh-clean", "zh-traditional"])
def test_convert(benchmark: Any, name: str) -> None:
    from cleaner.language import _predict

    cfg = ConvertConfig()
    text = inputs()[name]
    convert_text(text, cfg)  # warm: OpenCC tables, language-ID model
    benchmark.extra_info["bytes"] = len(text.encode("utf-8"))
    # the remembered predictions emptied before each round: a new document's cost
    benchmark.pedantic(convert_text, args=(text, cfg), setup=_predict.cache_clear, rounds=100)


def _ftfy_every_line(text: str) -> str:
    fix_and_explain, _, cfg = _ftfy()
    return "\n".join(fix_and_explain(line, config=cfg)[0] for line in text.split("\n"))


@pytest.mark.parametrize("name", ["de-clean", "de-damaged", "zh-clean"])
def test_ftfy_precheck(benchmark: Any, name: str) -> None:
    _run(benchmark, lambda t: fix_encoding(t, []), inputs()[name])


@pytest.mark.parametrize("name", ["de-clean", "de-damaged", "zh-clean"])
def test_ftfy_every_line(benchmark: Any, name: str) -> None:
    assert _ftfy_every_line(inputs()[name]) == fix_encoding(inputs()[name], [])
    _run(benchmark, _ftfy_every_line, inputs()[name])


def test_text_language_first_sight(benchmark: Any) -> None:
    """Document language ID (`text_language`) on every paragraph of the German samples, the
    remembered predictions emptied before each round: the model's cost per new document."""
    from cleaner.language import _predict, text_language

    paragraphs = [p for p in inputs()["de-clean"].split("\n\n") if p.strip()]
    benchmark.extra_info["bytes"] = sum(len(p.encode("utf-8")) for p in paragraphs)
    benchmark.extra_info["documents"] = len(paragraphs)
    benchmark.pedantic(lambda: [text_language(p) for p in paragraphs], setup=_predict.cache_clear, rounds=30)
