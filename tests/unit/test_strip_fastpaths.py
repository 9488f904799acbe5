"""The cheaper paths in strip (and its line keys) give exactly what the plain formulas give.

Each fast path skips work where a cheap test proves the result would not change: these tests
hold them to the straightforward computation on adversarial text (case-folding oddities,
Unicode whitespace and digits, CJK marks)."""

from __future__ import annotations

import re
import sys
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from cleaner.config import StripConfig
from cleaner.stages import strip_memo
from cleaner.stages.strip import explain_lines
from cleaner.stages.strip_layout import related_lists, repeated
from cleaner.stages.strip_shape import _CJK_CHAR, _CJK_RUN, _CLOSERS, _END_MARKS, Shape, shape
from cleaner.state.templates import TemplateSnapshot, line_key, normalise_line

ROOT = Path(__file__).resolve().parents[2]
CFG = StripConfig()

# Characters that stress the fast paths: whitespace of every kind, digits of other scripts,
# letters whose casefold differs from lower() or changes length, CJK text and marks.
_ODD = (
    " \t\x0b\x0c\r\x1c\x1f\x85\xa0\u1680\u2002\u2028\u2029\u202f\u3000"
    "0123456789\u0663\u0967\uff13\U0001d7d9²"
    "aAzZßẞſKİıﬁǅΣσςÅÖöÜü—“”’…"
    "。！？；，中文字ｶＡａ.?!:;\"')"
)
_TEXT = st.text(alphabet=st.sampled_from(_ODD) | st.characters(), max_size=40)
_ENCODABLE = st.text(alphabet=st.sampled_from(_ODD) | st.characters(codec="utf-8"), max_size=40)
_DIGIT = re.compile(r"\d")


def test_whitespace_other_than_space_is_never_printable() -> None:
    """normalise_line skips the split/join when a line is printable: that is exact only
    because every character str.split() splits on, but the space, is unprintable."""
    bad = [c for c in map(chr, range(sys.maxunicode + 1)) if c.isspace() and c != " " and c.isprintable()]
    assert bad == []


@settings(max_examples=2000, deadline=None)
@given(_TEXT)
def test_normalise_line_is_the_plain_formula(s: str) -> None:
    assert normalise_line(s) == " ".join(_DIGIT.sub("0", s.casefold()).split())


def _plain_shape(line: str) -> tuple[float, int, int, bool]:
    """shape() without its ASCII and no-wide-character shortcuts."""
    cjk = len(_CJK_CHAR.findall(line))
    units = len(_CJK_RUN.sub(" ", line).split()) + cjk / 2.0 if cjk else float(line.count(" ") + 1)
    stops = sum(line.count(m) for m in (". ", "? ", "! ", "。", "！", "？", "；", "，"))
    stops += line.count('." ') if line.isascii() else line.count(".” ")
    tail = line.rstrip(_CLOSERS)
    ends = bool(tail) and tail[-1] in _END_MARKS
    if ends and tail[-1] in ".!?…":
        stops += 1
    return units, cjk, stops, ends


@settings(max_examples=2000, deadline=None)
@given(_TEXT)
def test_shape_is_the_plain_computation(s: str) -> None:
    line = s.strip()
    sh = shape(line)
    assert (sh.units, sh.cjk, sh.stops, sh.ends) == _plain_shape(line)
    assert sh == Shape(*_plain_shape(line))


_LINES = st.sampled_from(
    ["Read more here", "READ MORE HERE", "read more here", "Straße und Weg", "STRASSE UND WEG",
     "strasse und weg", "ǅemal Bijedić", "ǆemal bijedić", "Menu", "Page 1 of 2", "Page 2 of 2",
     "ſome text", "some text", "Kelvin sign", "kelvin sign", "x", "a  b", "a b"]
)


@settings(max_examples=500, deadline=None)
@given(st.lists(_LINES | _ENCODABLE.map(str.strip).filter(bool), max_size=14))
def test_repeated_with_keys_is_repeated_by_casefold(texts: list[str]) -> None:
    shapes = [shape(t) for t in texts]
    keys = [line_key(t) for t in texts]  # (lone surrogates have no key: strip never asks then)
    assert all(k is not None for k in keys)
    assert repeated(texts, shapes, keys) == repeated(texts, shapes)  # type: ignore[arg-type]


def test_related_lists_prefilter_keeps_the_per_line_test() -> None:
    texts = ["Related", "First teaser headline", "Second teaser headline", "Body text follows here."]
    shapes = [shape(t) for t in texts]
    rows = [0, 1, 2, 4]
    assert related_lists(texts, shapes, ["en:teaser", "", "", ""], rows) == [(1, 2)]
    # ":teaser" inside a rule id but not at its end is no heading
    assert related_lists(texts, shapes, ["en:teaser-x", "x:teaser\ny", "", ""], rows) == []
    assert related_lists(texts, shapes, ["", "", "", ""], rows) == []


def test_decisions_do_not_depend_on_known_template_keys() -> None:
    """With the page's line keys remembered (template counting ran first, as in a run) strip
    finds repeated lines from the keys; without them by casefolding: same decisions."""
    texts = [p.read_text("utf-8") for p in sorted((ROOT / "raw").glob("*.txt"))]
    texts.append(
        "Straße und Weg im Winter\nIntro line\n\n"
        + "This is a long sentence of article text that goes on for a while. " * 4
        + "\nSTRASSE UND WEG IM WINTER\nRead More Here\nread more here\n\nend"
    )
    snap = TemplateSnapshot({"s": (3, {})})

    def run() -> list[object]:
        return [explain_lines(t, CFG, snap, "s", html) for t in texts for html in (False, True)]

    strip_memo.clear_memo()
    cold = run()
    strip_memo.clear_memo()
    for t in texts:
        strip_memo.template_keys(t)
    assert run() == cold
    strip_memo.clear_memo()


def test_explain_lines_covers_every_line_with_its_offsets() -> None:
    text = "Menu | Home | News | Sport\n\n  \nA headline\n\t\n" + "Some article text here. " * 5 + "\n"
    out = explain_lines(text, CFG)
    assert [d.text for d in out] == text.split("\n")
    assert all(text[d.start : d.end] == d.text for d in out)
    assert all(d.kept and not d.rule for d in out if not d.text.strip())


# Pieces of the "any" rules' phrases, in case variants re.IGNORECASE equates (Kelvin sign,
# long s, dotted capital I, final sigma) and beside CJK disclaimers.
_RULE_BITS = (
    "We use cookies", "we use cooKies", "this site uses cookieſ", "THIS SITE USES COOKIES",
    "Necessary cookies are", "All Rights Reserved.", "ALL RİGHTS RESERVED", "Read more »",
    "… weiterlesen", "[…]", "[...]", "... Continue reading", "Photo: AP Photo", "credit...",
    "Your email address will not be published.", "Required fields are marked *",
    "Diese Website verwendet Cookies", "Ihre E-Mail-Adresse wird nicht veröffentlicht",
    "本文系转载", "如需转载请注明出处", "责任编辑：张三", "ΣΑΣ", "σς", "İ", "ı", "ſ", "K",
)
_RULE_LINE = st.lists(st.sampled_from(_RULE_BITS) | _TEXT, max_size=5).map(" ".join)


def _any_groups():  # type: ignore[no-untyped-def]
    from cleaner.stages.strip_rules import load_rules

    book = load_rules(("de", "en", "zh"))
    return [grp for rs in (book.latin, book.every) for _, grp in rs.any_body]


@settings(max_examples=300, deadline=None)
@given(_RULE_LINE)
def test_needed_literals_never_hide_a_match(s: str) -> None:
    """Group.search rules a line out by its necessary literals: the same answer as without."""
    from dataclasses import replace

    for grp in _any_groups():
        if grp.needs is not None:
            plain = replace(grp, needs=None, needs_risky="")
            assert grp.search(s, s.lower()) == plain.search(s, s.lower()), (s, grp.needs)


def test_necessary_literals_of_patterns() -> None:
    from cleaner.stages.strip_match import literal_needs

    got = literal_needs(["this (?:web)?site uses cookies", "we use cookies"])
    assert got is not None and got[0] == ("site uses cookies", "we use cookies")
    assert "ſ" in got[1]  # the long s matches "s": a line holding one is searched in full
    assert literal_needs([r"\bphotos?\s*:", r"\w+\d"]) is None  # no literal every match holds
    assert literal_needs(["(?:ab|cd)+x?"]) == (("ab", "cd"), "")
    assert literal_needs(["ı"]) is None  # the dotless i matches the ASCII i: rarely decisive
    # Several valid sets per pattern: one string shared by both patterns covers them.
    got = literal_needs(["we use cookies", "opt-out of (?:these )?cookies"])
    assert got is not None and got[0] == ("cookies",)
    # ... but never a short word that prose is full of ("buy " is in every match of the first).
    got = literal_needs(["buy (?:likes|followers)", "buy now"])
    assert got is not None and got[0] == ("followers", "buy now", "likes")


def test_teasers_need_two_cut_excerpts() -> None:
    from cleaner.stages.strip_layout import teaser_records

    excerpt = "An excerpt of the story that the site cut short after many words of text"
    texts: list[str] = []
    for n in range(3):
        texts += [f"Headline number {n} of the list", excerpt + (" …" if n else " and more.")]
    shapes = [shape(t) for t in texts]
    assert teaser_records(texts, shapes) == [(0, 5)]
    texts[3] = excerpt + " and more."  # one excerpt cut: a page's own sections, not teasers
    assert teaser_records(texts, [shape(t) for t in texts]) == []


_DATE_WORDS = st.sampled_from(
    "Jan January März mars mayo may mai maio mag maggio Sept set. settembre déc Dec. dic Mon montag "
    "today heute ago vor 5pm 5 p.m. a.m. am at on de del 1st 22nd 12h 2024 12:30 01/02/2023 Uhr "
    "GMT cest hrs mins tagen stunden ſept Okt ıt İ xa.m.yy , . - :".split()
)


@settings(max_examples=400, deadline=None)
@given(st.lists(_DATE_WORDS | _TEXT, max_size=8), st.sampled_from([" ", ""]))
def test_date_patterns_grouped_by_first_letter_match_as_the_plain_alternation(
    words: list[str], sep: str
) -> None:
    """_DATE_TOKENS and _HAS_DATE group their month/day/time words by first letter for speed:
    they must replace and find exactly what the plain word alternations do."""
    from cleaner.stages import strip_layout as L

    months = "|".join(L._MONTH_NAMES)
    days = "|".join(L._DAY_NAMES)
    plain_tokens = re.compile(
        rf"\b(?:{months}|{days})\b\.?|\b\d+(?:st|nd|rd|th|h|m|d)?\b|[ap]\.?m\.?\b"
        rf"|\b(?:{'|'.join(L._TIME_WORDS)})\b",
        re.IGNORECASE,
    )
    plain_has = re.compile(L._HAS_DATE.pattern.replace(L._MONTHS, months), re.IGNORECASE)
    text = sep.join(words)
    assert L._DATE_TOKENS.sub(" ", text) == plain_tokens.sub(" ", text)
    got, want = L._HAS_DATE.search(text), plain_has.search(text)
    assert (got and got.span()) == (want and want.span())


@settings(max_examples=300, deadline=None)
@given(_TEXT)
def test_rule_checks_with_a_given_lower_case_line_are_the_same(s: str) -> None:
    """_spam_pass hands one `line.lower()` to spam_hits and match: as if each made its own."""
    from cleaner.stages.strip_rules import load_rules

    book = load_rules(tuple(CFG.languages))
    sh = shape(s)
    for cjk in (False, True):
        assert book.spam_hits(s, cjk, s.lower()) == book.spam_hits(s, cjk)
        for full in (False, True):
            given_low = book.match(s, sh.units, False, cjk, full, s.lower())
            assert given_low == book.match(s, sh.units, False, cjk, full)
