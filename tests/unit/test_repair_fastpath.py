"""Repair's shortcuts must be invisible: each skips only work whose result is known unchanged."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest

from cleaner.config import RepairConfig
from cleaner.document import Edit
from cleaner.stages import repair as R
from cleaner.stages.repair_gbk import fix_gbk_damage, fix_gbk_mojibake
from cleaner.stages.repair_pinyin import remove_pinyin_glosses

RAW = Path(__file__).resolve().parents[2] / "raw"

# ASCII, typographic punctuation, umlauts, Han, invisibles, controls, code-page pairs, pinyin
_PIECES = [
    "a", "b", "Z", " ", " ", ".", "?", "(", ")", "\n", "&amp;", "<b>", "/span>", "“", "”", "’", "—",
    "ä", "ö", "ß", "é", "Ã", "Â", "Ã¶", "â€œ", "Ð¿", "數", "据", "權(quán)", "（", "）", "\u200b", "\xa0",
    "\ufeff", "\x81", "\x1b[31m", "\x07", "\u206a", "\ufffc", "ｘ", "\U0001f600", "quán", "?!",
]


def _texts(seed: int, count: int) -> list[str]:
    rng = random.Random(seed)
    texts = ["", "plain ascii", "Ã ", "“quoted” — dash’s"]
    for _ in range(count):
        texts.append("".join(rng.choice(_PIECES) for _ in range(rng.randint(1, 30))))
    for name in sorted(p.name for p in RAW.iterdir()):
        text = (RAW / name).read_text("utf-8")
        texts += [text, text.encode("utf-8").decode("cp1252", "replace")]
    return texts


def _every_pass(text: str, cfg: RepairConfig) -> tuple[str, list[Edit]]:
    """repair_text without `_plain`: every pass runs and decides for itself."""
    edits: list[Edit] = []
    text = R.fix_html_residue(text, edits)
    if cfg.fix_mojibake:
        text = R.fix_encoding(text, edits)
        text = fix_gbk_mojibake(text, edits)
    if cfg.fix_gbk_damage:
        text = fix_gbk_damage(text, edits)
    text = R._remove_orphans(text, edits)
    if cfg.remove_pinyin_glosses:
        text = remove_pinyin_glosses(text, edits)
    text = R.fix_invisibles(text, edits)
    return text, edits


def test_plain_text_is_left_alone_by_the_passes_it_skips() -> None:
    plain = 0
    for text in _texts(11, 4000):
        if not R._plain(text):
            continue
        plain += 1
        for fix in (R.fix_encoding, fix_gbk_mojibake, remove_pinyin_glosses, R.fix_invisibles):
            edits: list[Edit] = []
            assert fix(text, edits) == text and not edits, (fix.__name__, text)
    assert plain > 100  # the generator makes both kinds


@pytest.mark.parametrize(
    "cfg",
    [RepairConfig(), RepairConfig(fix_mojibake=False), RepairConfig(fix_gbk_damage=False, remove_pinyin_glosses=False)],
)
def test_repair_text_is_every_pass_run(cfg: RepairConfig) -> None:
    for text in _texts(12, 3000):
        R.clear_memo()
        assert R.repair_text(text, cfg) == _every_pass(text, cfg), repr(text)


def test_fixers_act_on_every_character_ftfys_fixers_change() -> None:
    from ftfy import chardata

    from cleaner.stages.repair import _fixers_act

    chars = [chr(c) for c in chardata.CONTROL_CHARS] + [chr(c) for c in range(0x80, 0xA0)]
    chars += ["\ud800", "\udbff", "\udc00", "\udfff", "\x1b"]
    for ch in chars:
        assert _fixers_act(f"abc{ch}def"), hex(ord(ch))
    _, _, cfg = R._ftfy()
    import ftfy

    for text in _texts(13, 2000):
        if not _fixers_act(text):
            for fixer in R._FTFY_FIXERS:
                assert ftfy._try_fix(fixer, text, cfg, []) == text, (fixer, text)


def test_maybe_bad_is_is_bad_across_gap_lengths() -> None:
    """Clusters merge windows exactly: bad pairs and lone accents at every gap around 2 x width."""
    from ftfy.badness import is_bad

    got = R._badness()
    assert got is not None
    width = got[1]
    rng = random.Random(5)
    bad = ["Ã¶", "â€œ", "Ã©", "Ð¿Ñ", "Â\xa0", "ÃƒÂ", "Ã", "é", "’", "€"]
    for gap in range(0, 3 * width + 2):
        for _ in range(40):
            parts = []
            for _ in range(rng.randint(1, 6)):
                parts.append(rng.choice(bad))
                parts.append("".join(rng.choice("ab .,Z") for _ in range(gap + rng.randint(-1, 1) if gap else 0)))
            text = "".join(parts)
            assert R._maybe_bad(text) == is_bad(text), repr(text)


def test_suspect_pairs_are_one_code_pages() -> None:
    """`_CONT_AFTER` accepts exactly the pairs some code page of `_PAIRS` makes."""
    for a in sorted(R._ANY_LEAD):
        for b in sorted(R._ANY_CONT):
            want = any(a in lead and b in cont for lead, cont in R._PAIRS)
            assert (b in R._CONT_AFTER[a]) == want, (a, b)
            assert R._suspect(f"x{a}{b}y") == (want or bool(R._LOST_A0.search(f"x{a}{b}y"))), (a, b)


def test_plain_is_both_scans_on_every_pair() -> None:
    """`_NOT_PLAIN`'s single scan finds what `_PASS_CHARS` or `_PAIR` finds, pair by pair."""
    chars = sorted(R._ANY_LEAD | R._ANY_CONT) + ["a", " ", "\n", "\x07", "數", "\u200b", "\x85"]
    for a in chars:
        for b in chars:
            for text in (a + b, f"x{a}{b}y", f"{a} {b}"):
                want = not R._PASS_CHARS.search(text) and not R._PAIR.search(text)
                assert R._plain(text) == want, ascii(text)


def test_badness_matches_hold_a_required_character_near_their_start() -> None:
    """Every BADNESS_RE match in mojibake-rich text starts at most `lead` characters before
    a character of `_badness`'s set R, the property `_maybe_bad`'s windows rest on."""
    from ftfy.badness import MOJIBAKE_CATEGORIES

    got = R._badness()
    assert got is not None
    pattern, width, lead, clusters = got
    alphabet = "".join(sorted(set("".join(MOJIBAKE_CATEGORIES.values()))))
    alphabet += "ÃÂØÙГўВЂβ€ā√≈‚×°²³Œœ"
    rng = random.Random(11)
    found = 0
    for _ in range(5000):
        text = "".join(rng.choice(alphabet) if rng.random() < 0.5 else rng.choice("ab Z.\n")
                       for _ in range(12))
        for m in pattern.finditer(text):
            found += 1
            assert m.end() - m.start() <= width
            starts = range(m.start(), min(m.end(), m.start() + lead + 1))
            assert any(clusters.match(text, i) for i in starts), ascii(text)
    assert found > 1000


@pytest.mark.parametrize(
    ("pattern", "want"),
    [
        ("ab¦", ([(0xA6, 0xA6)], 2)),  # the rarest class, after two characters
        ("(?:xé|¦y)z", ([(0xE9, 0xE9), (0xA6, 0xA6)], 1)),  # each alternative's rarest, the later lead
        ("(?:é|¦)ü", ([(0xFC, 0xFC)], 1)),  # one letter weighs less than a letter and a sign
        ("a\\s?Ã ", ([(0xC3, 0xC3)], 2)),  # the optional item counts its widest
        ("x+¦", ([(0x78, 0x78)], 0)),  # nothing after an unbounded repeat has a known lead
        ("a(?i:¦)b", ([(0x61, 0x61)], 0)),  # a case-insensitive group is not a fixed set
        ("[^a]¦", ([(0xA6, 0xA6)], 1)),
        ("\\w", None),
    ],
)
def test_required_set_of_small_patterns(pattern: str, want: Any) -> None:
    """`_required` picks, per alternative, the rarest class a match must consume, and its lead."""
    from re import _parser as sre_parse  # type: ignore[attr-defined]

    parsed = sre_parse.parse(pattern)
    assert R._required(parsed, parsed.state) == want
