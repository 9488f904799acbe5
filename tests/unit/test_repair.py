"""Repair stage: hand-written cases (tests/cases/repair), replayable edits, rules that explain themselves."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cleaner.config import RepairConfig
from cleaner.document import Document, Source, replay
from cleaner.stages.repair import repair, repair_text
from cleaner.stages.repair_gbk import fix_gbk_mojibake

CASES = json.loads((Path(__file__).parent.parent / "cases" / "repair" / "cases.json").read_text("utf-8"))
RAW = Path(__file__).resolve().parents[2] / "raw"


@pytest.mark.parametrize("case", CASES, ids=[c["label"] for c in CASES])
def test_case(case: dict[str, str]) -> None:
    out, edits = repair_text(case["input"], RepairConfig())
    assert out == case["expected"]
    assert replay(case["input"], edits) == out
    if case["input"] == case["expected"]:
        assert all(e.action == "mark" for e in edits)


def test_rules_are_named() -> None:
    _, edits = repair_text("Fish &amp; Chips\u200b <b>ok</b> GrÃ¶ÃŸe", RepairConfig())
    assert {e.rule for e in edits} == {"html-entity", "html-tag", "invisible", "ftfy"}
    ftfy = next(e for e in edits if e.rule == "ftfy")
    assert "utf" in ftfy.note and ftfy.before == "Ã¶ÃŸ" and ftfy.after == "öß"


def test_unrecoverable_damage_is_marked_not_guessed() -> None:
    text = "因?yàn)?,她認為"
    out, edits = repair_text(text, RepairConfig())
    assert out == text
    marks = [e for e in edits if e.rule == "gbk-damage-unrecoverable"]
    assert marks and marks[0].action == "mark" and marks[0].before == marks[0].after


def test_config_switches_passes_off() -> None:
    cfg = RepairConfig(fix_mojibake=False, fix_gbk_damage=False, remove_pinyin_glosses=False)
    text = "GrÃ¶ÃŸe 因?yàn)殚_源 權(quán)"
    out, _ = repair_text(text, cfg)
    assert out == text


def test_sample_002_end_to_end() -> None:
    text = (RAW / "002_3055a5f10925dd99.txt").read_text("utf-8")
    doc = Document(id="x", source=Source(path="002", sha256="0"), raw=b"", text=text)
    repair(doc, RepairConfig())
    assert replay(text, doc.edits) == doc.text
    assert "/span>" not in doc.text
    assert "(quán)" not in doc.text and "(OSI)" in doc.text
    assert "因為開源" in doc.text and "影響獨立研究人員。」" in doc.text
    assert "「模型越強大" in doc.text
    assert doc.text.count("?!") == 1  # the one whose bytes are lost; marked
    assert sum(e.rule == "gbk-damage-unrecoverable" for e in doc.edits) == 2


@pytest.mark.parametrize("name", ["000_65eea8b01307b085.txt", "003_67b898d0e7971327.txt"])
def test_clean_german_samples_unchanged(name: str) -> None:
    text = (RAW / name).read_text("utf-8")
    out, edits = repair_text(text, RepairConfig())
    assert replay(text, edits) == out
    assert all(e.rule in ("nbsp", "invisible") for e in edits)


def test_real_chinese_is_never_gbk_mojibake() -> None:
    text = (RAW / "002_3055a5f10925dd99.txt").read_text("utf-8")
    edits: list = []
    assert fix_gbk_mojibake(text, edits) == text and not edits
    simplified = "数据显示，开源模型正在迅速追赶。研究人员表示，这是一个重要的问题。"
    assert fix_gbk_mojibake(simplified, edits) == simplified and not edits


def test_no_break_spaces_become_one_space_inside_a_line_and_nothing_at_its_edges() -> None:
    """"&nbsp; &nbsp;" fillers and "sentence.&nbsp; Next" spacing: one space, not three; an
    indent or a trailing no-break space: none (extract leaves them all to repair)."""
    text = "\xa0\xa0Indented line\nOne sentence.\xa0 The next \xa0\xa0 one.\xa0\n\xa0\nPreis:\xa0100\u202f€"
    out, edits = repair_text(text, RepairConfig())
    assert out == "Indented line\nOne sentence. The next one.\n\nPreis: 100 €"
    assert replay(text, edits) == out and {e.rule for e in edits} == {"nbsp"}


def test_html_mojibake_keeps_its_no_break_space_bytes_until_repair() -> None:
    """UTF-8 read as cp1252: 擠 (E6 93 A0) reads 'æ“' and a no-break space, à (C3 A0) 'Ã' and
    one. Extract collapsed the no-break space with other whitespace, so repair could not decode
    the character, nor (ftfy decodes a run whole) the rest of its paragraph: six of the 46
    mojibake HTML pages of the 5k benchmark corpus came out as mojibake. Read as Latin-1, х
    (D1 85) ends in NEL, which extract stripped at a line's end."""
    from cleaner.config import Config
    from cleaner.pipeline import prepare

    chinese = "台東擁擠的學生週三否決了麵包店的醫院，調查表示正式的社區將推遲了學校。"
    french = "Il est allé à la maison, voilà tout, et il a dormi jusqu’à midi."
    def as_cp1252(b: bytes) -> str:  # a browser's reading: cp1252's five undefined bytes as C1 controls
        return "".join(bytes([x]).decode("windows-1252", "ignore") or chr(x) for x in b)

    russian = "Новости дня: в городе открылся новый парк для жителей всех районов и их"  # х: D1 85
    garbled = [as_cp1252(t.encode("utf-8")) for t in (chinese, french)] + [russian.encode("utf-8").decode("latin-1")]
    assert "\xa0" in garbled[0] and "\xa0" in garbled[1] and garbled[2].endswith("\x85")  # NEL, at a line's end
    page = ("<html><head><meta charset='utf-8'></head><body><article>"
            + "".join(f"<p>{g}</p>" for g in garbled) + "</article></body></html>").encode("utf-8")
    doc = Document(id="x", source=Source(path="x.html", sha256="0" * 64, media_type="text/html"), raw=page)
    doc = prepare(doc, Config())
    assert chinese in doc.text and french in doc.text and russian in doc.text, doc.text


# --- the ftfy fast path must be ftfy -----------------------------------------------------------

_FTFY_LINES = [
    "Die GrÃ¶ÃŸe der Modelle wÃ¤chst schneller.",
    "â€œQuotedâ€\x9d and an em dash â€” here",
    "Ã  la carte, voilÃ\xa0 le travail",
    "double: ÃƒÂ©tÃƒÂ© and plain é",
    "control\x81 chars \x9d and a BOM\ufeff and \u206a",
    "escape \x1b[31mred\x1b[0m then Ã©",
    "nested \x1b[\x1b[31mm escape after Ã¼",
    "surrogate \ud83d and Ã¶",
    "clean line with Córdoba and Kraków",
    "Ð¿Ñ€Ð¸Ð²ÐµÑ‚ Ð¼Ð¸Ñ€",
]


@pytest.mark.parametrize("line", _FTFY_LINES)
def test_fix_line_is_fix_and_explain(line: str) -> None:
    from ftfy import fix_and_explain

    from cleaner.stages.repair import _fix_line, _ftfy

    cfg = _ftfy()[2]
    for variant in (line, line.encode("utf-8", "surrogatepass").decode("cp1252", "replace")):
        want = fix_and_explain(variant, config=cfg)
        got = _fix_line(variant, cfg)
        assert got[0] == want.text
        assert got[1] == list(want.explanation or ())


def test_trim_common_gives_minimal_span() -> None:
    from cleaner.stages.repair import _trim_common

    assert _trim_common("abcXYZdef", "abcQdef") == (3, 3)
    assert _trim_common("aaaa", "aa") == (2, 0)
    assert _trim_common("", "abc") == (0, 0)
    assert _trim_common("xab", "yab") == (0, 2)


def test_maybe_bad_is_ftfy_is_bad() -> None:
    """The windowed search around non-ASCII characters agrees with ftfy's full scan."""
    import random

    from ftfy.badness import MOJIBAKE_CATEGORIES, is_bad

    from cleaner.stages.repair import _badness, _maybe_bad

    assert _badness() is not None  # the fast path is in use with the installed ftfy
    alphabet = "".join(sorted(set("".join(MOJIBAKE_CATEGORIES.values())))) + "ÃÂØÙГўВЂβ€ā√≈‚×°²³Œœ"
    rng = random.Random(7)
    texts = [*_FTFY_LINES, "", "plain ascii", "Ã ", "x Ã ", "é" * 20 + "Ã©"]
    for _ in range(20000):
        n = rng.randint(1, 24)
        texts.append("".join(rng.choice(alphabet) if rng.random() < 0.4 else rng.choice("ab Z.,?\n") for _ in range(n)))
    for name in ("000_65eea8b01307b085.txt", "002_3055a5f10925dd99.txt"):
        text = (RAW / name).read_text("utf-8")
        texts += text.split("\n") + text.encode("utf-8").decode("cp1252", "replace").split("\n")
    for text in texts:
        assert _maybe_bad(text) == is_bad(text), repr(text)


def test_line_fixes_are_remembered_not_changed() -> None:
    """A repeated broken line is fixed once; the result is what a fresh fix gives."""
    from cleaner.stages.repair import _line_fix

    text = "\n".join(_FTFY_LINES * 2)
    _line_fix.cache_clear()
    first = repair_text(text, RepairConfig())
    assert _line_fix.cache_info().hits >= len(_FTFY_LINES) - 1
    _line_fix.cache_clear()
    assert repair_text(text, RepairConfig()) == first
    assert replay(text, first[1]) == first[0]


def test_pinyin_table_is_pypinyins() -> None:
    from pypinyin.constants import PINYIN_DICT

    from cleaner.stages.repair_gbk import pinyin_table, readings

    assert pinyin_table() == PINYIN_DICT
    assert "quán" in readings("權")
