"""Repair stage: undo what broke the text on its way here, without touching what is clean.

Passes, in order (each one records replayable edits): HTML residue (entities, stray tags) ->
ftfy with CJK-safe settings (only on lines that look broken) -> GBK mojibake -> GBK byte damage
-> pinyin glosses -> invisible characters. Conversion to simplified is the convert stage's job.
"""

from __future__ import annotations

import html
import re
from functools import lru_cache
from typing import Any

from cleaner.config import RepairConfig
from cleaner.document import Document, Edit, Rewriter
from cleaner.stages.repair_gbk import fix_gbk_damage, fix_gbk_mojibake
from cleaner.stages.repair_pinyin import remove_pinyin_glosses

STAGE = "repair"

# --- HTML residue ----------------------------------------------------------------------------

# `;` is required: `&para=5` in a URL is not an entity. Repeated `amp;` is double escaping.
_ENTITY = re.compile(r"&(?:amp;)*(#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")
_INLINE = (
    "a|abbr|b|bdi|bdo|big|cite|code|del|dfn|em|font|i|ins|kbd|mark|q|s|samp|small|span|strike"
    "|strong|sub|sup|time|tt|u|var|wbr|p|div|section|article|header|footer|li|ul|ol|h[1-6]"
    "|blockquote|figure|figcaption|table|tr|td|th|tbody|thead|img|label|nobr|center"
)
# A tag needs a known name and name=value attributes, so `a < b`, `a<b und c > d`, `<3` and
# `x<y && z>w` are not tags.
_ATTRS = r"""(?:\s+[A-Za-z_:][\w:.-]*\s*=\s*(?:"[^"<>]*"|'[^'<>]*'|[^\s"'<>=`]+))*\s*/?"""
_TAG = re.compile(rf"<(?:/(?:{_INLINE})\s*|(?:{_INLINE}){_ATTRS})>", re.IGNORECASE)
_BR = re.compile(rf"<br{_ATTRS}>", re.IGNORECASE)
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
        rw.sub(_TAG, "", "html-tag")
    if ">" in text:
        rw.sub(_ORPHAN, "", "orphan-tag", "closing tag whose '<' was lost")
    return rw.apply(edits)


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
_PAIR = re.compile(
    "[" + "".join(map(re.escape, sorted(_ANY_LEAD))) + "]"
    "[" + "".join(map(re.escape, sorted(_ANY_CONT))) + "]"
)
_LOST_A0 = re.compile(r"[\xc2\xc3]\s")


def _suspect(text: str) -> bool:
    """A lead/continuation pair of one code page (the merged regex over-approximates)."""
    for m in _PAIR.finditer(text):
        a, b = m.group()[0], m.group()[1]
        if any(a in lead and b in cont for lead, cont in _PAIRS):
            return True
    return ("\xc2" in text or "\xc3" in text) and bool(_LOST_A0.search(text))


def _looks_broken(text: str, is_bad: Any) -> bool:
    if _CONTROL.search(text):
        return True
    return _suspect(text) and bool(is_bad(text))


def _plan(explanation: Any) -> str:
    return ", ".join(f"{step} {arg}" for step, arg in explanation or ())


def fix_encoding(text: str, edits: list[Edit]) -> str:
    """Run ftfy on the lines that look broken; clean text skips it entirely (it is slow)."""
    if text.isascii() and not _CONTROL.search(text):
        return text
    if not _CONTROL.search(text) and not _suspect(text):
        return text
    fix_and_explain, is_bad, cfg = _ftfy()
    rw = Rewriter(text, STAGE)
    pos = 0
    for line in text.split("\n"):
        if line and _looks_broken(line, is_bad):
            fixed, explanation = fix_and_explain(line, config=cfg)
            if fixed != line:
                a, b = _trim_common(line, fixed)
                rw.replace(pos + a, pos + len(line) - b, fixed[a : len(fixed) - b], "ftfy",
                           _plan(explanation))
        pos += len(line) + 1
    return rw.apply(edits)


def _trim_common(a: str, b: str) -> tuple[int, int]:
    """Lengths of the common prefix and (non-overlapping) common suffix, for a minimal edit span."""
    n = min(len(a), len(b))
    p = 0
    while p < n and a[p] == b[p]:
        p += 1
    s = 0
    while s < n - p and a[len(a) - 1 - s] == b[len(b) - 1 - s]:
        s += 1
    return p, s


# --- invisible characters ----------------------------------------------------------------------

_INVISIBLE = re.compile(r"[\u200b\u2060\ufeff\u00ad\u200e\u200f]+")
_NBSP = re.compile(r"[\u00a0\u202f\u2007]")
_ANY_INVISIBLE = re.compile(r"[\u200b\u2060\ufeff\u00ad\u200e\u200f\u00a0\u202f\u2007]")


def fix_invisibles(text: str, edits: list[Edit]) -> str:
    """Zero-width, BOM, soft hyphen, bidi marks go; no-break spaces become spaces. ZWJ stays."""
    if text.isascii() or not _ANY_INVISIBLE.search(text):
        return text
    rw = Rewriter(text, STAGE)
    rw.sub(_INVISIBLE, "", "invisible")
    rw.sub(_NBSP, " ", "nbsp")
    return rw.apply(edits)


# --- the stage ---------------------------------------------------------------------------------


def repair_text(text: str, cfg: RepairConfig | None = None) -> tuple[str, list[Edit]]:
    """Repaired text and the edits that turn `text` into it (replayable in order)."""
    cfg = cfg or RepairConfig()
    edits: list[Edit] = []
    text = fix_html_residue(text, edits)
    if cfg.fix_mojibake:
        text = fix_encoding(text, edits)
        text = fix_gbk_mojibake(text, edits)
    if cfg.fix_gbk_damage:
        text = fix_gbk_damage(text, edits)
    text = _remove_orphans(text, edits)
    if cfg.remove_pinyin_glosses:
        text = remove_pinyin_glosses(text, edits)
    text = fix_invisibles(text, edits)
    return text, edits


def repair(doc: Document, cfg: RepairConfig) -> Document:
    doc.text, edits = repair_text(doc.text, cfg)
    doc.edits.extend(edits)
    return doc
