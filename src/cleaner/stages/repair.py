"""Repair stage: undo what broke the text on its way here, without touching what is clean.

Passes, in order (each one records replayable edits): HTML residue (entities, stray tags) ->
ftfy with CJK-safe settings (only on lines that look broken) -> GBK mojibake -> GBK byte damage
-> pinyin glosses -> invisible characters. Conversion to simplified is the convert stage's job.
"""

from __future__ import annotations

import html
import re
import unicodedata
from functools import lru_cache
from typing import Any

try:  # CPython's regex parser (private): lets `_badness` prove a window search equals is_bad
    from re import _constants as sre_c  # type: ignore[attr-defined]
    from re import _parser as sre_parse  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - another Python: ftfy's own full scan is used
    sre_c = sre_parse = None

from cleaner.config import RepairConfig
from cleaner.document import Document, Edit, Rewriter
from cleaner.language import HAN
from cleaner.stages.repair_gbk import fix_gbk_damage, fix_gbk_mojibake
from cleaner.stages.repair_pinyin import remove_pinyin_glosses

STAGE = "repair"

# --- HTML residue ----------------------------------------------------------------------------

# `;` is required: `&para=5` in a URL is not an entity. Repeated `amp;` is double escaping.
_ENTITY = re.compile(r"&(?:amp;)*(#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")
_INLINE = (
    "a|abbr|b|bdi|bdo|big|cite|code|del|dfn|em|font|i|ins|kbd|mark|q|s|samp|small|span|strike"
    "|strong|sub|sup|time|tt|u|var|wbr|img|label|nobr"
)
# Tags that end a line where they stand between two words ('eins</p><p>zwei'), or a table
# cell's tags a word ('<td>A</td><td>B</td>'); at the text's edges or beside a space they go.
_BLOCK = (
    "p|div|section|article|header|footer|li|ul|ol|h[1-6]|blockquote|figure|figcaption|table"
    "|tr|tbody|thead|center|td|th"
)
_CELL = frozenset(("td", "th"))
# A tag needs a known name and name=value attributes, so `a < b`, `a<b und c > d`, `<3` and
# `x<y && z>w` are not tags.
_ATTRS = r"""(?:\s+[A-Za-z_:][\w:.-]*\s*=\s*(?:"[^"<>]*"|'[^'<>]*'|[^\s"'<>=`]+))*\s*/?"""
_TAG = re.compile(rf"<(?:/(?:{_INLINE})\s*|(?:{_INLINE}){_ATTRS})>", re.IGNORECASE)
_ONE_BLOCK = rf"<(?:/(?:{_BLOCK})\s*|(?:{_BLOCK}){_ATTRS})>"
_BLOCK_RUN = re.compile(rf"{_ONE_BLOCK}(?:\s*{_ONE_BLOCK})*", re.IGNORECASE)
_BLOCK_NAME = re.compile(r"</?\s*([A-Za-z0-9]+)")
_BR = re.compile(rf"<br{_ATTRS}>", re.IGNORECASE)
# A comment left in the text, with one of two spaces around it ('Text <!-- x --> weiter').
_COMMENT = re.compile(r" <!--.*?-->(?= )|<!--.*?-->", re.DOTALL)
# `/span>` whose `<` was lost. Not inside a URL or path (ASCII word, `/`, `:`, `=` before it);
# after `?` it belongs to GBK damage, which runs later.
_ORPHAN_NAMES = "span|strong|font|div|em|small|sup|sub|p|li|h[1-6]|b|i|u|a"
_ORPHAN = re.compile(rf"(?<![A-Za-z0-9_<?/:=-])/(?:{_ORPHAN_NAMES})>", re.IGNORECASE)
_ORPHAN_ANY = re.compile(rf"(?<![A-Za-z0-9_</:=-])/(?:{_ORPHAN_NAMES})>", re.IGNORECASE)


def _entity(m: re.Match[str]) -> str:
    decoded = html.unescape(f"&{m.group(1)};")
    return m.group() if decoded == f"&{m.group(1)};" else decoded


def fix_html_residue(text: str, edits: list[Edit]) -> str:
    if "&" not in text and "<" not in text and ">" not in text:
        return text
    rw = Rewriter(text, STAGE)
    if "&" in text:
        rw.sub(_ENTITY, _entity, "html-entity")
    if "<" in text:
        rw.sub(_BR, "\n", "html-tag", "line break")
        rw.sub(_BLOCK_RUN, lambda m: _block_break(text, m), "html-tag", "block boundary")
        rw.sub(_TAG, "", "html-tag")
        if "<!--" in text:
            rw.sub(_COMMENT, "", "html-comment")
    if ">" in text:
        rw.sub(_ORPHAN, "", "orphan-tag", "closing tag whose '<' was lost")
    return rw.apply(edits)


def _block_break(text: str, m: re.Match[str]) -> str:
    """What a run of block tags leaves: nothing at the text's edges or beside whitespace, else
    a space between table cells, or the run's own line breaks (a paragraph's blank line
    stays one), at least one."""
    start, end = m.start(), m.end()
    if start == 0 or end == len(text) or text[start - 1].isspace() or text[end].isspace():
        return ""
    names = {n.lower() for n in _BLOCK_NAME.findall(m.group())}
    if names <= _CELL:
        return " "
    return "\n" * min(2, max(1, m.group().count("\n")))


def _remove_orphans(text: str, edits: list[Edit]) -> str:
    if ">" not in text:
        return text
    rw = Rewriter(text, STAGE)
    rw.sub(_ORPHAN_ANY, "", "orphan-tag", "closing tag whose '<' was lost")
    return rw.apply(edits)


# --- ftfy --------------------------------------------------------------------------------------

# Characters ftfy acts on that `is_bad` does not look for (C0/C1 controls, surrogates, U+FFFD).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffd]")


@lru_cache(maxsize=1)
def _ftfy() -> tuple[Any, Any, Any]:
    """ftfy's fixer and bad-text test with settings that keep curly quotes and full-width forms."""
    from ftfy import TextFixerConfig, fix_and_explain
    from ftfy.badness import is_bad

    cfg = TextFixerConfig(
        unescape_html=False,  # entities are decoded above, strictly with ';'
        uncurl_quotes=False,
        fix_character_width=False,  # ，：（）２０２３ stay full-width
        fix_latin_ligatures=False,  # lossless-minded, and consistent with lines ftfy skips
        fix_line_breaks=False,  # whitespace is not ftfy's business here
        normalization=None,  # clean lines are never normalised either: same treatment for all
        explain=True,
    )
    return fix_and_explain, is_bad, cfg


# Mojibake from a single-byte code page turns a UTF-8 lead byte (C2-F4) and a continuation
# byte (80-BF) into two adjacent characters of that code page, or leaves `Ã`/`Â` before a
# space that was byte A0. ftfy's `is_bad` is an expensive regex: it only runs on lines where
# such a pair (or a control character) occurs.
_CODE_PAGES = ("latin-1", "cp1252", "cp1250", "cp1251", "cp1253", "cp1254", "cp1257",
               "iso8859_2", "mac_roman", "cp437")


def _decodable(codec: str, lo: int, hi: int) -> frozenset[str]:
    return frozenset(bytes([b]).decode(codec, "ignore") for b in range(lo, hi + 1)) - {""}


_PAIRS = tuple((_decodable(c, 0xC2, 0xF4), _decodable(c, 0x80, 0xBF)) for c in _CODE_PAGES)
_ANY_LEAD = frozenset().union(*(lead for lead, _ in _PAIRS))
_ANY_CONT = frozenset().union(*(cont for _, cont in _PAIRS))
_LEAD_CHARS = "".join(map(re.escape, sorted(_ANY_LEAD)))  # members of a character class
_CONT_CHARS = "".join(map(re.escape, sorted(_ANY_CONT)))
_PAIR = re.compile(f"[{_LEAD_CHARS}][{_CONT_CHARS}]")
_LOST_A0 = re.compile(r"[\xc2\xc3]\s")


# lead character -> the continuation characters of the code pages it is a lead of: a pair
# is one code page's exactly when its second character is in its first one's set
_CONT_AFTER = {a: frozenset().union(*(cont for lead, cont in _PAIRS if a in lead)) for a in _ANY_LEAD}


def _suspect(text: str) -> bool:
    """A lead/continuation pair of one code page (the merged regex over-approximates)."""
    for m in _PAIR.finditer(text):
        pair = m.group()
        if pair[1] in _CONT_AFTER[pair[0]]:
            return True
    return ("\xc2" in text or "\xc3" in text) and bool(_LOST_A0.search(text))


# Characters ftfy's remove_control_chars deletes that `_CONTROL` does not cover.
_FTFY_ONLY_CONTROL = re.compile(r"[\u206a-\u206f\ufeff\ufff9-\ufffc]")


def _needs_ftfy(line: str, is_bad: Any) -> bool:
    """Whether to hand the line to ftfy: controls, or a code-page pair and ftfy's `is_bad`.

    ftfy's first step is `is_bad` itself, and on a line without controls (nor the few
    characters only its control-character pass removes) a line that is not bad comes back
    unchanged: such a suspect line goes straight to ftfy, which saves one `is_bad` scan
    (the costly regex) on every broken line with no change in what gets fixed.
    """
    if _CONTROL.search(line):
        return True
    if not _suspect(line):
        return False
    return not _FTFY_ONLY_CONTROL.search(line) or bool(is_bad(line))


# ftfy.fix_and_explain's fixers after the encoding step, in its order (the config turns some off).
_FTFY_FIXERS = ("fix_c1_controls", "fix_latin_ligatures", "fix_character_width", "uncurl_quotes",
                "fix_line_breaks", "fix_surrogates", "remove_terminal_escapes", "remove_control_chars")


# `_CONTROL` and `_FTFY_ONLY_CONTROL` as one class: one scan of a repaired line, not two.
_FIXABLE = re.compile("[" + _CONTROL.pattern[1:-1] + _FTFY_ONLY_CONTROL.pattern[1:-1] + "]")


def _fixers_act(text: str) -> bool:
    """Whether one of the fixers that `_ftfy()`'s config turns on can change `text`.

    Those are fix_c1_controls (U+0080-U+009F), fix_surrogates (U+D800-U+DFFF),
    remove_terminal_escapes (needs ESC) and remove_control_chars (ftfy's CONTROL_CHARS:
    C0 controls but tab, newlines and form feed; U+007F; U+206A-U+206F; U+FEFF;
    U+FFF9-U+FFFC); `_CONTROL` and `_FTFY_ONLY_CONTROL` together cover every one of them.
    On most repaired lines there is none, and remove_control_chars alone (a str.translate
    with a dict, a lookup per character) costs more than the rest of the round.
    """
    return _FIXABLE.search(text) is not None


def _fix_line(line: str, cfg: Any) -> tuple[str, list[Any]]:
    """`ftfy.fix_and_explain(line, config=cfg)` for our config, same text and explanation.

    fix_and_explain repeats [encoding steps until one changes nothing, then the fixers] until a
    round changes nothing, so a repaired line costs a second round whose encoding step runs
    `is_bad` (a full regex scan of the now clean line) on a text the first round already found
    to be a fixed point. Here a text the encoding step returned unchanged with an empty plan
    is remembered and not re-examined, and the fixers are skipped on a text that holds no
    character they act on (`_fixers_act`, not asked twice about one text: a repaired line
    comes back to it unchanged in the closing round): each would return it unchanged. Falls
    back to fix_and_explain if ftfy's internals moved.
    """
    import ftfy

    one_step = getattr(ftfy, "_fix_encoding_one_step_and_explain", None)
    try_fix = getattr(ftfy, "_try_fix", None)
    if one_step is None or try_fix is None:  # pragma: no cover - another ftfy version
        fixed, explanation = ftfy.fix_and_explain(line, config=cfg)
        return fixed, list(explanation or ())
    steps: list[Any] = []
    text = line
    settled: str | None = None  # one_step(settled) == (settled, [])
    inert: str | None = None  # not _fixers_act(inert)
    while True:
        origtext = text
        text = try_fix("unescape_html", text, cfg, steps)
        while text != settled:
            prevtext = text
            # one_step returns a text it finds not `is_bad` as it is, with no plan; on a
            # repaired line that verdict costs a full BADNESS_RE scan, `_maybe_bad` a few
            # short ones. The line itself passed `_needs_ftfy` and is nearly always bad (its
            # is_bad stops at the first match): it goes to one_step without the pre-check.
            text, plan = one_step(text, cfg) if text is line or _maybe_bad(text) else (text, [])
            if plan:
                steps.extend(plan)
            if text == prevtext:
                if not plan:
                    settled = text
                break
        if text == inert or not _fixers_act(text):  # they would return the text unchanged
            inert = text
            if text == origtext:
                return text, steps
            continue  # as after a round of fixers that changed nothing
        for fixer in _FTFY_FIXERS:
            text = try_fix(fixer, text, cfg, steps)
        if text == origtext:
            return text, steps


# --- a cheaper `is_bad`: search only around the characters a match must contain --------------

# A class's weight when it is chosen as the one a match must contain: how often its characters
# turn up in ordinary text. ASCII is everywhere, letters (à, é, Ж) often, signs (µ, ¦, €) seldom.
_ASCII_WEIGHT, _LETTER_WEIGHT = 10_000, 100


def _class_ranges(op: Any, av: Any) -> list[tuple[int, int]] | None:
    """The code points one LITERAL or positive IN item matches, as ranges; None otherwise
    (a negated class, a category such as \\s: no small set of characters)."""
    if op is sre_c.LITERAL:
        return [(av, av)]
    if op is not sre_c.IN:
        return None
    ranges = []
    for o, v in av:
        if o is sre_c.LITERAL:
            ranges.append((v, v))
        elif o is sre_c.RANGE:
            ranges.append((v[0], v[1]))
        else:
            return None
    return ranges


def _weight(ranges: list[tuple[int, int]]) -> int:
    """How common the characters of `ranges` are in clean text (see `_ASCII_WEIGHT`)."""
    total = 0
    for lo, hi in ranges:
        for c in range(lo, min(hi, 0x2FFFF) + 1):
            if c < 0x80:
                total += _ASCII_WEIGHT
            else:
                total += _LETTER_WEIGHT if " LETTER " in unicodedata.name(chr(c), "") else 1
    return total


def _required(items: Any, state: Any) -> tuple[list[tuple[int, int]], int] | None:
    """(ranges, lead): every match of this parsed sequence consumes a character of `ranges`
    at most `lead` characters after its start. The least common such set is chosen (any
    is correct); None when none can be proven."""
    best: tuple[int, list[tuple[int, int]], int] | None = None
    before: int | None = 0  # the most characters the items so far consume
    for op, av in items:
        got: tuple[list[tuple[int, int]], int] | None = None
        ranges = _class_ranges(op, av)
        if ranges is not None:
            got = ranges, 0
        elif op is sre_c.SUBPATTERN and not av[1] & re.IGNORECASE:  # (?i:...) widens classes
            got = _required(av[-1], state)
        elif op is sre_c.BRANCH:
            alts = [_required(alt, state) for alt in av[1]]
            if all(a is not None for a in alts):
                got = ([r for a in alts for r in a[0]], max(a[1] for a in alts))  # type: ignore[index]
        elif op in (sre_c.MAX_REPEAT, sre_c.MIN_REPEAT) and av[0] >= 1:
            got = _required(av[2], state)  # its first round consumes the character
        if got is not None and before is not None:
            weight = _weight(got[0])
            if best is None or weight < best[0]:
                best = weight, got[0], before + got[1]
        width = sre_parse.SubPattern(state, [(op, av)]).getwidth()[1]
        before = None if before is None or width >= sre_c.MAXREPEAT else before + width
    return None if best is None else (best[1], best[2])


def _zero_width_free(items: Any) -> bool:
    """No lookarounds, back references or anchors other than the start of the text: a match
    depends only on the characters it consumes (and `^` on the real start of the text, which
    `search(text, pos, endpos)` keeps), so searching a window finds exactly the matches
    that lie inside it."""
    for op, av in items:
        if op is sre_c.AT and av not in (sre_c.AT_BEGINNING, sre_c.AT_BEGINNING_STRING):
            return False
        if op in (sre_c.ASSERT, sre_c.ASSERT_NOT, sre_c.GROUPREF, sre_c.GROUPREF_EXISTS):
            return False
        if op is sre_c.SUBPATTERN and not _zero_width_free(av[-1]):
            return False
        if op is sre_c.BRANCH and not all(_zero_width_free(alt) for alt in av[1]):
            return False
        if op in (sre_c.MAX_REPEAT, sre_c.MIN_REPEAT) and not _zero_width_free(av[2]):
            return False
        if op not in _KNOWN_OPS:
            return False
    return True


_KNOWN_OPS = (
    (sre_c.LITERAL, sre_c.NOT_LITERAL, sre_c.IN, sre_c.ANY, sre_c.SUBPATTERN, sre_c.BRANCH,
     sre_c.MAX_REPEAT, sre_c.MIN_REPEAT, sre_c.CATEGORY, sre_c.AT)
    if sre_c is not None else ()
)


def _class_text(ranges: list[tuple[int, int]], negate: bool = False) -> str:
    body = "".join(re.escape(chr(lo)) if lo == hi else f"{re.escape(chr(lo))}-{re.escape(chr(hi))}"
                   for lo, hi in sorted(set(ranges)))
    return f"[{'^' if negate else ''}{body}]"


@lru_cache(maxsize=1)
def _badness() -> tuple[re.Pattern[str], int, int, re.Pattern[str]] | None:
    """(ftfy's BADNESS_RE, the most characters a match spans, lead, clusters) when every
    match of it spans a bounded number of characters, one of them from a set R at most
    `lead` characters after its start, with no lookaround; else None. `is_bad(text)` is
    `BADNESS_RE.search(text)`: then a match, if any, starts at most `lead` characters before
    a character of R and ends within `width` after it: only those windows need searching.

    R takes, from each alternative, the class its matches must consume whose characters are
    rarest in clean text (`¦¤¨ƒ†‡‰` rather than `à-ñ`, `ÃÂ` rather than a space): most
    repaired lines hold none, and one scan for R (in C) clears them. `clusters` finds runs
    of R's characters whose windows overlap or touch (at most width + lead - 1 others between
    neighbours), one window each."""
    from ftfy import badness

    pattern = getattr(badness, "BADNESS_RE", None)
    if sre_parse is None or not isinstance(pattern, re.Pattern) or pattern.flags & re.IGNORECASE:
        return None  # pragma: no cover - another ftfy
    parsed = sre_parse.parse(pattern.pattern, pattern.flags)
    width = parsed.getwidth()[1]
    req = _required(parsed, parsed.state)
    if not _zero_width_free(parsed) or req is None or not 0 < width < 64:
        return None  # pragma: no cover - another ftfy
    ranges, lead = req
    lead = min(lead, width - 1)
    r, not_r = _class_text(ranges), _class_text(ranges, negate=True)
    clusters = re.compile(f"{r}(?:{not_r}{{0,{width + lead - 1}}}{r})*")
    return pattern, width, lead, clusters


def _maybe_bad(text: str) -> bool:
    """False only where ftfy's `is_bad(text)` is False, without scanning the whole text:
    BADNESS_RE is searched only around the characters of R (see `_badness`).

    A match's character of R at f lies at most `lead` after its start and the match ends
    before f + width, so the window of a character of R at i is [i - lead, i + width).
    Windows of characters at most width + lead apart merge, so one regex match per merged
    cluster (not a Python step per character) gives the windows to search.
    """
    got = _badness()
    if got is None:
        return True
    pattern, width, lead, clusters = got
    n = len(text)
    for m in clusters.finditer(text):
        if pattern.search(text, max(0, m.start() - lead), min(n, m.end() - 1 + width)):
            return True
    return False


def _plan(explanation: Any) -> str:
    return ", ".join(f"{step} {arg}" for step, arg in explanation or ())


def fix_encoding(text: str, edits: list[Edit]) -> str:
    """Run ftfy on the lines that look broken; clean text skips it entirely (it is slow)."""
    if not _CONTROL.search(text) and (text.isascii() or not _suspect(text)):
        return text
    rw = Rewriter(text, STAGE)
    pos = 0
    for line in text.split("\n"):
        if line:
            got = _line_fix(line)
            if got is not None:
                a, b, after, plan = got
                rw.replace(pos + a, pos + len(line) - b, after, "ftfy", plan)
        pos += len(line) + 1
    return rw.apply(edits)


# UTF-8 Cyrillic read as KOI8-R (ftfy has no KOI8-R): the lead bytes D0/D1 become п/я and
# every continuation byte one of KOI8-R's box-drawing and maths signs ('п∙я│п╩п╦' for
# 'Если'). Cyrillic text never pairs п or я with those, so two such pairs in a run (with
# ASCII between) are the evidence; the run must then decode as UTF-8.
_KOI8_CONT = bytes(range(0x80, 0xC0)).decode("koi8-r")
_KOI8_PAIR = f"[пя][{re.escape(_KOI8_CONT)}]"
_KOI8_RUN = re.compile(f"{_KOI8_PAIR}(?:[ -~]*{_KOI8_PAIR})+")


def fix_koi8r_mojibake(text: str, edits: list[Edit]) -> str:
    """Repair runs of UTF-8 text that were decoded as KOI8-R."""
    if text.isascii() or ("п" not in text and "я" not in text) or not _KOI8_RUN.search(text):
        return text
    rw = Rewriter(text, STAGE)
    for m in _KOI8_RUN.finditer(text):
        try:
            fixed = m.group().encode("koi8-r").decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            continue
        rw.replace(m.start(), m.end(), fixed, "koi8r-mojibake", "encode koi8-r, decode utf-8")
    return rw.apply(edits)


def clear_memo() -> None:
    """Forget the remembered line fixes (benchmarks of first-sight cost; tests)."""
    _line_fix.cache_clear()


@lru_cache(maxsize=4096)
def _line_fix(line: str) -> tuple[int, int, str, str] | None:
    """What ftfy changes in one line: (common prefix, common suffix, new middle, plan), or
    None. A pure function of the line, remembered: the chrome of a mojibake site (menus,
    footers) is broken the same way on every page, and ftfy is the slowest step of repair."""
    _, is_bad, cfg = _ftfy()
    if not _needs_ftfy(line, is_bad):
        return None
    fixed, explanation = _fix_line(line, cfg)
    if fixed == line:
        return None
    a, b = _trim_common(line, fixed)
    return a, b, fixed[a : len(fixed) - b], _plan(explanation)


def _trim_common(a: str, b: str) -> tuple[int, int]:
    """Lengths of the common prefix and (non-overlapping) common suffix, for a minimal edit span.

    Binary search with slice comparisons (C speed) rather than a loop per character.
    """
    n = min(len(a), len(b))
    lo, hi = 0, n  # a[:lo] == b[:lo]; the prefix is no longer than hi
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if a[lo:mid] == b[lo:mid]:
            lo = mid
        else:
            hi = mid - 1
    p = lo
    la, lb = len(a), len(b)
    lo, hi = 0, n - p  # the last lo characters agree
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if a[la - mid : la - lo] == b[lb - mid : lb - lo]:
            lo = mid
        else:
            hi = mid - 1
    return p, lo


# --- invisible characters ----------------------------------------------------------------------

# Zero-width space, word joiner, BOM, soft hyphen; the bidi controls (marks, embeddings and
# overrides, isolates), the deprecated format controls and interlinear annotation marks (ftfy's
# remove_control_chars has these two, but clean-looking text never reaches ftfy here) and the
# Mongolian vowel separator: none shows, none is a letter's. ZWJ/ZWNJ (emoji sequences,
# Persian and Indic words) and variation selectors stay.
_INVISIBLE_CHARS = "\u200b\u2060\ufeff\u00ad\u200e\u200f\u202a-\u202e\u2066-\u206f\ufff9-\ufffb\u180e"
_INVISIBLE = re.compile(f"[{_INVISIBLE_CHARS}]+")
# A no-break space with the spaces around it: one space inside a line, nothing at its edges
# (HTML's "&nbsp; &nbsp;" indents and fillers; extract leaves them to repair, see extract_render).
_NBSP = re.compile(r"[ \u00a0\u202f\u2007]*[\u00a0\u202f\u2007][ \u00a0\u202f\u2007]*")
_ANY_INVISIBLE = re.compile(f"[{_INVISIBLE_CHARS}\u00a0\u202f\u2007]")


def fix_invisibles(text: str, edits: list[Edit]) -> str:
    """Zero-width, BOM, soft hyphen, bidi and format controls go; no-break spaces become
    spaces (a run of them and spaces one space; at a line's edges nothing). ZWJ stays."""
    if text.isascii() or not _ANY_INVISIBLE.search(text):
        return text
    rw = Rewriter(text, STAGE)
    rw.sub(_INVISIBLE, "", "invisible")
    rw.sub(_NBSP, lambda m: _nbsp_run(text, m), "nbsp")
    return rw.apply(edits)


def _nbsp_run(text: str, m: re.Match[str]) -> str:
    edge = m.start() == 0 or text[m.start() - 1] in "\r\n" or m.end() == len(text) or text[m.end()] in "\r\n"
    return "" if edge else " "


# --- the stage ---------------------------------------------------------------------------------


def _inner(pattern: re.Pattern[str]) -> str:
    """The members of a one-character-class pattern `[...]`, to merge classes into one."""
    body = pattern.pattern
    if not (body.startswith("[") and body.endswith("]") and not body.startswith("[^")):
        raise ValueError(f"not a character class: {body!r}")  # pragma: no cover - edited above
    return body[1:-1]


# Every character that makes a pass after the HTML one look further: controls (ftfy), Â/Ã
# (`_suspect`'s lost A0), Han (GBK mojibake, pinyin glosses), invisibles. One class, one scan;
# with `_PAIR` (the rest of `_suspect`) it clears almost every document at once.
_PASS_CHARS = re.compile(
    "[" + _inner(_CONTROL) + "\xc2\xc3" + _inner(HAN) + _inner(_ANY_INVISIBLE) + "]"
)
# `_PASS_CHARS.search(text) or _PAIR.search(text)` in one scan: a character of either first
# set, which is one of `_PASS_CHARS` (the lookbehind) or followed by a continuation character.
# A single class at the front lets the regex engine skip ahead to candidates in C; two scans
# cost twice as much on the accented text (most documents) that has none.
_NOT_PLAIN = re.compile(
    f"[{_inner(_PASS_CHARS)}{_LEAD_CHARS}](?:(?<={_PASS_CHARS.pattern})|[{_CONT_CHARS}])"
)


def _plain(text: str) -> bool:
    """True when fix_encoding, fix_gbk_mojibake, remove_pinyin_glosses and fix_invisibles
    would each return `text` unchanged after their own (separate, full) scans: none of
    `_PASS_CHARS` and no `_PAIR`, so no control, nothing `_suspect`, no Han, no invisible."""
    return not _NOT_PLAIN.search(text)


def repair_text(text: str, cfg: RepairConfig | None = None) -> tuple[str, list[Edit]]:
    """Repaired text and the edits that turn `text` into it (replayable in order)."""
    cfg = cfg or RepairConfig()
    edits: list[Edit] = []
    text = fix_html_residue(text, edits)
    if cfg.fix_mojibake:
        text = fix_koi8r_mojibake(text, edits)
    plain = _plain(text)  # the passes that scan for these may be skipped; any change re-opens them
    if cfg.fix_mojibake and not plain:
        text = fix_encoding(text, edits)
        text = fix_gbk_mojibake(text, edits)
        plain = _plain(text)
    if cfg.fix_gbk_damage:
        before = text
        text = fix_gbk_damage(text, edits)
        plain = plain and text is before
    before = text
    text = _remove_orphans(text, edits)
    plain = plain and text is before
    if cfg.remove_pinyin_glosses and not plain:
        text = remove_pinyin_glosses(text, edits)
    if not plain:
        text = fix_invisibles(text, edits)
    return text, edits


def repair(doc: Document, cfg: RepairConfig) -> Document:
    doc.text, edits = repair_text(doc.text, cfg)
    doc.edits.extend(edits)
    return doc
