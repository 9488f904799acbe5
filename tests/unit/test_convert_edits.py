"""Convert builds its edits directly: they must be exactly what Rewriter.replace + apply give."""

from __future__ import annotations

import random
from pathlib import Path

from cleaner.config import ConvertConfig
from cleaner.document import Edit, Rewriter, replay
from cleaner.language import HAN, opencc_converter
from cleaner.stages.convert import STAGE, _changed_runs, _Edits, _han_count, convert_text
from cleaner.stages.repair import repair_text

RAW = Path(__file__).resolve().parents[2] / "raw"


def _naive_runs(a: str, b: str) -> list[tuple[int, int]]:
    runs, start = [], -1
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y and start < 0:
            start = i
        elif x == y and start >= 0:
            runs.append((start, i))
            start = -1
    if start >= 0:
        runs.append((start, len(a)))
    return runs


def _rewriter_record(rw: Rewriter, pos: int, before: str, after: str, rule: str, note: str) -> None:
    """The Rewriter-based recording convert used before `_Edits`."""
    if len(before) != len(after):
        rw.replace(pos, pos + len(before), after, rule, note)
        return
    for a, b in _naive_runs(before, after):
        rw.replace(pos + a, pos + b, after[a:b], rule, note)


def test_changed_runs_are_the_maximal_runs() -> None:
    rng = random.Random(3)
    for _ in range(3000):
        n = rng.randint(0, 20)
        a = "".join(rng.choice("ab") for _ in range(n))
        b = "".join(rng.choice("ab") for _ in range(n))
        assert _changed_runs(a, b) == _naive_runs(a, b)


def test_direct_edits_equal_rewriter_edits() -> None:
    """Lines changed in place, lengthened, shortened and emptied, in text order."""
    rng = random.Random(4)
    for _ in range(500):
        lines = ["".join(rng.choice("甲乙丙 a") for _ in range(rng.randint(0, 12))) for _ in range(rng.randint(1, 8))]
        text = "\n".join(lines)
        rw, direct_edits = Rewriter(text, STAGE), []
        direct = _Edits(direct_edits)
        out, pos = list(lines), 0
        for k, line in enumerate(lines):
            if line and rng.random() < 0.7:
                kind = rng.random()
                if kind < 0.6:
                    after = "".join(rng.choice("甲乙丁") if rng.random() < 0.4 else c for c in line)
                elif kind < 0.8:
                    after = line + "丁" * rng.randint(1, 3)
                elif kind < 0.95:
                    after = line[: rng.randint(0, len(line) - 1)]
                else:
                    after = ""
                if after != line:
                    _rewriter_record(rw, pos, line, after, "opencc:tw2s", f"line {k}")
                    direct.record(pos, line, after, "opencc:tw2s", f"line {k}")
                    out[k] = after
            pos += len(line) + 1
        want: list[Edit] = []
        assert rw.apply(want) == "\n".join(out)
        assert direct_edits == want
        assert all(type(e) is Edit for e in direct_edits)
        assert replay(text, direct_edits) == "\n".join(out)


def test_traditional_sample_edits_replay() -> None:
    text, _ = repair_text((RAW / "002_3055a5f10925dd99.txt").read_text("utf-8"))
    out, edits, lang = convert_text(text, ConvertConfig())
    assert edits and lang == "zh-Hans"
    assert replay(text, edits) == out
    assert all(e.before != e.after and e.before[0] != e.after[0] and e.before[-1] != e.after[-1] for e in edits)


def test_whole_text_conversion_is_its_lines_conversions() -> None:
    """convert_text reuses the whole text's OpenCC output line by line: OpenCC matches no
    phrase across a newline, so that is each line converted on its own."""
    converter = opencc_converter("tw2s")
    texts = [(RAW / n).read_text("utf-8") for n in sorted(p.name for p in RAW.iterdir())]
    texts += [repair_text(t)[0] for t in texts]
    rng = random.Random(6)
    pieces = ["乾", "淨", "乾淨", "乾隆", "軟體", "資訊", "著", "後", "裡", "\n", " ", "a", "。", "發", "髮", "ー"]
    texts += ["".join(rng.choice(pieces) for _ in range(rng.randint(0, 40))) for _ in range(2000)]
    for text in texts:
        lines = text.split("\n")
        assert converter.convert(text).split("\n") == [converter.convert(line) for line in lines]
        for line in lines:
            assert _han_count(line) == len(HAN.findall(line))
