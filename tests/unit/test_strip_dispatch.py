"""The per-pattern dispatch of strip_match gives exactly what the full rule alternations give,
also on lines that open with non-word characters (the greedy [\\W_]* of "start" rules)."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from cleaner.stages.strip_match import Dispatch, Group, Rule, fullmatch_rule, start_rule
from cleaner.stages.strip_rules import load_rules
from cleaner.stages.strip_shape import shape

_HEADS = ["", "» ", "»» ", "© ", "-- ", "_", "__ ", "| ", "• ", "… ", "#", "【", "“", " ", "(", ">>"]
_BODIES = [
    "Read more", "read more »", "Leave a Reply", "Share on Facebook", "Mehr lesen", "Werbung",
    "相关文章", "分享到：微信 微博", "Advertisement", "Subscribe to our newsletter", "Page 2 of 5",
    "Posted on March 3, 2021", "Copyright 2024 Example Media", "Tags: news, world", "x", "",
    "The council voted on Tuesday.", "12:30", "ſubscribe", "İmpressum", "Related Articles:",
]
_TAILS = ["", ":", " :", ".", "!", "？", " »", "…", " 2"]


def _rule_of(grp: Group | None, m: re.Match[str] | None) -> Rule | None:
    return grp.rules[int(m.lastgroup[1:])] if grp is not None and m and m.lastgroup else None


def _check(s: str) -> None:
    book = load_rules(("de", "en", "zh"))
    units = shape(s.strip()).units if s.strip() else 0.0
    for rs in (book.latin, book.every):
        for disp in (rs.line_body, rs.line_edge, rs.line_edge_only):
            if s and disp.full is not None:
                assert fullmatch_rule(disp, s) == _rule_of(disp.full, disp.full.pattern.fullmatch(s)), s
        for groups in (rs.short_body, rs.short_edge, rs.short_edge_only):
            d: Dispatch | None = next((d for lim, d in groups if units <= lim), None)
            want = _rule_of(d.full, d.full.pattern.match(s)) if d is not None and d.full is not None else None
            assert start_rule(groups, s, units) == want, s


def test_lines_with_leading_non_word_runs() -> None:
    for head in _HEADS:
        for body in _BODIES:
            for tail in _TAILS:
                _check(head + body + tail)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(_HEADS), st.sampled_from(_BODIES), st.sampled_from(_TAILS), st.text(max_size=6))
def test_mixed_lines_match_the_full_alternation(head: str, body: str, tail: str, noise: str) -> None:
    _check(head + noise + body + tail)
    _check(head + body + noise + tail)


def test_candidates_keep_rule_order() -> None:
    book = load_rules(("de", "en", "zh"))
    disp = book.latin.line_edge
    order = {id(r): i for i, (r, _) in enumerate((r, None) for r, _ in disp._rules)}  # noqa: SLF001
    for c in "rRsS»1相":
        got = [order[id(r)] for r, _ in disp.candidates(c, "e")]
        assert got == sorted(got)


def test_start_rules_look_within_the_first_200_non_word_characters() -> None:
    """Every position of a line's leading run of non-word characters is a place a start rule
    may begin, and each costs a lookup: a line of a million dashes took seconds. A rule's words
    are looked for within the first 200 (a row of "=" above a heading is far shorter)."""
    from cleaner.stages.strip_match import _LEAD_REACH

    rule = Rule("t:ad", "ad", "any", 40)
    disp = Dispatch([(rule, [r"advertisement\b"])], "start")
    near, far = "=" * (_LEAD_REACH - 10) + " Advertisement", "=" * (_LEAD_REACH + 10) + " Advertisement"
    assert disp.match_start(near) is rule and disp.full is not None and disp.full.pattern.match(near)
    assert disp.match_start(far) is None  # the full alternation would find it: too far in
    assert disp.match_start("." * 1_000_000) is None
